package integration

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchreport"
	"github.com/inceptionctl/inception/internal/daemons"
	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// TestBenchSecondRunner runs the second-runner scenario on nginx alone,
// once: a real registry, the engine's builder pushing nginx and its cache,
// then real fresh OCI-worker builders, two with that cache (one pushes,
// one exports a tarball) and one without. The one with the cache must take vertices from it, the one
// without must run them; every figure has its run. No timing is asserted.
func TestBenchSecondRunner(t *testing.T) {
	ctx, e := setup(t)
	bkd := os.Getenv("INCEPTION_BUILDKITD")
	if bkd == "" {
		testutil.Skip(t, "no buildkitd for the fresh builders: set INCEPTION_BUILDKITD (make test does)")
	}
	reg, err := daemons.FindRegistry()
	if err != nil {
		testutil.Skip(t, err.Error())
	}
	// Under the engine's root, as the CLI has it: the builders' overlayfs
	// snapshots need a real file system.
	dir, err := os.MkdirTemp(e.engine.Root(), "bench-second-runner-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	b, err := bench.NewSecondRunnerBench(ctx, bench.SecondRunnerSetup{
		Engine: e.bk, Containerd: e.cd, Images: []bench.Image{{Name: "nginx", Build: llbdefs.Recipes()["nginx"]}},
		BuildkitdBinary: bkd, RegistryBinary: reg, Dir: dir, CertsDir: e.engine.CertsDir(),
	}, bench.WithRepeats(1), bench.WithLog(testLog{t}))
	require.NoError(t, err)
	perr := b.Pass(ctx, 1)
	rep, cerr := b.Close(ctx)
	require.NoError(t, perr)
	require.NoError(t, cerr)

	assert.False(t, rep.PullAndUp, "nginx alone: no stack to bring up")
	figures := map[string]report.SecondRunnerResult{}
	for _, r := range rep.Results {
		figures[r.Figure] = r
	}
	require.Len(t, figures, 4, "push, with-cache, without-cache, with-cache-oci: %v", rep.Results)
	for name, r := range figures {
		require.Len(t, r.Runs, 1, name)
		assert.Positive(t, r.Median, name)
		require.Len(t, r.Runs[0].Images, 1, name)
		assert.Equal(t, "nginx", r.Runs[0].Images[0].Image, name)
		assert.Positive(t, r.Vertices, name)
	}
	with, without := figures[report.FigureWithCache], figures[report.FigureWithoutCache]
	assert.Positive(t, with.Cached, "the fresh builder with the registry cache took vertices from it")
	assert.Positive(t, figures[report.FigureWithCacheOCI].Cached, "so did the one that exports tarballs")
	assert.Less(t, without.Cached, with.Cached, "the fresh builder without it has no cache to take from")
	assert.Positive(t, without.Vertices-without.Cached, "and runs the graph")
	assert.Equal(t, with.Vertices, without.Vertices, "the same graph")
	assert.Equal(t, figures[report.FigurePush].Vertices, figures[report.FigurePush].Cached,
		"the push comes after the engine's untimed build: nothing left to run")
	assert.Empty(t, rep.Target.Name, "the bench checks no target: its caller does")
	benchreport.Defaults().Check(&report.Report{SecondRunner: rep}) // as inceptionctl bench does
	assert.False(t, rep.Target.Missing)
	assert.Positive(t, rep.Target.Ratio)

	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, d := range left {
		assert.Equal(t, "docker-config", d.Name(), "each round's registry and builders are removed")
	}
}
