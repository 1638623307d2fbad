package main

import "testing"

func TestSbomUsageErrors(t *testing.T) {
	checkUsageErrors(t, t.TempDir(), []usageCase{
		{"no service", []string{"sbom"}, "accepts 1 arg"},
		{"two services", []string{"sbom", "redis", "nginx"}, "accepts 1 arg"},
		{"unknown service", []string{"sbom", "nosuch"}, `unknown service "nosuch"`},
		{"bad format", []string{"sbom", "--format", "cyclonedx", "redis"}, "use spdx-json or table"},
		{"latest tag", []string{"sbom", "--tag", "latest", "redis"}, "other than latest"},
	})
}

func TestAttestUsageErrors(t *testing.T) {
	checkUsageErrors(t, t.TempDir(), []usageCase{
		{"bad provenance", []string{"build", "--provenance", "full", "redis"}, "use max, min or none"},
		{"negative epoch", []string{"build", "--source-date-epoch", "-5", "redis"}, "0 or more"},
		{"epoch not a number", []string{"build", "--source-date-epoch", "yesterday", "redis"}, "invalid argument"},
	})
}

func TestReproUsageErrors(t *testing.T) {
	checkUsageErrors(t, t.TempDir(), []usageCase{
		{"unknown service", []string{"repro", "nosuch"}, `unknown service "nosuch"`},
		{"bad format", []string{"repro", "--format", "xml"}, "use table or json"},
		{"bad progress", []string{"repro", "--progress", "fancy"}, "use auto, tty, plain, rawjson or quiet"},
		{"negative epoch", []string{"repro", "--source-date-epoch", "-1"}, "0 or more"},
	})
}
