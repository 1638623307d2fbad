package integration

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// TestBenchComposeVariant runs a tiny `inceptionctl bench` with the
// compose variant next to llb: nginx, no change and a config change, one
// run each, on the test's engine and a private dockerd the bench starts
// (make docker-peer's docker.io and compose plugin). It checks the JSON
// report: both variants measured, positive figures, and the vertex counts
// saying what docker compose rebuilt: nothing with no change, the config
// file's COPY (and what follows it) with a change, never the package
// install. No timing is asserted.
func TestBenchComposeVariant(t *testing.T) {
	ctx0, e := setup(t)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx0), 20*time.Minute)
	t.Cleanup(cancel)
	config := os.Getenv("INCEPTION_DOCKER_CONFIG")
	if config == "" {
		config = filepath.Join(repoRoot(t), "bin", "docker-config")
	}
	if _, err := dockerpeer.Find(config); errors.Is(err, dockerpeer.ErrMissing) {
		testutil.Skip(t, err.Error())
	}
	ctl := filepath.Join(repoRoot(t), "bin", "inceptionctl")
	if _, err := os.Stat(ctl); err != nil {
		testutil.Skip(t, ctl+" missing: make inceptionctl (make test builds it)")
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	// The test's engine may sit at the default root (make test's does):
	// it is the test's own, so the bench may prune its build cache.
	cmd := exec.CommandContext(ctx, ctl, "--root", e.engine.Root(), "--run-dir", e.engine.RunDir(),
		"bench", "--prune-default-engine",
		"--images", "nginx", "--scenarios", "no-change,config-change", "--variants", "llb,compose",
		"--repeats", "1", "--passes", "1", "--min-time", "0", "--docker-config", config, "--export-json", out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "inceptionctl bench:\n%s", dockerpeer.LastLines(stderr.String(), 60))
	t.Logf("inceptionctl bench:\n%s", stdout)
	assert.Contains(t, string(stdout), "COMPOSE s [min-max] ran", "a column of its own")
	assert.Contains(t, stderr.String(), "starting a private dockerd in "+filepath.Join(e.engine.Root(), "bench-compose"))

	rep, err := report.Read(out)
	require.NoError(t, err)
	assert.Equal(t, []report.Variant{report.VariantLLB, report.VariantCompose}, rep.Variants)
	got := map[string]report.Result{}
	for _, r := range rep.Results {
		got[r.Name()+" "+string(r.Variant)] = r
	}
	for _, sc := range []report.Scenario{report.ScenarioNoChange, report.ScenarioConfig} {
		for _, v := range []report.Variant{report.VariantLLB, report.VariantCompose} {
			name := string(sc) + "/nginx " + string(v)
			r, ok := got[name]
			if !assert.True(t, ok, "%s measured", name) {
				continue
			}
			require.Len(t, r.Runs, 1, name)
			assert.Positive(t, r.Median, name)
			assert.Less(t, r.Median, 600.0, "%s: seconds", name)
			assert.Positive(t, r.Vertices, name)
		}
	}
	noChange := got["no-change/nginx compose"]
	assert.Equal(t, noChange.Vertices, noChange.Cached, "no change: every Dockerfile step from dockerd's cache")
	cfg := got["config-change/nginx compose"]
	ran := cfg.Ran["nginx"]
	require.NotEmpty(t, ran, "the config change is rebuilt")
	assert.Contains(t, strings.Join(ran, "\n"), "COPY", "the changed file's COPY ran")
	for _, n := range ran {
		assert.NotContains(t, n, "apt-get install", "the package install stays cached")
	}
	assert.Less(t, cfg.Vertices-cfg.Cached, cfg.Vertices, "a config change rebuilds part of the image, not all of it")
	_, err = os.Stat(filepath.Join(e.engine.Root(), "bench-compose", "tree", "srcs", "docker-compose.yml"))
	assert.NoError(t, err, "the exported tree is in the bench's directory under the engine root")
}
