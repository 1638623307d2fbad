package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuntimeUsageErrors: the runtime commands refuse bad input with a
// usage error (exit 2) before any daemon is contacted.
func TestRuntimeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []usageCase{
		{"up unknown service", []string{"up", "-d", "nosuch"}, `unknown service "nosuch"`},
		{"up negative wait", []string{"up", "--wait-timeout", "-1s"}, "negative"},
		{"up latest tag", []string{"up", "--tag", "latest"}, "other than latest"},
		{"up bad host ip", []string{"up", "--host-ip", "localhost"}, "IPv4 address"},
		{"up bad subnet", []string{"up", "--subnet", "10.0.0.0/30"}, "too small"},
		{"up bad progress", []string{"up", "--progress", "fancy"}, "use auto"},
		{"up registry without host", []string{"up", "--registry", "inception"}, "name the registry"},
		{"ps bad format", []string{"ps", "--format", "xml"}, "use table or json"},
		{"ps argument", []string{"ps", "nginx"}, "unknown command"},
		{"logs unknown service", []string{"logs", "nosuch"}, `unknown service "nosuch"`},
		{"exec without command", []string{"exec", "nginx"}, "requires at least 2 arg(s)"},
		{"exec unknown service", []string{"exec", "nosuch", "ls"}, `unknown service "nosuch"`},
		{"stop unknown service", []string{"stop", "nosuch"}, `unknown service "nosuch"`},
		{"down argument", []string{"down", "nginx"}, "unknown command"},
		{"bad project name", []string{"ps", "-p", "Inception"}, `-p: invalid stack: project name "Inception"`},
		{"project name with a dot", []string{"down", "--project-name", "a.b"}, "starting with a letter or digit"},
	}
	checkUsageErrors(t, dir, tests)
}

// TestProjectName: -p, then COMPOSE_PROJECT_NAME, then a compose file's
// name, then the default, as docker compose picks it; a bad name is a
// usage error that says where it came from.
func TestProjectName(t *testing.T) {
	tests := []struct {
		name, flag, env, file, want, err string
	}{
		{name: "default", want: "inception"},
		{name: "file", file: "site", want: "site"},
		{name: "env over file", env: "dev", file: "site", want: "dev"},
		{name: "flag over all", flag: "prod", env: "dev", file: "site", want: "prod"},
		{name: "bad env", env: "Dev", err: "COMPOSE_PROJECT_NAME"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("COMPOSE_PROJECT_NAME", tc.env)
			g := &globalOptions{project: tc.flag}
			got, err := g.projectName(tc.file)
			if tc.err != "" {
				var ue *usageError
				require.ErrorAs(t, err, &ue)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
