package bench

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// vertex is a decoded vertex with its name.
type vertex struct {
	op   *pb.Op
	name string
}

func decode(t *testing.T, def *llb.Definition) map[digest.Digest]vertex {
	t.Helper()
	out := map[digest.Digest]vertex{}
	for _, dt := range def.Def {
		op := new(pb.Op)
		require.NoError(t, op.UnmarshalVT(dt))
		if op.Op == nil {
			continue
		}
		d := digest.FromBytes(dt)
		out[d] = vertex{op: op, name: def.Metadata[d].Description["llb.customname"]}
	}
	return out
}

func marshal(t testing.TB, image func(...llbdefs.Option) (llbdefs.Image, error), opts ...llbdefs.Option) *llb.Definition {
	t.Helper()
	img, err := image(opts...)
	require.NoError(t, err)
	def, err := img.Marshal(t.Context())
	require.NoError(t, err)
	return def
}

func TestLinearize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		image  func(...llbdefs.Option) (llbdefs.Image, error)
		merge  string
		copies int
	}{
		{"nginx", llbdefs.Nginx, "nginx: add config layer", 1},
		{"static", llbdefs.Static, "static: assemble image", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def := marshal(t, tc.image)
			lin, err := linearize(def)
			require.NoError(t, err)
			before, after := decode(t, def), decode(t, lin)
			require.Len(t, after, len(before)+tc.copies-1, "one vertex per copy for the merge")

			var copies []vertex
			for _, v := range after {
				assert.Nil(t, v.op.GetMerge(), "no merge left: %q", v.name)
				if strings.HasPrefix(v.name, tc.merge) {
					copies = append(copies, v)
				}
			}
			require.Len(t, copies, tc.copies)
			names := make([]string, 0, len(copies))
			for _, v := range copies {
				names = append(names, v.name)
				fo := v.op.GetFile()
				require.NotNil(t, fo, "%q is a file vertex", v.name)
				require.Len(t, fo.Actions, 1, "one COPY per vertex")
				a := fo.Actions[0]
				cp := a.GetCopy()
				require.NotNil(t, cp)
				assert.Equal(t, "/", cp.Src)
				assert.Equal(t, "/", cp.Dest)
				assert.True(t, cp.DirCopyContents)
				assert.EqualValues(t, 0, a.Input)
				assert.EqualValues(t, 1, a.SecondaryInput)
				assert.EqualValues(t, 0, a.Output)
			}
			assert.Contains(t, names, tc.merge, "the last copy keeps the merge's name")
			// Everything the merge does not depend on through a merge keeps
			// its digest: the variants share their package installs.
			for d, v := range before {
				if v.op.GetExec() != nil {
					_, ok := after[d]
					assert.True(t, ok, "exec %q keeps its digest", v.name)
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	stack := []string{"nginx", "wordpress", "adminer", "vsftpd", "static", "mariadb", "redis"}
	cases, err := Plan(stack, nil, nil, false)
	require.NoError(t, err)
	var names []string
	for _, c := range cases {
		names = append(names, c.Name())
	}
	assert.Equal(t, []string{
		"no-change/nginx", "no-change/wordpress", "no-change/adminer", "no-change/vsftpd",
		"no-change/static", "no-change/mariadb", "no-change/redis", "no-change/stack",
		"config-change/nginx", "config-change/wordpress", "config-change/adminer", "config-change/vsftpd",
		"config-change/mariadb", "config-change/redis", "config-change/stack",
		"package-change/nginx",
		"site-change/static", "site-change/stack",
		"cold/nginx",
	}, names)
	for _, c := range cases {
		if c.Scope == report.ScopeStack {
			assert.Equal(t, stack, c.Images, c.Name())
		} else {
			assert.Equal(t, []string{c.Scope}, c.Images, c.Name())
		}
		if c.Scenario == report.ScenarioNoChange || c.Scenario == report.ScenarioCold {
			assert.Empty(t, c.Changed, c.Name())
		} else {
			assert.NotEmpty(t, c.Changed, c.Name())
		}
	}

	cases, err = Plan(stack, []string{"nginx"}, []report.Scenario{report.ScenarioNoChange, report.ScenarioConfig, report.ScenarioPackage}, false)
	require.NoError(t, err)
	assert.Len(t, cases, 3, "quick: nginx, three scenarios, no stack case")

	cases, err = Plan(stack, []string{"redis"}, []report.Scenario{report.ScenarioCold}, true)
	require.NoError(t, err)
	assert.Equal(t, "cold/redis", cases[0].Name())

	_, err = Plan(stack, []string{"apache"}, nil, false)
	require.ErrorIs(t, err, ErrUnknownImage)
	_, err = Plan(stack, []string{"static"}, []report.Scenario{report.ScenarioConfig}, false)
	require.ErrorIs(t, err, ErrEmptyPlan, "static has no config file")
	_, err = report.ParseScenario("warm")
	require.ErrorIs(t, err, report.ErrUnknownScenario)
	_, err = report.ParseVariant("kaniko")
	require.ErrorIs(t, err, report.ErrUnknownVariant)
}

// TestConfigChangesExist: every scenario file is in its image's files.
func TestConfigChangesExist(t *testing.T) {
	for _, img := range []string{"nginx", "wordpress", "adminer", "vsftpd", "mariadb", "redis", "static"} {
		for _, get := range []func(string) (fileChange, bool){configChange, siteChange} {
			ch, ok := get(img)
			if !ok {
				continue
			}
			fsys, err := llbdefs.Files(img)
			require.NoError(t, err)
			_, err = fsys.Open(ch.file)
			assert.NoError(t, err, "%s: %s", img, ch.file)
		}
	}
}

func newTestRunner(t *testing.T) *runner {
	t.Helper()
	r := &runner{config: config{tmp: t.TempDir()}, images: map[string]func(...llbdefs.Option) (llbdefs.Image, error){
		"nginx": llbdefs.Nginx, "static": llbdefs.Static,
	}}
	return r
}

func TestChangedImages(t *testing.T) {
	r := newTestRunner(t)
	names := func(img llbdefs.Image) map[string]vertex {
		def, err := img.Marshal(t.Context())
		require.NoError(t, err)
		out := map[string]vertex{}
		for _, v := range decode(t, def) {
			out[v.name] = v
		}
		return out
	}
	orig, err := r.image("nginx", report.VariantLLB, report.ScenarioConfig, false)
	require.NoError(t, err)
	base := names(orig)

	t.Run("config", func(t *testing.T) {
		r.seq = 7
		img, err := r.image("nginx", report.VariantLLB, report.ScenarioConfig, true)
		require.NoError(t, err)
		got := names(img)
		layer := got["nginx: config and entrypoint"].op.GetFile()
		require.NotNil(t, layer)
		var found bool
		for _, a := range layer.Actions {
			if mk := a.GetMkfile(); mk != nil && strings.HasSuffix(mk.Path, "/inception.conf") {
				found = true
				assert.True(t, strings.HasSuffix(string(mk.Data), "# inceptionctl bench: config change 7\n"), "the change is numbered")
			}
		}
		assert.True(t, found)
		assert.Equal(t, base["nginx: install packages"].op.String(), got["nginx: install packages"].op.String())
		// The embedded files are untouched.
		fsys, err := llbdefs.Files("nginx")
		require.NoError(t, err)
		f, err := fsys.Open("inception.conf")
		require.NoError(t, err)
		dt, err := io.ReadAll(f)
		require.NoError(t, err)
		assert.NotContains(t, string(dt), "inceptionctl bench")

		// The next change is another: new to the cache.
		r.seq = 8
		next, err := r.image("nginx", report.VariantLLB, report.ScenarioConfig, true)
		require.NoError(t, err)
		assert.NotEqual(t, got["nginx: config and entrypoint"].op.String(), names(next)["nginx: config and entrypoint"].op.String())
	})
	t.Run("package", func(t *testing.T) {
		img, err := r.image("nginx", report.VariantLLB, report.ScenarioPackage, true)
		require.NoError(t, err)
		got := names(img)
		extra, ok := got["nginx: install extra packages"]
		require.True(t, ok, "llb: a step of its own")
		assert.Equal(t, addedPackage, extra.op.GetExec().Meta.Args[len(extra.op.GetExec().Meta.Args)-1])
		assert.Equal(t, base["nginx: install packages"].op.String(), got["nginx: install packages"].op.String(),
			"llb: the install stays the same")

		img, err = r.image("nginx", report.VariantLinear, report.ScenarioPackage, true)
		require.NoError(t, err)
		got = names(img)
		_, ok = got["nginx: install extra packages"]
		assert.False(t, ok)
		assert.True(t, slices.Contains(got["nginx: install packages"].op.GetExec().Meta.Args, addedPackage),
			"linear: in the package list")
	})
	t.Run("site", func(t *testing.T) {
		_, err := r.image("nginx", report.VariantLLB, report.ScenarioSite, true)
		require.Error(t, err, "nginx has no site")
		r.seq = 3
		img, err := r.image("static", report.VariantLLB, report.ScenarioSite, true)
		require.NoError(t, err)
		got := names(img)
		var found bool
		for _, a := range got["static: site"].op.GetFile().GetActions() {
			if mk := a.GetMkfile(); mk != nil && strings.HasSuffix(mk.Path, "/index.html") {
				found = true
				assert.True(t, strings.HasSuffix(string(mk.Data), "<!-- inceptionctl bench: site change 3 -->\n"), "numbered inside the comment")
			}
		}
		assert.True(t, found, "the site layer writes index.html")
		assert.NotEqual(t, names(must(t, llbdefs.Static))["static: site"].op.String(), got["static: site"].op.String())
	})
}

func must(t *testing.T, image func(...llbdefs.Option) (llbdefs.Image, error)) llbdefs.Image {
	t.Helper()
	img, err := image()
	require.NoError(t, err)
	return img
}

func TestTargets(t *testing.T) {
	r := newTestRunner(t)
	c := report.Case{Scenario: report.ScenarioConfig, Scope: "nginx", Images: []string{"nginx"}, Changed: "nginx"}
	for _, v := range report.Variants() {
		ts, err := r.targets(t.Context(), c, v, true)
		require.NoError(t, err)
		require.Len(t, ts, 1)
		assert.Equal(t, "docker.io/library/nginx:bench-"+string(v), ts[0].Ref)
		switch v {
		case report.VariantDockerfile:
			assert.Nil(t, ts[0].Definition)
			assert.Equal(t, "dockerfile.v0", ts[0].Frontend)
			assert.Equal(t, "local", ts[0].FrontendAttrs["image-resolve-mode"])
			assert.Contains(t, ts[0].LocalMounts, "context")
			assert.Contains(t, ts[0].LocalMounts, "dockerfile")
		default:
			assert.NotNil(t, ts[0].Definition)
			assert.NotEmpty(t, ts[0].Config)
		}
	}
	// One context directory per content: the changed build's holds the
	// changed file.
	dirs, err := filepath.Glob(filepath.Join(r.tmp, "contexts", "nginx-*"))
	require.NoError(t, err)
	require.Len(t, dirs, 1)
	conf := filepath.Join(dirs[0], "config-and-entrypoint/etc/nginx/conf.d/inception.conf")
	dt, err := os.ReadFile(conf)
	require.NoError(t, err)
	assert.Contains(t, string(dt), "inceptionctl bench: config change")
	// The changed file is dated now, the others keep the graph's time: a
	// context is sent by differences of size and time.
	st, err := os.Stat(conf)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), st.ModTime(), time.Minute)
	st, err = os.Stat(filepath.Join(dirs[0], "config-and-entrypoint/etc/nginx/inception/server.conf.template"))
	require.NoError(t, err)
	assert.Equal(t, 2000, st.ModTime().UTC().Year(), "an unchanged file keeps the graph's fixed time")
	_, err = r.targets(t.Context(), c, report.VariantDockerfile, false)
	require.NoError(t, err)
	dirs, err = filepath.Glob(filepath.Join(r.tmp, "contexts", "nginx-*"))
	require.NoError(t, err)
	assert.Len(t, dirs, 2)
}

func measurement(secs float64, ran ...string) report.Measurement {
	img := report.ImageRun{Image: "nginx", Seconds: secs, Vertices: 3, Cached: 3 - len(ran), Ran: []build.Step{}}
	for _, r := range ran {
		img.Ran = append(img.Ran, build.Step{Name: r})
	}
	return report.Measurement{Seconds: secs, Images: []report.ImageRun{img}}
}

func testReport() *report.Report {
	res := func(sc report.Scenario, scope string, v report.Variant, secs ...float64) report.Result {
		r := report.Result{Case: report.Case{Scenario: sc, Scope: scope, Images: []string{"nginx"}}, Variant: v}
		for _, s := range secs {
			r.Runs = append(r.Runs, measurement(s, "nginx: add config layer"))
		}
		summarise(&r)
		return r
	}
	rep := &report.Report{Repeats: 3, Variants: report.Variants(), Machine: benchstat.Machine{CPUs: 2, MemoryGiB: 24}}
	rep.Results = []report.Result{
		res(report.ScenarioNoChange, report.ScopeStack, report.VariantLLB, 0.2, 0.1, 0.3),
		res(report.ScenarioNoChange, report.ScopeStack, report.VariantLinear, 0.25, 0.25, 0.25),
		res(report.ScenarioNoChange, report.ScopeStack, report.VariantDockerfile, 0.5, 0.4, 0.6),
		res(report.ScenarioPackage, "nginx", report.VariantLLB, 4, 5, 6),
		res(report.ScenarioPackage, "nginx", report.VariantLinear, 6, 6, 6),
		res(report.ScenarioPackage, "nginx", report.VariantDockerfile, 9, 9, 9),
	}
	// The checks as the caller makes them (internal/benchreport).
	rep.Targets = []benchstat.TargetCheck{
		{Name: "no-change/stack llb/dockerfile", Ratio: 0.4, Limit: 0.5, Pass: true},
		{Name: "config-change/stack llb/dockerfile", Limit: 0.5, Missing: true},
		{Name: "package-change/nginx llb/linear", Ratio: 5.0 / 6, Limit: 0.6},
	}
	return rep
}

func TestSummary(t *testing.T) {
	rep := testReport()
	r := rep.Results[0]
	assert.InDelta(t, 0.2, r.Median, 1e-9)
	assert.InDelta(t, 0.1, r.Min, 1e-9)
	assert.InDelta(t, 0.3, r.Max, 1e-9)
	assert.Equal(t, 3, r.Vertices)
	assert.Equal(t, 2, r.Cached)
	assert.Equal(t, map[string][]string{"nginx": {"nginx: add config layer"}}, r.Ran)
	assert.InDelta(t, 2.5, benchstat.Median([]float64{4, 1, 2, 3}), 1e-9)
}

func BenchmarkLinearize(b *testing.B) {
	def := marshal(b, llbdefs.Static)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := linearize(def); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWants(t *testing.T) {
	c := config{repeats: 5, minTime: 2 * time.Second, maxRepeats: 15}
	for _, tc := range []struct {
		runs  int
		spent float64
		want  bool
	}{
		{0, 0, true},
		{4, 100, true}, // the repeats come first
		{5, 1.99, true},
		{5, 2, false},
		{14, 0.5, true},
		{15, 0.5, false}, // at most the maximum
	} {
		assert.Equal(t, tc.want, c.wants(tc.runs, tc.spent), "%d runs, %.2fs", tc.runs, tc.spent)
	}
	exact := config{repeats: 5}
	assert.True(t, exact.wants(4, 0))
	assert.False(t, exact.wants(5, 0), "no minimum time: exactly the repeats")

	for _, tc := range []struct {
		c    config
		want string
	}{
		{config{repeats: 0, passes: 1}, "measure at least once"},
		{config{repeats: 5, passes: 1, minTime: -time.Second}, "give zero or a positive duration"},
		{config{repeats: 5, passes: 1, minTime: time.Second, maxRepeats: 3}, "at most 3 runs is fewer than the 5 repeats"},
		{config{repeats: 5, passes: 0}, "measure in at least one pass"},
		{config{repeats: 2, passes: 3}, "give at most as many passes as repeats"},
	} {
		assert.ErrorContains(t, tc.c.checkRepeats(), tc.want)
	}
	assert.NoError(t, (&config{repeats: 5, passes: 1, minTime: time.Second, maxRepeats: 5}).checkRepeats())
	assert.NoError(t, (&config{repeats: 5, passes: 5}).checkRepeats())
}

// TestWantsInPasses: each pass ends with its share of the repeats, of the
// minimum time and of the maximum runs, rounded up; the last pass with
// all of them.
func TestWantsInPasses(t *testing.T) {
	c := config{repeats: 5, minTime: 30 * time.Second, maxRepeats: 15, passes: 2, pass: 1}
	for _, tc := range []struct {
		pass  int
		runs  int
		spent float64
		want  bool
	}{
		{1, 2, 100, true}, // 3 of the 5 repeats are due in pass 1
		{1, 3, 14.9, true},
		{1, 3, 15, false}, // half the minimum time
		{1, 7, 1, true},
		{1, 8, 1, false}, // 8 of the 15 runs at most
		{2, 3, 100, true},
		{2, 5, 29.9, true},
		{2, 5, 30, false},
		{2, 14, 1, true},
		{2, 15, 1, false},
	} {
		c.pass = tc.pass
		assert.Equal(t, tc.want, c.wants(tc.runs, tc.spent), "pass %d: %d runs, %.2fs", tc.pass, tc.runs, tc.spent)
	}
	exact := config{repeats: 5, passes: 3, pass: 1}
	var due []int
	for exact.pass = 1; exact.pass <= 3; exact.pass++ {
		n := 0
		for exact.wants(n, 0) {
			n++
		}
		due = append(due, n)
	}
	assert.Equal(t, []int{2, 4, 5}, due, "runs measured by the end of each of 3 passes")
}

// TestPassOrder: the cold cases first in the first of several passes,
// last otherwise.
func TestPassOrder(t *testing.T) {
	cases := []report.Case{{Scenario: report.ScenarioNoChange}, {Scenario: report.ScenarioCold}, {Scenario: report.ScenarioConfig}}
	assert.Equal(t, []int{0, 2, 1}, passOrder(cases, 1, 1), "one pass: cold last")
	assert.Equal(t, []int{1, 0, 2}, passOrder(cases, 1, 2))
	assert.Equal(t, []int{0, 2, 1}, passOrder(cases, 2, 2))
	assert.Equal(t, []int{0, 2, 1}, passOrder(cases, 2, 3))
}

func TestNumberedChange(t *testing.T) {
	assert.Equal(t, "# x 4", fileChange{"f", "# x"}.numbered(4))
	assert.Equal(t, "<!-- x 4 -->", fileChange{"f", "<!-- x -->"}.numbered(4))
}
