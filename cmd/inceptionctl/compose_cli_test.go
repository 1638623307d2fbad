package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const composeTestdata = "../../testdata/compose/"

// TestComposeUsageErrors: a compose file the runtime cannot run, and flags
// that belong to the Inception stack, are refused before any daemon is
// asked (nothing made under the engine's dirs), with exit code 2.
func TestComposeUsageErrors(t *testing.T) {
	t.Setenv("COMPOSE_FILE", "")
	unsupported := composeTestdata + "unsupported/compose.yaml"
	keys := composeTestdata + "keys/compose.yaml"
	checkUsageErrors(t, t.TempDir(), []usageCase{
		{"up: unsupported key", []string{"up", "-d", "-f", unsupported}, `service "app": key "privileged" is not supported`},
		{"down: unsupported key", []string{"down", "-f", unsupported}, `key "configs" is not supported`},
		{"build: unsupported key", []string{"build", "--file", unsupported}, `key "build.ssh"`},
		{"logs: --file", []string{"logs", "--file", unsupported}, "not supported"},
		{"up: cycle", []string{"up", "-d", "-f", composeTestdata + "cycle/compose.yaml"}, "dependency cycle detected: a -> b -> a"},
		{"up: missing file", []string{"up", "-d", "-f", composeTestdata + "nope.yaml"}, "nope.yaml"},
		{"up: --tag with a compose file", []string{"up", "-d", "-f", keys, "--tag", "x"}, "--tag names the Inception stack's images"},
		{"up: --hosts with a compose file", []string{"up", "-d", "-f", keys, "--hosts", "/etc/hosts"}, "--hosts writes the Inception site's line"},
		{"build: --tag with a compose file", []string{"build", "-f", keys, "--tag", "x"}, "--tag names"},
		{"config without a file", []string{"config"}, "name one with -f FILE or COMPOSE_FILE"},
		{"config: bad format", []string{"config", "-f", keys, "--format", "toml"}, `--format "toml"`},
		{"config: bad project name", []string{"-p", "Bad", "config", "-f", keys}, `project name "Bad"`},
		{"up: unknown service", []string{"up", "-d", "-f", keys, "nope"}, `"nope"`},
	})
}

func TestComposeConfig(t *testing.T) {
	t.Setenv("COMPOSE_FILE", "")
	out, _, err := run(context.Background(), "-p", "renamed", "config", "-f", composeTestdata+"keys/compose.yaml", "-f", composeTestdata+"keys/compose.override.yaml")
	require.NoError(t, err)
	assert.Contains(t, out, "name: renamed\n")
	assert.Contains(t, out, "GREETING: hello from .env", ".env interpolated")
	assert.Contains(t, out, "OVERRIDE: \"1\"", "the second file merged")
	assert.Contains(t, out, "published: \"18082\"", "port ranges expanded")

	t.Setenv("COMPOSE_FILE", composeTestdata+"keys/compose.yaml")
	out, _, err = run(context.Background(), "config", "--format", "json")
	require.NoError(t, err)
	assert.Contains(t, out, `"name": "keys"`, "COMPOSE_FILE without -f")
}
