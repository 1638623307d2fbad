package benchreport

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

func TestDefaults(t *testing.T) {
	d := Defaults()
	assert.Equal(t, "no-change=0.5 config-change=0.5 package-change=0.6 second-runner=0.25 page-cache-hit=20 page-cache-logged-in=1.2 page-cache-hit-p99-ms=20", d.String())
	assert.Len(t, d, len(Names()))
}

func TestSet(t *testing.T) {
	const names = "no-change, config-change, package-change, second-runner, page-cache-hit, page-cache-logged-in, page-cache-hit-p99-ms"
	tests := []struct {
		name, in, err string
		want          float64
	}{
		{name: "ratio", in: "no-change=0.4", want: 0.4},
		{name: "spaces", in: " page-cache-hit = 12.5 ", want: 12.5},
		{name: "unknown name", in: "rebuild=0.5", err: `unknown target "rebuild": use ` + names},
		{name: "no value", in: "no-change", err: `give NAME=VALUE, NAME one of ` + names},
		{name: "empty value", in: "no-change=", err: "give NAME=VALUE"},
		{name: "not a number", in: "no-change=half", err: `value "half": give a positive number, e.g. no-change=0.5`},
		{name: "zero", in: "second-runner=0", err: `value "0": give a positive number, e.g. second-runner=0.25`},
		{name: "negative", in: "page-cache-hit=-2", err: "give a positive number"},
		{name: "infinite", in: "page-cache-hit=+Inf", err: "give a positive number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := Defaults()
			err := tg.Set(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Equal(t, Defaults(), tg, "a refused target changes nothing")
				return
			}
			require.NoError(t, err)
			for n, v := range tg {
				if n == NoChange && tc.want == 0.4 || n == PageCacheHit && tc.want == 12.5 {
					assert.InDelta(t, tc.want, v, 1e-9, n)
				} else {
					assert.InDelta(t, Defaults()[n], v, 1e-9, n)
				}
			}
		})
	}
	assert.ErrorIs(t, Defaults().Set("x=1"), ErrUnknownTarget)
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "targets")
	require.NoError(t, os.WriteFile(good, []byte("# ours\n\npackage-change=0.7\nsecond-runner = 0.3\n"), 0o600))
	tg := Defaults()
	require.NoError(t, tg.ReadFile(good))
	assert.InDelta(t, 0.7, tg[PackageChange], 1e-9)
	assert.InDelta(t, 0.3, tg[SecondRunner], 1e-9)
	assert.InDelta(t, 0.5, tg[NoChange], 1e-9, "the rest stays")

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("no-change=0.5\nnochange=0.5\n"), 0o600))
	err := Defaults().ReadFile(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad+`:2: unknown target "nochange": use no-change, `)

	require.Error(t, Defaults().ReadFile(filepath.Join(dir, "missing")))
}

func result(sc report.Scenario, scope string, v report.Variant, median float64) report.Result {
	return report.Result{Case: report.Case{Scenario: sc, Scope: scope}, Variant: v, Median: median, Runs: []report.Measurement{{Seconds: median}}}
}

// TestCheckBuild: the stack's case when measured, else the image's; a
// target with neither is missing; the limit is the target's value.
func TestCheckBuild(t *testing.T) {
	rep := report.New()
	rep.Results = []report.Result{
		result(report.ScenarioNoChange, report.ScopeStack, report.VariantLLB, 0.2),
		result(report.ScenarioNoChange, report.ScopeStack, report.VariantDockerfile, 0.5),
		result(report.ScenarioConfig, "nginx", report.VariantLLB, 1),
		result(report.ScenarioConfig, "nginx", report.VariantDockerfile, 4),
		result(report.ScenarioPackage, "nginx", report.VariantLLB, 5),
		result(report.ScenarioPackage, "nginx", report.VariantLinear, 6),
	}
	Defaults().Check(rep)
	require.Len(t, rep.Targets, 3)
	assert.Equal(t, "no-change/stack llb/dockerfile", rep.Targets[0].Name)
	assert.InDelta(t, 0.4, rep.Targets[0].Ratio, 1e-9)
	assert.True(t, rep.Targets[0].Pass)
	assert.Equal(t, "config-change/nginx llb/dockerfile", rep.Targets[1].Name, "no stack case: nginx's")
	assert.True(t, rep.Targets[1].Pass)
	assert.InDelta(t, 5.0/6, rep.Targets[2].Ratio, 1e-9)
	assert.False(t, rep.Targets[2].Pass)
	assert.InDelta(t, 0.6, rep.Targets[2].Limit, 1e-9)

	tg := Defaults()
	require.NoError(t, tg.Set("package-change=0.9"))
	require.NoError(t, tg.Set("no-change=0.3"))
	tg.Check(rep)
	assert.True(t, rep.Targets[2].Pass, "0.83 <= 0.9")
	assert.InDelta(t, 0.9, rep.Targets[2].Limit, 1e-9)
	assert.False(t, rep.Targets[0].Pass, "0.4 > 0.3")

	rep.Results = rep.Results[4:]
	Defaults().Check(rep)
	assert.True(t, rep.Targets[0].Missing, "no no-change measured")
	assert.Equal(t, "no-change/stack llb/dockerfile", rep.Targets[0].Name)

	empty := report.New()
	Defaults().Check(empty)
	assert.Empty(t, empty.Targets, "no build figures, no build targets")
}

func srResult(figure string, secs ...float64) report.SecondRunnerResult {
	r := report.SecondRunnerResult{Figure: figure}
	for _, s := range secs {
		r.Runs = append(r.Runs, report.Measurement{Seconds: s})
	}
	if len(secs) > 0 {
		r.Median = secs[len(secs)/2]
	}
	return r
}

func TestCheckSecondRunner(t *testing.T) {
	tests := []struct {
		name    string
		results []report.SecondRunnerResult
		ratio   float64
		pass    bool
		missing bool
	}{
		{"pass", []report.SecondRunnerResult{srResult(report.FigureWithCache, 25), srResult(report.FigureWithoutCache, 120)}, 25.0 / 120, true, false},
		{"miss", []report.SecondRunnerResult{srResult(report.FigureWithCache, 31), srResult(report.FigureWithoutCache, 100)}, 0.31, false, false},
		{"at the limit", []report.SecondRunnerResult{srResult(report.FigureWithCache, 25), srResult(report.FigureWithoutCache, 100)}, 0.25, true, false},
		{"no run without the cache", []report.SecondRunnerResult{srResult(report.FigureWithCache, 20), srResult(report.FigureWithoutCache)}, 0, false, true},
		{"no figures", nil, 0, false, true},
		{"push is no part of it", []report.SecondRunnerResult{srResult(report.FigurePush, 1), srResult(report.FigureWithoutCache, 10)}, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := report.New()
			rep.SecondRunner = &report.SecondRunnerReport{Results: tc.results}
			Defaults().Check(rep)
			got := rep.SecondRunner.Target
			assert.InDelta(t, tc.ratio, got.Ratio, 1e-9)
			assert.Equal(t, tc.pass, got.Pass)
			assert.Equal(t, tc.missing, got.Missing)
			assert.InDelta(t, 0.25, got.Limit, 1e-9)
			assert.Equal(t, "second-runner with-cache/without-cache", got.Name)
		})
	}
}

func TestCheckPageCache(t *testing.T) {
	fig := func(f string, median, p99 float64) report.RuntimeResult {
		return report.RuntimeResult{Scenario: report.RuntimePageCache, Figure: f, Unit: "req/s", Median: median, P99ms: p99, Runs: []report.RuntimeRun{{Value: median}}}
	}
	tests := []struct {
		name    string
		set     []string
		results []report.RuntimeResult
		want    *benchstat.PageCacheTargets
	}{
		{
			name: "all met",
			results: []report.RuntimeResult{
				fig(report.FigureAnonymous, 2000, 12), fig(report.FigureLoggedIn, 36, 400), fig(report.FigureMiss, 25, 500),
				fig(report.FigureAnonymousOff, 40, 300), fig(report.FigureLoggedInOff, 30, 450), fig(report.FigureMissOff, 25, 480),
			},
			want: &benchstat.PageCacheTargets{HitRatio: 50, HitRatioOK: true, LoggedInRatio: 1.2, LoggedInRatioOK: true, MissRatio: 1,
				HitP99ms: 12, HitP99OK: true, LoggedInVsRender: 0.9},
		},
		{
			name: "all missed",
			results: []report.RuntimeResult{
				fig(report.FigureAnonymous, 400, 25), fig(report.FigureLoggedIn, 30, 400),
				fig(report.FigureAnonymousOff, 40, 300), fig(report.FigureLoggedInOff, 30, 450),
			},
			want: &benchstat.PageCacheTargets{HitRatio: 10, LoggedInRatio: 1, HitP99ms: 25, LoggedInVsRender: 0.75},
		},
		{
			name: "all met with the user's targets",
			set:  []string{"page-cache-hit=8", "page-cache-logged-in=0.9", "page-cache-hit-p99-ms=30"},
			results: []report.RuntimeResult{
				fig(report.FigureAnonymous, 400, 25), fig(report.FigureLoggedIn, 30, 400),
				fig(report.FigureAnonymousOff, 40, 300), fig(report.FigureLoggedInOff, 30, 450),
			},
			want: &benchstat.PageCacheTargets{HitRatio: 10, HitRatioOK: true, LoggedInRatio: 1, LoggedInRatioOK: true, HitP99ms: 25, HitP99OK: true, LoggedInVsRender: 0.75},
		},
		{
			name:    "no figure with the cache off",
			results: []report.RuntimeResult{fig(report.FigureAnonymous, 400, 25), fig(report.FigureLoggedIn, 30, 400)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := Defaults()
			for _, s := range tc.set {
				require.NoError(t, tg.Set(s))
			}
			rep := report.New()
			rep.Runtime = &report.RuntimeReport{Results: tc.results}
			tg.Check(rep)
			got := rep.Runtime.PageCache
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.InDelta(t, tc.want.HitRatio, got.HitRatio, 1e-9)
			assert.InDelta(t, tc.want.LoggedInRatio, got.LoggedInRatio, 1e-9)
			assert.InDelta(t, tc.want.MissRatio, got.MissRatio, 1e-9)
			assert.InDelta(t, tc.want.LoggedInVsRender, got.LoggedInVsRender, 1e-9)
			assert.Equal(t, tc.want.HitRatioOK, got.HitRatioOK)
			assert.Equal(t, tc.want.LoggedInRatioOK, got.LoggedInRatioOK)
			assert.Equal(t, tc.want.HitP99OK, got.HitP99OK)
			assert.InDelta(t, tg[PageCacheHit], got.HitRatioTarget, 1e-9, "the table prints the target checked against")
		})
	}
}
