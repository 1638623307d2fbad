package engine

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewDefaults(t *testing.T) {
	e, err := New()
	require.NoError(t, err)
	assert.Equal(t, DefaultRoot, e.Root())
	assert.Equal(t, DefaultNamespace, e.Namespace())
	assert.Equal(t, "/run/inception/containerd.sock", e.ContainerdAddress())
	assert.Equal(t, "unix:///run/inception/buildkitd.sock", e.BuildkitAddress())
}

func TestNewExternal(t *testing.T) {
	e, err := New(WithContainerdAddress("unix:///run/containerd/containerd.sock"), WithBuildkitAddress("tcp://builder:1234"))
	require.NoError(t, err)
	assert.Equal(t, "/run/containerd/containerd.sock", e.ContainerdAddress(), "unix:// is stripped: the address is a socket path")
	assert.Equal(t, "tcp://builder:1234", e.BuildkitAddress())

	// Empty addresses keep the embedded daemons, as the CLI passes them.
	e, err = New(WithContainerdAddress(""), WithBuildkitAddress(""), WithBuildkitdPath(""))
	require.NoError(t, err)
	assert.Equal(t, "/run/inception/containerd.sock", e.ContainerdAddress())
}

func TestNewInvalid(t *testing.T) {
	long := "/run/" + strings.Repeat("x", 100)
	tests := []struct {
		name string
		opts []Option
		want string
	}{
		{"relative root", []Option{WithRoot("var/lib/inception")}, "root"},
		{"empty root", []Option{WithRoot("")}, "root"},
		{"relative run dir", []Option{WithRunDir("run")}, "run dir"},
		{"empty namespace", []Option{WithNamespace("")}, "namespace"},
		{"bad namespace", []Option{WithNamespace("Not Valid!")}, "namespace"},
		{"containerd over tcp", []Option{WithContainerdAddress("tcp://host:1")}, "containerd address"},
		{"relative containerd socket", []Option{WithContainerdAddress("containerd.sock")}, "containerd address"},
		{"buildkit without scheme", []Option{WithBuildkitAddress("/run/buildkit/buildkitd.sock")}, "buildkit address"},
		{"buildkit unknown scheme", []Option{WithBuildkitAddress("ssh://builder@host")}, "buildkit address"},
		{"run dir too long for sockets", []Option{WithRunDir(long)}, "shorter run dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts...)
			require.Error(t, err)
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	// A long run dir is fine when no embedded daemon puts a socket there.
	_, err := New(WithRunDir(long), WithContainerdAddress("/c.sock"), WithBuildkitAddress("tcp://b:1"))
	assert.NoError(t, err)
}
