package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportComposeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(envFile, []byte("LOGIN=jdoe\n"), 0o600))
	badEnv := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(badEnv, []byte("LOGIN=Not A Login\n"), 0o600))
	checkUsageErrors(t, dir, []usageCase{
		{"no form", []string{"export"}, "name a form"},
		{"no directory", []string{"export", "compose"}, "accepts 1 arg"},
		{"latest tag", []string{"export", "compose", filepath.Join(dir, "out"), "--env-file", envFile, "--tag", "latest"}, "other than latest"},
		{"bad env file", []string{"export", "compose", filepath.Join(dir, "out"), "--env-file", badEnv}, "LOGIN"},
	})

	full := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(full, "mine"), []byte("x"), 0o600))
	_, _, err := run(context.Background(), "export", "compose", full, "--env-file", envFile)
	var ue *usageError
	require.ErrorAs(t, err, &ue, "a directory with files is a usage error")
	assert.Contains(t, err.Error(), "give a new or empty directory")
}

func TestExportCompose(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(envFile, []byte("LOGIN=jdoe\nDB_PASSWORD=s3cret-Value-42\n"), 0o600))
	out := filepath.Join(t.TempDir(), "inception")
	_, stderr, err := run(context.Background(), "export", "compose", out, "--env-file", envFile, "--data-dir", "/srv/data", "--tag", "v2")
	require.NoError(t, err)
	assert.Contains(t, stderr, "make -C "+out)
	compose, err := os.ReadFile(filepath.Join(out, "srcs", "docker-compose.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(compose), "image: nginx:v2")
	env, err := os.ReadFile(filepath.Join(out, "srcs", ".env"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "DATA_DIR=/srv/data\n")
	assert.Contains(t, string(env), "DOMAIN_NAME=jdoe.42.fr\n")
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.NotContains(t, string(data), "s3cret-Value-42", p)
		}
		return nil
	})
	require.NoError(t, err)
}
