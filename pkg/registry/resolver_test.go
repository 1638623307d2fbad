package registry

import (
	"os"
	"path/filepath"
	"testing"

	dockerconfig "github.com/docker/cli/cli/config"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckRef(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "127.0.0.1:5000/inception/debian:bookworm", want: "127.0.0.1:5000/inception/debian:bookworm"},
		{in: "registry.example.com/debian@sha256:" + sixtyFour, want: "registry.example.com/debian@sha256:" + sixtyFour},
		{in: "localhost/base:1", want: "localhost/base:1"},
		{in: "inception/debian:bookworm", err: "name the registry"},
		{in: "debian:bookworm", err: "name the registry"},
		{in: "registry.example.com/debian", err: "give a tag"},
		{in: "registry.example.com/Debian:1", err: "invalid registry reference"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CheckRef(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrReference)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCredentials(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{
		"127.0.0.1:5000":{"auth":"Y2k6czNjcmV0"},
		"https://index.docker.io/v1/":{"auth":"aHViOnB3"}}}`), 0o600))
	_, err := NewResolver(WithDockerConfig(dir))
	require.NoError(t, err)
	cf, err := dockerconfig.Load(dir)
	require.NoError(t, err)
	creds := credentials(cf)
	for host, want := range map[string][2]string{
		"127.0.0.1:5000":       {"ci", "s3cret"},
		"registry-1.docker.io": {"hub", "pw"},
		"other.example.com":    {"", ""},
	} {
		u, p, err := creds(host)
		require.NoError(t, err)
		assert.Equal(t, want, [2]string{u, p}, host)
	}

	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{`), 0o600))
	_, err = NewResolver(WithDockerConfig(bad))
	assert.ErrorContains(t, err, bad)
}
