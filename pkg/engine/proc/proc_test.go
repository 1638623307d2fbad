package proc

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadStat(t *testing.T) {
	st, err := ReadStat(Dir, os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, os.Getppid(), st.PPID)
	assert.Equal(t, syscall.Getpgrp(), st.PGRP)
	assert.Equal(t, "R", st.State, "this process runs while it reads")
	assert.NotEmpty(t, st.Comm)

	// A command name with spaces and parentheses of its own.
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "42"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "42", "stat"), []byte("42 (a) b (c) S 7 9 9 0 -1\n"), 0o644))
	st, err = ReadStat(dir, 42)
	require.NoError(t, err)
	assert.Equal(t, Stat{Comm: "a) b (c", State: "S", PPID: 7, PGRP: 9}, st)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "42", "stat"), []byte("42 (cut"), 0o644))
	_, err = ReadStat(dir, 42)
	assert.ErrorContains(t, err, "parse /proc/42/stat")
}
