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

func TestWriteHostsLineKeepsOtherNames(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"the domain after localhost",
			"127.0.0.1 localhost jdoe.42.fr\n::1 localhost\n",
			"127.0.0.1 localhost\n127.0.0.1 jdoe.42.fr\n::1 localhost\n"},
		{"the domain first, tabs and a comment kept",
			"127.0.0.1\tjdoe.42.fr\tlocalhost # loopback\n",
			"127.0.0.1\tlocalhost # loopback\n127.0.0.1 jdoe.42.fr\n"},
		{"a line of its own is replaced in place",
			"127.0.0.1 localhost\n10.0.0.9 jdoe.42.fr # old\n192.0.2.1 other\n",
			"127.0.0.1 localhost\n127.0.0.1 jdoe.42.fr\n192.0.2.1 other\n"},
		{"every line naming it loses it, one line for it",
			"10.0.0.1 a jdoe.42.fr\n10.0.0.2 jdoe.42.fr\n10.0.0.3 b jdoe.42.fr c\n",
			"10.0.0.1 a\n127.0.0.1 jdoe.42.fr\n10.0.0.3 b c\n"},
		{"a longer name that contains it is another name",
			"127.0.0.1 localhost www.jdoe.42.fr\n",
			"127.0.0.1 localhost www.jdoe.42.fr\n127.0.0.1 jdoe.42.fr\n"},
		{"a commented name stays",
			"127.0.0.1 localhost # jdoe.42.fr\n",
			"127.0.0.1 localhost # jdoe.42.fr\n127.0.0.1 jdoe.42.fr\n"},
		{"a missing file is created", "", "127.0.0.1 jdoe.42.fr\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "hosts")
			if tc.in != "" {
				require.NoError(t, os.WriteFile(p, []byte(tc.in), 0o600))
			}
			changed, err := writeHostsLine(p, "jdoe.42.fr", "127.0.0.1 jdoe.42.fr")
			require.NoError(t, err)
			assert.Equal(t, tc.in != tc.want, changed)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(data))

			changed, err = writeHostsLine(p, "jdoe.42.fr", "127.0.0.1 jdoe.42.fr")
			require.NoError(t, err)
			assert.False(t, changed, "a second write changes nothing")
			if tc.in != "" {
				st, err := os.Stat(p)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "mode kept")
			}
		})
	}
}

func TestHostsLine(t *testing.T) {
	cfg, err := stack.NewConfig(map[string]string{"LOGIN": "jdoe"})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1 jdoe.42.fr", hostsLine(cfg), "0.0.0.0 is reached on 127.0.0.1")
	cfg.HostIP = "192.0.2.7"
	assert.Equal(t, "192.0.2.7 jdoe.42.fr", hostsLine(cfg))
}
