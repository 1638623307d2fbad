// Package scripts holds the tests of the shell scripts the make targets run.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gitRepo makes a repository in a temporary directory with files, all added.
func gitRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return dir
}

func checkTracked(t *testing.T, dir string) (string, error) {
	t.Helper()
	script, err := filepath.Abs("check-tracked.sh")
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd := exec.Command(script, dir)
	cmd.Stderr = &stderr
	err = cmd.Run()
	return stderr.String(), err
}

func TestCheckTracked(t *testing.T) {
	source := map[string][]byte{
		"main.go":          []byte("package main\n"),
		"scripts/x.sh":     []byte("#!/bin/sh\necho MZ\n"),
		"docs/chart.svg":   bytes.Repeat([]byte("<g/>"), 1000),
		"testdata/empty":   nil,
		"testdata/exactly": bytes.Repeat([]byte("a"), 1<<20),
	}
	out, err := checkTracked(t, gitRepo(t, source))
	require.NoError(t, err, "sources only: %s", out)
	assert.Empty(t, out)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"an ELF binary", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...), "depsprobe is an executable binary (ELF)"},
		{"a PE binary", append([]byte("MZ\x90\x00"), make([]byte, 64)...), "depsprobe is an executable binary (PE)"},
		{"a Mach-O binary", append([]byte("\xcf\xfa\xed\xfe"), make([]byte, 64)...), "depsprobe is an executable binary (Mach-O)"},
		{"more than 1 MiB", bytes.Repeat([]byte("a"), 1<<20+1), "depsprobe is 1048577 bytes (more than 1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"depsprobe": tc.data}
			for k, v := range source {
				files[k] = v
			}
			out, err := checkTracked(t, gitRepo(t, files))
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "output: %s", out)
			assert.Equal(t, 1, exit.ExitCode())
			assert.Contains(t, out, tc.want)
			assert.NotContains(t, out, "main.go")
		})
	}
}
