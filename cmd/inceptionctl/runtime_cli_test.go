package main

import (
	"testing"
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
		{"ps bad format", []string{"ps", "--format", "xml"}, "use table or json"},
		{"ps argument", []string{"ps", "nginx"}, "unknown command"},
		{"logs unknown service", []string{"logs", "nosuch"}, `unknown service "nosuch"`},
		{"exec without command", []string{"exec", "nginx"}, "requires at least 2 arg(s)"},
		{"exec unknown service", []string{"exec", "nosuch", "ls"}, `unknown service "nosuch"`},
		{"stop unknown service", []string{"stop", "nosuch"}, `unknown service "nosuch"`},
		{"down argument", []string{"down", "nginx"}, "unknown command"},
	}
	checkUsageErrors(t, dir, tests)
}
