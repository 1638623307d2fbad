package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

func TestWriteHostsLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hosts")
	orig := "127.0.0.1 localhost\n# 10.0.0.1 jdoe.42.fr (comment kept)\n::1 localhost ip6-localhost\n"
	require.NoError(t, os.WriteFile(p, []byte(orig), 0o644))

	changed, err := writeHostsLine(p, "jdoe.42.fr", "127.0.0.1 jdoe.42.fr")
	require.NoError(t, err)
	assert.True(t, changed)
	data, _ := os.ReadFile(p)
	assert.Equal(t, orig+"127.0.0.1 jdoe.42.fr\n", string(data))

	changed, err = writeHostsLine(p, "jdoe.42.fr", "127.0.0.1 jdoe.42.fr")
	require.NoError(t, err)
	assert.False(t, changed, "idempotent")

	changed, err = writeHostsLine(p, "jdoe.42.fr", "192.0.2.9 jdoe.42.fr")
	require.NoError(t, err)
	assert.True(t, changed)
	data, _ = os.ReadFile(p)
	assert.Equal(t, orig+"192.0.2.9 jdoe.42.fr\n", string(data), "an older line for the domain is replaced, not duplicated")
	st, _ := os.Stat(p)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestHostsLine(t *testing.T) {
	cfg, err := stack.NewConfig(map[string]string{"LOGIN": "jdoe"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1 jdoe.42.fr", hostsLine(cfg), "0.0.0.0 is reached on 127.0.0.1")
	cfg.HostIP = "192.0.2.7"
	assert.Equal(t, "192.0.2.7 jdoe.42.fr", hostsLine(cfg))
}
