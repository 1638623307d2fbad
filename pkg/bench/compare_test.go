package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
)

// figureOf is a build figure: one run, and the statistics given (not
// computed, so that a test can put them where it wants).
func figureOf(sc Scenario, scope, changed string, v Variant, med, lo, hi float64) Result {
	return Result{Case: Case{Scenario: sc, Scope: scope, Images: []string{scope}, Changed: changed}, Variant: v,
		Runs: []Measurement{{Seconds: med}}, Median: med, Min: lo, Max: hi}
}

// rtFigureOf is a run-time figure, as figureOf.
func rtFigureOf(sc RuntimeScenario, fig, unit string, med, lo, hi float64, failed string) RuntimeResult {
	return RuntimeResult{Scenario: sc, Figure: fig, Unit: unit, Runs: []RuntimeRun{{Value: med}},
		Median: med, Min: lo, Max: hi, Failed: failed}
}

// TestCompareEdges: one figure, its median against the baseline's band,
// the three compared as the table prints them.
func TestCompareEdges(t *testing.T) {
	tests := []struct {
		name         string
		unit         string // "" for a build figure
		med, lo, hi  float64
		inside       bool
		printedTable string // what the table shows, to make the verdict plain
	}{
		{"on the min", "", 0.17, 0.17, 0.19, true, "0.17 [0.17-0.19]"},
		{"on the max", "", 0.19, 0.17, 0.19, true, "0.19 [0.17-0.19]"},
		{"a hundredth above", "", 0.20, 0.17, 0.19, false, "0.20 [0.17-0.19]"},
		{"a hundredth below", "", 0.16, 0.17, 0.19, false, "0.16 [0.17-0.19]"},
		{"above the max unrounded, not printed", "", 0.154, 0.145, 0.15, true, "0.15 [0.14-0.15]"},
		{"rounds up past the max", "", 0.156, 0.145, 0.15, false, "0.16 [0.14-0.15]"},
		{"below the min unrounded, not printed", "", 0.1451, 0.1452, 0.2, true, "0.15 [0.15-0.20]"},
		{"rounds down past the min", "", 0.1449, 0.1451, 0.2, false, "0.14 [0.15-0.20]"},
		// 0.145 is 0.1449999... in binary: strconv prints 0.14, as the
		// table does, where rounding half up on paper would give 0.15.
		{"0.145 prints 0.14", "", 0.145, 0.15, 0.2, false, "0.14 [0.15-0.20]"},
		// 0.135 is 0.1350000...1 in binary: 0.14.
		{"0.135 prints 0.14", "", 0.135, 0.14, 0.2, true, "0.14 [0.14-0.20]"},
		// 0.125 is exact: a tie, rounded to even, 0.12.
		{"0.125 ties to even", "", 0.125, 0.126, 0.2, false, "0.12 [0.13-0.20]"},
		{"0.375 ties to even", "", 0.375, 0.3, 0.376, true, "0.38 [0.30-0.38]"},
		// secs switches to one decimal at 10: 10.04 prints 10.0, the max
		// 9.996 prints 10.00, the same number.
		{"across 10 s, inside", "", 10.04, 9.0, 9.996, true, "10.0 [9.00-10.00]"},
		{"across 10 s, outside", "", 10.06, 9.0, 9.996, false, "10.1 [9.00-10.00]"},
		{"across 100 s", "", 100.4, 95, 99.996, true, "100 [95.0-100.0]"},
		{"above 100 s", "", 100.6, 95, 99.996, false, "101 [95.0-100.0]"},
		{"run time, seconds as secs", "s", 4.984, 4.31, 4.98, true, "4.98 [4.31-4.98]"},
		{"run time, seconds outside", "s", 4.986, 4.31, 4.98, false, "4.99 [4.31-4.98]"},
		{"run time, req/s one decimal", "req/s", 25.04, 23.1, 25.0, true, "25.0 [23.1-25.0]"},
		{"run time, req/s outside", "req/s", 25.06, 23.1, 25.0, false, "25.1 [23.1-25.0]"},
		{"run time, req/s below", "req/s", 23.04, 23.05, 25.0, false, "23.0 [23.1-25.0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cur, base := &Report{}, &Report{}
			name, unit := "config-change/nginx dockerfile", "s"
			if tc.unit == "" {
				cur.Results = []Result{figureOf(ScenarioConfig, "nginx", "nginx", VariantDockerfile, tc.med, tc.med, tc.med)}
				base.Results = []Result{figureOf(ScenarioConfig, "nginx", "nginx", VariantDockerfile, tc.lo, tc.lo, tc.hi)}
				assert.Equal(t, tc.printedTable, secs(tc.med)+" ["+secs(tc.lo)+"-"+secs(tc.hi)+"]")
			} else {
				name, unit = "https/redis-cache", tc.unit
				cur.Runtime = &RuntimeReport{Results: []RuntimeResult{rtFigureOf(RuntimeHTTPS, FigureRedisCache, unit, tc.med, tc.med, tc.med, "")}}
				base.Runtime = &RuntimeReport{Results: []RuntimeResult{rtFigureOf(RuntimeHTTPS, FigureRedisCache, unit, tc.lo, tc.lo, tc.hi, "")}}
				r := cur.Runtime.Results[0]
				assert.Equal(t, tc.printedTable, r.value(tc.med)+" ["+r.value(tc.lo)+"-"+r.value(tc.hi)+"]")
			}
			c := cur.Compare(base, "base.json")
			assert.Equal(t, 1, c.Judged)
			assert.Empty(t, c.Unmatched)
			assert.Empty(t, c.Failed)
			if tc.inside {
				assert.Equal(t, 1, c.Inside)
				assert.Empty(t, c.Outside)
				return
			}
			assert.Equal(t, 0, c.Inside)
			assert.Equal(t, []benchstat.Deviation{{Figure: name, Median: tc.med, Min: tc.lo, Max: tc.hi, Unit: unit}}, c.Outside)
		})
	}
}

// comparedReports are a run and its baseline with every kind of figure:
// inside, outside, not in the baseline, failed in either, not measured.
func comparedReports() (cur, base *Report) {
	started := time.Date(2026, 11, 25, 13, 24, 51, 0, time.UTC)
	base = &Report{Started: started, Results: []Result{
		figureOf(ScenarioConfig, "nginx", "nginx", VariantLLB, 0.1, 0.09, 0.12),
		figureOf(ScenarioConfig, "nginx", "nginx", VariantDockerfile, 0.18, 0.17, 0.19),
		// the same case with another image changed: not a counterpart
		figureOf(ScenarioConfig, Stack, "static", VariantLLB, 0.3, 0.2, 0.4),
		figureOf(ScenarioNoChange, "nginx", "", VariantLLB, 0.05, 0.04, 0.06),
	}, Runtime: &RuntimeReport{Results: []RuntimeResult{
		rtFigureOf(RuntimeUp, FigureFirstBoot, "s", 4.98, 4.31, 5.08, ""),
		rtFigureOf(RuntimeHTTPS, FigureRedisCache, "req/s", 25, 23.1, 25.3, ""),
		rtFigureOf(RuntimeHTTPS, FigureNoCache, "req/s", 22.2, 20.8, 22.7, "run 2: 9 errors in 100 requests"),
		{Scenario: RuntimeStart, Figure: FigureRunning, Unit: "s"}, // no runs
	}}}
	notMeasured := figureOf(ScenarioNoChange, "nginx", "", VariantLLB, 0, 0, 0)
	notMeasured.Runs = nil
	cur = &Report{Started: started.Add(time.Hour), Results: []Result{
		figureOf(ScenarioConfig, "nginx", "nginx", VariantLLB, 0.11, 0.1, 0.2),
		figureOf(ScenarioConfig, "nginx", "nginx", VariantDockerfile, 0.22, 0.2, 0.25),
		figureOf(ScenarioConfig, Stack, "nginx", VariantLLB, 0.3, 0.2, 0.4),
		figureOf(ScenarioCold, "nginx", "", VariantLinear, 10.6, 10.4, 10.8),
		notMeasured,
	}, Runtime: &RuntimeReport{Results: []RuntimeResult{
		rtFigureOf(RuntimeUp, FigureFirstBoot, "s", 5.1, 4.9, 5.3, ""),
		rtFigureOf(RuntimeHTTPS, FigureRedisCache, "req/s", 24, 20, 26, "run 1: 50 errors in 100 requests"),
		rtFigureOf(RuntimeHTTPS, FigureNoCache, "req/s", 22.2, 21, 23, ""),
		rtFigureOf(RuntimeStart, FigureRunning, "s", 0.11, 0.1, 0.14, ""),
	}}}
	return cur, base
}

func TestCompareFigures(t *testing.T) {
	cur, base := comparedReports()
	c := cur.Compare(base, "first.json")
	assert.Equal(t, &benchstat.Comparison{
		Baseline: "first.json",
		Started:  base.Started,
		Judged:   3,
		Inside:   1,
		Outside: []benchstat.Deviation{
			{Figure: "config-change/nginx dockerfile", Median: 0.22, Min: 0.17, Max: 0.19, Unit: "s"},
			{Figure: "up/first-boot", Median: 5.1, Min: 4.31, Max: 5.08, Unit: "s"},
		},
		Failed:    []string{"https/redis-cache"},
		Unmatched: []string{"config-change/stack (nginx) llb", "cold/nginx linear", "https/no-cache", "start/running"},
	}, c)

	t.Run("against itself", func(t *testing.T) {
		c := base.Compare(base, "first.json")
		assert.Equal(t, 6, c.Judged, "every measured figure that did not fail")
		assert.Equal(t, 6, c.Inside)
		assert.Empty(t, c.Outside)
		assert.Equal(t, []string{"https/no-cache"}, c.Failed)
		assert.Empty(t, c.Unmatched)
	})
	t.Run("nothing in common", func(t *testing.T) {
		c := cur.Compare(&Report{Results: []Result{figureOf(ScenarioSite, siteImage, siteImage, VariantLLB, 1, 1, 1)}}, "other.json")
		assert.Equal(t, 0, c.Judged)
		assert.Equal(t, 0, c.Inside)
		assert.Empty(t, c.Outside)
		assert.Len(t, c.Unmatched, 7)
	})
}

func TestCompareTable(t *testing.T) {
	cur, base := comparedReports()
	cur.Comparison = cur.Compare(base, "first.json")
	var b bytes.Buffer
	require.NoError(t, cur.writeComparison(&b))
	assert.Equal(t, `
NOT REPRODUCED against first.json (run of 2026-11-25 13:24 UTC): 1 of 3 medians inside the baseline's min-max band
  outside  config-change/nginx dockerfile  0.22 s, baseline [0.17-0.19]
  outside  up/first-boot                   5.10 s, baseline [4.31-5.08]
  failed   https/redis-cache               not judged
  not in the baseline (or failed in it), not judged: config-change/stack (nginx) llb, cold/nginx linear, https/no-cache, start/running
inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code
`, b.String())

	t.Run("at the end of the table", func(t *testing.T) {
		var all bytes.Buffer
		require.NoError(t, cur.WriteTable(&all))
		assert.True(t, strings.HasSuffix(all.String(), b.String()), "the comparison comes last:\n%s", all.String())
		assert.Contains(t, all.String(), "RUN TIME: ")
	})
	t.Run("reproduced", func(t *testing.T) {
		base.Comparison = base.Compare(base, "first.json")
		base.Comparison.Failed = nil
		var b bytes.Buffer
		require.NoError(t, base.writeComparison(&b))
		assert.Equal(t, "\nREPRODUCED against first.json (run of 2026-11-25 13:24 UTC): 6 of 6 medians inside the baseline's min-max band\n"+
			"inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code\n", b.String())
	})
	t.Run("nothing judged", func(t *testing.T) {
		rep := &Report{Comparison: &benchstat.Comparison{Baseline: "x.json", Unmatched: []string{"cold/nginx llb"}}}
		var b bytes.Buffer
		require.NoError(t, rep.writeComparison(&b))
		assert.Equal(t, "\nNOT COMPARED against x.json: no figure of this run is in the baseline\n"+
			"  not in the baseline (or failed in it), not judged: cold/nginx llb\n"+
			"inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code\n", b.String())
	})
	t.Run("no comparison, no section", func(t *testing.T) {
		rep := testReport()
		var b bytes.Buffer
		require.NoError(t, rep.WriteTable(&b))
		assert.NotContains(t, b.String(), "baseline")
		var js bytes.Buffer
		require.NoError(t, rep.WriteJSON(&js))
		assert.NotContains(t, js.String(), `"comparison"`)
	})
	t.Run("in the JSON", func(t *testing.T) {
		var js bytes.Buffer
		require.NoError(t, cur.WriteJSON(&js))
		var back Report
		require.NoError(t, json.Unmarshal(js.Bytes(), &back))
		assert.Equal(t, cur.Comparison, back.Comparison)
		assert.Contains(t, js.String(), `"baseline_min": 0.17`)
	})
}

func TestReadReport(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	var js bytes.Buffer
	require.NoError(t, testReport().WriteJSON(&js))

	t.Run("a report", func(t *testing.T) {
		rep, err := ReadReport(write("ok.json", js.String()))
		require.NoError(t, err)
		assert.Equal(t, testReport().Results, rep.Results)
	})
	t.Run("run-time figures only", func(t *testing.T) {
		rt := NewReport()
		rt.Runtime = testRuntimeReport()
		var b bytes.Buffer
		require.NoError(t, rt.WriteJSON(&b))
		rep, err := ReadReport(write("rt.json", b.String()))
		require.NoError(t, err)
		require.NotNil(t, rep.Runtime)
		assert.Len(t, rep.Runtime.Results, 6)
	})
	t.Run("missing", func(t *testing.T) {
		_, err := ReadReport(filepath.Join(dir, "nope.json"))
		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.NotErrorIs(t, err, ErrNotReport)
	})
	bad := []struct {
		name, content, want string
	}{
		{"empty", " \n", "the file is empty"},
		{"the table", "SCENARIO  SCOPE  LLB s [min-max] ran\n", "invalid character 'S'"},
		{"an array", "[]", "cannot unmarshal array"},
		{"another report", `{"images": [{"ref": "nginx:bookworm"}]}`, "no build figures (results) and no run-time figures (runtime)"},
		{"no figures", `{"results": [], "runtime": {"results": []}}`, "no build figures"},
		{"a result without a case", `{"results": [{"median_s": 1}]}`, "result 1 has no scenario, scope or variant"},
		{"a figure without a name", `{"results": [], "runtime": {"results": [{"scenario": "up"}]}}`, "run-time result 1 has no scenario or figure"},
		{"two reports", js.String() + js.String(), "more after the JSON object"},
		{"cut short", js.String()[:js.Len()/2], "unexpected EOF"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tc.name, " ", "-")+".json", tc.content)
			_, err := ReadReport(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotReport)
			assert.Contains(t, err.Error(), p+": not an inceptionctl bench report")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWriteJSONFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bench.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	rep := testReport()
	require.NoError(t, rep.WriteJSONFile(path))
	var want bytes.Buffer
	require.NoError(t, rep.WriteJSON(&want))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(got), "the same as --format json, replacing the old file")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm())
	back, err := ReadReport(path)
	require.NoError(t, err)
	assert.Equal(t, rep.Results, back.Results, "a baseline for the next run")

	err = rep.WriteJSONFile(filepath.Join(dir, "missing", "bench.json"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
