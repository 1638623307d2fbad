package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testregistry"
	"github.com/inceptionctl/inception/internal/testutil"
)

// TestUpFromRegistry: the images pushed by `build --push` run from the
// registry with `up --registry` (every image pulled, one service started),
// and ps names the digest it runs. A tag the
// registry does not have fails before anything starts, naming the
// reference and the registry's answer.
func TestUpFromRegistry(t *testing.T) {
	testutil.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	reg := testregistry.Start(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	repo := reg.Host + "/inception"
	meta := filepath.Join(t.TempDir(), "meta.json")
	_, _, err := run(ctx, "build", "--progress", "quiet", "--push", "--registry", repo, "--metadata-file", meta)
	require.NoError(t, err)
	var md map[string]map[string]any
	dt, err := os.ReadFile(meta)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &md))
	pushed, _ := md["redis"]["containerimage.digest"].(string)
	require.NotEmpty(t, pushed)

	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	require.NoError(t, os.WriteFile(envFile, nil, 0o644))
	stackFlags := []string{"-p", "regup", "--env-file", envFile, "--data-dir", filepath.Join(dir, "data"),
		"--secrets-dir", filepath.Join(dir, "secrets"), "--host-ip", "127.0.0.1"}
	cmd := func(args ...string) []string { return append(append([]string{args[0]}, stackFlags...), args[1:]...) }
	t.Cleanup(func() {
		_, _, err := run(context.Background(), cmd("down")...)
		assert.NoError(t, err)
	})

	_, _, err = run(ctx, cmd("up", "-d", "--registry", repo, "--tag", "nope", "redis")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), repo+"/nginx:nope", "the first image pulled")
	assert.Contains(t, err.Error(), "the registry at "+reg.Host+" answered")
	assert.Contains(t, err.Error(), "not found")
	out, _, err := run(ctx, cmd("ps", "--format", "json")...)
	require.NoError(t, err)
	var none []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &none))
	assert.Empty(t, none, "nothing started")

	_, errOut, err := run(ctx, cmd("up", "-d", "--wait", "--wait-timeout", "3m", "--registry", repo, "redis")...)
	require.NoError(t, err)
	assert.Contains(t, errOut, "pull "+repo+"/redis:bookworm: manifest", "pull progress")
	out, _, err = run(ctx, cmd("ps", "--format", "json")...)
	require.NoError(t, err)
	var ps []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &ps))
	require.Len(t, ps, 1)
	assert.Equal(t, "running", ps[0]["state"])
	assert.Equal(t, repo+"/redis:bookworm", ps[0]["image"])
	assert.Equal(t, pushed, ps[0]["imageDigest"], "the container runs what was pushed")
}
