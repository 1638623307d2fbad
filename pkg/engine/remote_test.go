package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckBuildkitAddress(t *testing.T) {
	tests := []struct {
		addr string
		err  string
	}{
		{addr: "unix:///run/buildkit/buildkitd.sock"},
		{addr: "tcp://127.0.0.1:1234"},
		{addr: "tcp://buildkitd.example.com:1234"},
		{addr: "tcp://[::1]:1234"},
		{addr: "docker-container://buildx_buildkit_builder0"},
		{addr: "kube-pod://buildkitd-0"},
		{addr: "kube-pod://buildkitd-0?namespace=ci&context=farm&container=buildkitd"},
		{addr: "unix://run/buildkitd.sock", err: "not absolute"},
		{addr: "tcp://127.0.0.1", err: "host and a port"},
		{addr: "tcp://:1234", err: "host and a port"},
		{addr: "tcp://127.0.0.1:1234/path", err: "no path"},
		{addr: "docker-container://", err: "name the container"},
		{addr: "kube-pod://", err: "name the pod"},
		{addr: "kube-pod://p?pod=x", err: `unknown parameter "pod"`},
		{addr: "/run/buildkitd.sock", err: "no scheme"},
		{addr: "ssh://user@host", err: `scheme "ssh" is not supported`},
		{addr: "http://host:80", err: `scheme "http" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			err := CheckBuildkitAddress(tc.addr)
			if tc.err == "" {
				require.NoError(t, err)
				_, err := New(WithBuildkitAddress(tc.addr))
				assert.NoError(t, err, "the engine takes what the check accepts")
				return
			}
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.err)
			assert.Contains(t, err.Error(), "docker-container://NAME", "the error lists the forms")
			_, err = New(WithBuildkitAddress(tc.addr))
			assert.ErrorIs(t, err, errdefs.ErrInvalidArgument)
		})
	}
}

func TestBuildkitTLS(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600))
	}
	resolved, err := BuildkitTLS{Dir: dir}.resolve()
	require.NoError(t, err)
	assert.Equal(t, BuildkitTLS{Dir: dir, CACert: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}, resolved)

	k8s := t.TempDir()
	for _, f := range []string{"ca.crt", "tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(k8s, f), []byte("x"), 0o600))
	}
	resolved, err = BuildkitTLS{Dir: k8s, CACert: "/explicit/ca"}.resolve()
	require.NoError(t, err)
	assert.Equal(t, "/explicit/ca", resolved.CACert, "a flag wins over the directory")
	assert.Equal(t, filepath.Join(k8s, "tls.crt"), resolved.Cert)

	tests := []struct {
		name string
		opts []Option
		err  string
	}{
		{"tcp with a tls dir", []Option{WithBuildkitAddress("tcp://127.0.0.1:1234"), WithBuildkitTLS(BuildkitTLS{Dir: dir})}, ""},
		{"tls without an address", []Option{WithBuildkitTLS(BuildkitTLS{Dir: dir})}, "without an external buildkitd"},
		{"tls on unix", []Option{WithBuildkitAddress("unix:///run/b.sock"), WithBuildkitTLS(BuildkitTLS{Dir: dir})}, "tcp:// addresses only"},
		{"missing file", []Option{WithBuildkitAddress("tcp://127.0.0.1:1234"), WithBuildkitTLS(BuildkitTLS{CACert: filepath.Join(dir, "nope.pem")})}, "nope.pem"},
		{"cert without key", []Option{WithBuildkitAddress("tcp://127.0.0.1:1234"), WithBuildkitTLS(BuildkitTLS{Cert: filepath.Join(dir, "cert.pem")})}, "both --tlscert and --tlskey"},
		{"empty dir", []Option{WithBuildkitAddress("tcp://127.0.0.1:1234"), WithBuildkitTLS(BuildkitTLS{Dir: t.TempDir()})}, "neither ca.pem nor ca.crt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts...)
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errdefs.ErrInvalidArgument)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}
