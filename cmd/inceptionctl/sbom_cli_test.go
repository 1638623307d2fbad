package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

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

// TestBuildWritesSBOMNextToTarball: a tarball output gets its SPDX
// document beside it, and `sbom` prints the stored image's.
func TestBuildWritesSBOMNextToTarball(t *testing.T) {
	testutil.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := t.TempDir()
	_, _, err := run(ctx, "build", "--progress", "quiet", "redis", "-o", "type=oci,dest="+filepath.Join(dir, "{service}.tar"))
	require.NoError(t, err)
	doc, err := os.ReadFile(filepath.Join(dir, "redis.spdx.json"))
	require.NoError(t, err)
	assert.Contains(t, string(doc), `"spdxVersion": "SPDX-2.3"`)
	assert.Contains(t, string(doc), "pkg:deb/debian/redis-server@")

	out, _, err := run(ctx, "sbom", "--format", "table", "redis")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^deb\s+redis-server\s+\S+\s+\S+\s+redis\s+BSD-3-clause$`, out)
}
