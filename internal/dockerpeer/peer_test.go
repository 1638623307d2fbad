package dockerpeer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindMissing(t *testing.T) {
	_, err := Find("")
	require.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, "bin/docker-config")

	dir := t.TempDir()
	_, err = Find(dir)
	require.ErrorIs(t, err, ErrMissing)
	assert.ErrorContains(t, err, filepath.Join(dir, "cli-plugins", "docker-compose"))
	assert.ErrorContains(t, err, "run `make docker-peer`")

	// A plugin that is not executable is missing too.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "cli-plugins"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cli-plugins", "docker-compose"), []byte("x"), 0o644))
	_, err = Find(dir)
	assert.ErrorContains(t, err, filepath.Join(dir, "cli-plugins", "docker-compose"))
}

func TestStartRefusesWithoutBridge(t *testing.T) {
	_, err := Start(t.Context(), Tools{}, t.TempDir())
	assert.ErrorContains(t, err, "no bridge")
	_, err = Start(t.Context(), Tools{}, "relative", WithBridge("x", "10.0.0.1/24", "base=10.1.0.0/16,size=24"))
	assert.ErrorContains(t, err, "absolute path")
}

func TestEnvLeavesHostDockerOut(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///var/run/docker.sock")
	t.Setenv("COMPOSE_FILE", "elsewhere.yml")
	d := &Daemon{host: "unix:///tmp/x/docker.sock", tools: Tools{Config: "/cfg"}}
	env := d.Env("A=1")
	assert.Contains(t, env, "DOCKER_HOST=unix:///tmp/x/docker.sock")
	assert.NotContains(t, env, "DOCKER_HOST=unix:///var/run/docker.sock")
	assert.NotContains(t, env, "COMPOSE_FILE=elsewhere.yml")
	assert.Contains(t, env, "DOCKER_CONFIG=/cfg")
	assert.Equal(t, "A=1", env[len(env)-1])
}

func TestLastLines(t *testing.T) {
	assert.Equal(t, "b\nc", LastLines("a\nb\nc\n", 2))
	assert.Equal(t, "a", LastLines("a", 5))
}
