package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchreport"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// testLog writes each line of the benchmark's log to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBenchQuick runs the --quick benchmark for nginx on the real engine
// in two passes and checks the JSON report: every scenario in every
// variant, sane figures, runs split between the passes, and vertex counts
// that say what each variant rebuilt. No
// timing is asserted: timings are what the benchmark reports, not what it
// tests.
func TestBenchQuick(t *testing.T) {
	ctx, e := setup(t)
	// What --quick measures: three scenarios, three runs each.
	q := struct{ Repeats int }{Repeats: 3}
	scs := []report.Scenario{report.ScenarioNoChange, report.ScenarioConfig, report.ScenarioPackage}
	st := stack.Default()
	cases, err := bench.Plan(st.Names(), []string{"nginx"}, scs, false)
	require.NoError(t, err)
	var imgs []bench.Image
	for _, svc := range st.Services {
		imgs = append(imgs, bench.Image{Name: svc.Name, Build: llbdefs.Recipes()[svc.Build.Recipe]})
	}
	rep, err := bench.Run(ctx, e.bk, imgs, cases, bench.WithRepeats(q.Repeats), bench.WithPasses(2), bench.WithMachineReference(),
		bench.WithImageStore(e.cd.ImageService()), bench.WithLog(testLog{t}), bench.WithKeepImages())
	t.Cleanup(func() {
		for _, v := range report.Variants() {
			_ = e.cd.ImageService().Delete(context.WithoutCancel(ctx), "docker.io/library/nginx:bench-"+string(v))
		}
	})
	require.NoError(t, err)
	assert.Empty(t, rep.Targets, "the bench checks no target: its caller does")
	benchreport.Defaults().Check(rep) // as inceptionctl bench does

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var got report.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &got), "the JSON report reads back")
	assert.Equal(t, q.Repeats, got.Repeats)
	assert.Equal(t, 2, got.Passes)
	require.NotNil(t, got.Reference, "the machine timed at the start of each case")
	assert.Len(t, got.Reference.Runs, 2*len(cases), "each case, each pass")
	assert.Positive(t, got.Reference.Median)

	type key struct {
		scenario report.Scenario
		variant  report.Variant
	}
	results := map[key]report.Result{}
	for _, r := range got.Results {
		k := key{r.Scenario, r.Variant}
		_, dup := results[k]
		require.False(t, dup, "one result for %v", k)
		results[k] = r
	}
	for _, sc := range scs {
		for _, v := range report.Variants() {
			r, ok := results[key{sc, v}]
			if !assert.True(t, ok, "%s in %s is measured", sc, v) {
				continue
			}
			name := string(sc) + "/" + string(v)
			assert.Equal(t, "nginx", r.Scope, name)
			require.Len(t, r.Runs, q.Repeats, name)
			var passes []int
			for _, run := range r.Runs {
				passes = append(passes, run.Pass)
			}
			assert.Equal(t, []int{1, 1, 2}, passes, "%s: 2 of the 3 runs due in pass 1", name)
			assert.Positive(t, r.Min, name)
			assert.LessOrEqual(t, r.Min, r.Median, name)
			assert.LessOrEqual(t, r.Median, r.Max, name)
			assert.Less(t, r.Max, 600.0, "%s: seconds, not nanoseconds", name)
			assert.Positive(t, r.Vertices, name)
			for i, run := range r.Runs {
				require.Len(t, run.Images, 1, name)
				img := run.Images[0]
				assert.Equal(t, "nginx", img.Image, name)
				assert.Equal(t, img.Vertices-img.Cached, len(img.Ran), "%s run %d: one step per vertex that ran", name, i+1)
				for _, s := range img.Ran {
					assert.False(t, s.Cached, name)
					assert.GreaterOrEqual(t, s.Duration.Nanoseconds(), int64(0), name)
				}
				if sc == report.ScenarioNoChange {
					assert.Empty(t, img.Ran, "%s run %d: nothing to rebuild", name, i+1)
					// Through the image store, as inceptionctl build: the
					// project's graphs are not even solved, the Dockerfile is.
					assert.Equal(t, v != report.VariantDockerfile, img.UpToDate, "%s run %d: solve skipped", name, i+1)
				} else {
					assert.False(t, img.UpToDate, "%s run %d: a changed image is solved", name, i+1)
					assert.NotEmpty(t, img.Ran, "%s run %d: the change is rebuilt every run (the previous run's cache was pruned)", name, i+1)
				}
			}
		}
	}

	ranIn := func(sc report.Scenario, v report.Variant) []string {
		var names []string
		for _, run := range results[key{sc, v}].Runs {
			for _, s := range run.Images[0].Ran {
				if !slices.Contains(names, s.Name) {
					names = append(names, s.Name)
				}
			}
		}
		slices.Sort(names)
		return names
	}
	// The config change re-ran the config layer's merge and nothing
	// else: the package install stayed cached. (The config files' own
	// vertex is made on scratch: it has no inputs and is not counted.)
	assert.Equal(t, []string{"nginx: add config layer"}, ranIn(report.ScenarioConfig, report.VariantLLB))
	assert.Equal(t, []string{"nginx: add config layer"}, ranIn(report.ScenarioConfig, report.VariantLinear))
	for _, n := range ranIn(report.ScenarioConfig, report.VariantDockerfile) {
		assert.Contains(t, n, "COPY", "the Dockerfile's config change re-runs its COPY only")
	}
	// The added package: a step of its own in llb, the whole install in
	// linear.
	pkgLLB := ranIn(report.ScenarioPackage, report.VariantLLB)
	assert.Contains(t, pkgLLB, "nginx: install extra packages")
	assert.NotContains(t, pkgLLB, "nginx: install packages")
	assert.Contains(t, ranIn(report.ScenarioPackage, report.VariantLinear), "nginx: install packages")

	// Every variant ends on the original image: the same files, the same
	// config, whichever way it was built.
	llbTree, llbConfig := benchImage(ctx, t, e, "docker.io/library/nginx:bench-llb")
	for _, v := range []report.Variant{report.VariantLinear, report.VariantDockerfile} {
		tree, cfg := benchImage(ctx, t, e, "docker.io/library/nginx:bench-"+string(v))
		assert.Equal(t, llbConfig, cfg, "%s: image config", v)
		for p, want := range llbTree {
			assert.Equal(t, want, tree[p], "%s: %s", v, p)
		}
		for p := range tree {
			_, ok := llbTree[p]
			assert.True(t, ok, "%s: %s is in the llb image too", v, p)
		}
	}

	require.Len(t, got.Targets, 3)
	for _, tc := range got.Targets {
		if tc.Name == "package-change/nginx llb/linear" {
			assert.False(t, tc.Missing)
			assert.Positive(t, tc.Ratio)
		}
	}
}

// benchImage reads a stored image: its root filesystem after every layer
// is applied (whiteouts included), as "type mode uid:gid size link" per
// path, times left out; and the part of its config an image's user sees.
func benchImage(ctx context.Context, t *testing.T, e *env, ref string) (map[string]string, dockerspec.DockerOCIImageConfig) {
	t.Helper()
	tree := map[string]string{}
	dt := imageFiles(ctx, t, e, ref, func(_ int, h *tar.Header, _ io.Reader) {
		p := "/" + strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		dir, base := path.Split(p)
		switch {
		case base == ".wh..wh..opq":
			for q := range tree {
				if strings.HasPrefix(q, dir) && q != path.Clean(dir) {
					delete(tree, q)
				}
			}
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			for q := range tree {
				if q == gone || strings.HasPrefix(q, gone+"/") {
					delete(tree, q)
				}
			}
		default:
			tree[p] = fmt.Sprintf("%c %o %d:%d %d %s", h.Typeflag, h.Mode&0o7777, h.Uid, h.Gid, h.Size, h.Linkname)
		}
	})
	var cfg dockerspec.DockerOCIImage
	require.NoError(t, json.Unmarshal(dt, &cfg))
	// Directory sizes and hard links differ with how layers were cut.
	for p, v := range tree {
		if strings.HasPrefix(v, "5 ") || strings.HasPrefix(v, "1 ") {
			tree[p] = v[:strings.LastIndexByte(v[:len(v)-1], ' ')]
		}
	}
	// ArgsEscaped is a Windows flag the Dockerfile frontend sets on
	// every image; Linux runtimes never read it.
	cfg.Config.ArgsEscaped = false //nolint:staticcheck // cleared, not used
	return tree, cfg.Config
}

// TestDockerfileMatchesLLB builds every image of the stack from its graph
// and from its converted Dockerfile (`inceptionctl dockerfile`) and
// compares the two: the same files with the same modes and owners, the
// same config.
func TestDockerfileMatchesLLB(t *testing.T) {
	ctx, e := setup(t)
	st := stack.Default()
	var imgs []bench.Image
	for _, svc := range st.Services {
		imgs = append(imgs, bench.Image{Name: svc.Name, Build: llbdefs.Recipes()[svc.Build.Recipe]})
	}
	cases, err := bench.Plan(st.Names(), nil, []report.Scenario{report.ScenarioNoChange}, false)
	require.NoError(t, err)
	cases = cases[len(cases)-1:] // the stack case: every image in one build
	require.Equal(t, report.ScopeStack, cases[0].Scope)
	_, err = bench.Run(ctx, e.bk, imgs, cases, bench.WithRepeats(1),
		bench.WithVariants(report.VariantLLB, report.VariantDockerfile), bench.WithKeepImages(), bench.WithLog(testLog{t}))
	t.Cleanup(func() {
		for _, name := range st.Names() {
			for _, v := range []report.Variant{report.VariantLLB, report.VariantDockerfile} {
				_ = e.cd.ImageService().Delete(context.WithoutCancel(ctx), "docker.io/library/"+name+":bench-"+string(v))
			}
		}
	})
	require.NoError(t, err)
	for _, name := range st.Names() {
		t.Run(name, func(t *testing.T) {
			llbTree, llbConfig := benchImage(ctx, t, e, "docker.io/library/"+name+":bench-llb")
			dfTree, dfConfig := benchImage(ctx, t, e, "docker.io/library/"+name+":bench-dockerfile")
			assert.Equal(t, llbConfig, dfConfig, "image config")
			for p, want := range llbTree {
				assert.Equal(t, want, dfTree[p], p)
			}
			for p := range dfTree {
				_, ok := llbTree[p]
				assert.True(t, ok, "%s is in the llb image too", p)
			}
		})
	}
}
