package benchreport

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// The reports the tables and charts are tested on, in testdata: written
// by pkg/bench from runs made up in its tests (summarised as a bench
// summarises them), a date and a machine fixed.
//
//	build.json: no-change on the stack and package-change on nginx, three
//	runs in each variant, the targets checked;
//	runtime.json: up, start and https figures, the no-cache figure
//	failed (100 errors per run);
//	second-runner.json, second-runner-no-pull.json: the second runner's
//	figures, with and without pull and up.
func fixture(t *testing.T, name string) *report.Report {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var rep report.Report
	require.NoError(t, json.Unmarshal(dt, &rep))
	return &rep
}

// testReport is build.json; testRuntimeReport runtime.json's run-time
// figures; secondRunnerReport a second-runner fixture's figures.
func testReport(t *testing.T) *report.Report { return fixture(t, "build.json") }

func testRuntimeReport(t *testing.T) *report.RuntimeReport { return fixture(t, "runtime.json").Runtime }

func secondRunnerReport(t *testing.T, pullUp bool) *report.SecondRunnerReport {
	if pullUp {
		return fixture(t, "second-runner.json").SecondRunner
	}
	return fixture(t, "second-runner-no-pull.json").SecondRunner
}

func TestLabels(t *testing.T) {
	assert.Equal(t, "5 runs", RunsLabel(5, 0, 0))
	assert.Equal(t, "5 runs", RunsLabel(5, 5, 40))
	assert.Equal(t, "5 to 15 runs (more while they add up to less than 40s)", RunsLabel(5, 15, 40))
	assert.Equal(t, "5-15", runsRange(5, 15, 40))
	assert.Equal(t, "3", runsRange(3, 15, 0))
	assert.Empty(t, passesLabel(1))
	assert.Equal(t, ", in 2 passes, each", passesLabel(2))
}

func TestOutputs(t *testing.T) {
	rep := testReport(t)
	var table bytes.Buffer
	require.NoError(t, WriteTable(&table, rep))
	out := table.String()
	assert.Contains(t, out, "LLB s [min-max] ran")
	assert.Contains(t, out, "0.20 [0.10-0.30] 1/3")
	assert.Contains(t, out, "no-change/stack llb/dockerfile")
	assert.Contains(t, out, "0.40 PASS")
	assert.Contains(t, out, "0.83 MISS")
	assert.Contains(t, out, "n/a (not measured)")

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back report.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Len(t, back.Results, len(rep.Results))

	// background + legend + one bar per result
	assert.Equal(t, 1+len(rep.Variants)+len(rep.Results), svgRects(t, rep))
}

func TestRuntimeOutputs(t *testing.T) {
	t.Run("with build figures", func(t *testing.T) {
		rep := testReport(t)
		rep.Runtime = testRuntimeReport(t)
		var table bytes.Buffer
		require.NoError(t, WriteTable(&table, rep))
		out := table.String()
		assert.Contains(t, out, "LLB s [min-max] ran", "the build table first")
		assert.Contains(t, out, "RUN TIME: stack benchrt (nginx, wordpress), images built; median of 3 runs after a warm-up")
		assert.Contains(t, out, "up to home page 200, first boot (empty volumes)  13.0 [12.0-15.0] s")
		assert.Contains(t, out, "Up --wait returned after 12.0s")
		assert.Contains(t, out, "start static: task running")
		assert.Contains(t, out, "0.11 [0.10-0.12] s")
		assert.Contains(t, out, "95.0 [90.0-100.0] req/s")
		assert.Contains(t, out, "p50 80 ms, p99 200 ms; 0 errors in 2850 requests")
		assert.Contains(t, out, "FAILED: run 1: 100 errors in 700 requests (14.3% > 1%); first: status 502 Bad Gateway")
		assert.Contains(t, out, "FAILED figures:\n  https/no-cache: run 1:")
		assert.Contains(t, out, "8 connections for 10s per run")

		var js bytes.Buffer
		require.NoError(t, rep.WriteJSON(&js))
		var back report.Report
		require.NoError(t, json.Unmarshal(js.Bytes(), &back))
		require.NotNil(t, back.Runtime)
		assert.Equal(t, rep.Runtime.Results, back.Runtime.Results)
		assert.Len(t, back.Results, len(rep.Results))

		rects := svgRects(t, rep)
		// background + legend + one bar per build result + one per figure
		assert.Equal(t, 1+len(rep.Variants)+len(rep.Results)+len(rep.Runtime.Results), rects)
	})
	t.Run("run-time figures only", func(t *testing.T) {
		rep := report.New()
		rep.Runtime = testRuntimeReport(t)
		var table bytes.Buffer
		require.NoError(t, WriteTable(&table, rep))
		assert.NotContains(t, table.String(), "LLB", "no empty build table")
		assert.NotContains(t, table.String(), "target ")
		assert.True(t, strings.HasPrefix(table.String(), "RUN TIME: "))
		assert.Equal(t, 1+len(rep.Runtime.Results), svgRects(t, rep))
		var js bytes.Buffer
		require.NoError(t, rep.WriteJSON(&js))
		assert.Contains(t, js.String(), `"runtime": {`)
		assert.Contains(t, js.String(), `"figure": "no-cache"`)
	})
	t.Run("build figures only", func(t *testing.T) {
		var js bytes.Buffer
		require.NoError(t, testReport(t).WriteJSON(&js))
		assert.NotContains(t, js.String(), `"runtime"`)
	})
}

// svgRects checks that the chart is well-formed XML and counts its rects.
func svgRects(t *testing.T, rep *report.Report) int {
	t.Helper()
	var svg bytes.Buffer
	require.NoError(t, WriteSVG(&svg, rep))
	dec := xml.NewDecoder(&svg)
	rects := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "well-formed SVG")
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	return rects
}

// The table: one row per figure, what ran, the target as PASS or MISS;
// no build table when only the second runner was measured.
func TestSecondRunnerTable(t *testing.T) {
	rep := report.New()
	rep.SecondRunner = secondRunnerReport(t, true)
	var out bytes.Buffer
	require.NoError(t, WriteTable(&out, rep))
	s := out.String()
	assert.NotContains(t, s, "SCENARIO", "no empty build table")
	assert.Contains(t, s, "SECOND RUNNER: nginx, redis; median of 3 runs")
	assert.Regexp(t, `with-cache\s+a fresh builder, --cache-from the registry cache, pushes\s+21.0 \[20.0-22.0\] s\s+3/10`, s)
	assert.Regexp(t, `without-cache\s+.*\s+95.0 \[90.0-100\] s\s+10/10`, s)
	assert.Regexp(t, `pull\s+the engine pulls the images .*\s+12.0 \[12.0-12.0\] s\s+-`, s)
	assert.Contains(t, s, "target second-runner with-cache/without-cache")
	assert.Contains(t, s, "0.22 PASS")
	assert.Contains(t, s, "up: stack\nbenchpull, empty volumes")

	rep.SecondRunner = secondRunnerReport(t, false)
	rep.SecondRunner.Results[1] = report.SecondRunnerResult{Figure: report.FigureWithCache, Median: 50, Min: 50, Max: 50, Vertices: 10, Cached: 5,
		Runs: []report.Measurement{{Seconds: 50}}}
	rep.SecondRunner.Target = benchstat.TargetCheck{Name: "second-runner with-cache/without-cache", Ratio: 50.0 / 95, Limit: 0.25}
	out.Reset()
	require.NoError(t, WriteTable(&out, rep))
	assert.Contains(t, out.String(), "0.53 MISS")
	assert.Contains(t, out.String(), "pull and pull-and-up: not measured")
}

// figureOf is a build figure: one run, and the statistics given (not
// computed, so that a test can put them where it wants).
func figureOf(sc report.Scenario, scope, changed string, v report.Variant, med, lo, hi float64) report.Result {
	return report.Result{Case: report.Case{Scenario: sc, Scope: scope, Images: []string{scope}, Changed: changed}, Variant: v,
		Runs: []report.Measurement{{Seconds: med}}, Median: med, Min: lo, Max: hi}
}

// rtFigureOf is a run-time figure, as figureOf.
func rtFigureOf(sc report.RuntimeScenario, fig, unit string, med, lo, hi float64, failed string) report.RuntimeResult {
	return report.RuntimeResult{Scenario: sc, Figure: fig, Unit: unit, Runs: []report.RuntimeRun{{Value: med}},
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
			cur, base := &report.Report{}, &report.Report{}
			name, unit := "config-change/nginx dockerfile", "s"
			if tc.unit == "" {
				cur.Results = []report.Result{figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantDockerfile, tc.med, tc.med, tc.med)}
				base.Results = []report.Result{figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantDockerfile, tc.lo, tc.lo, tc.hi)}
				assert.Equal(t, tc.printedTable, secs(tc.med)+" ["+secs(tc.lo)+"-"+secs(tc.hi)+"]")
			} else {
				name, unit = "https/redis-cache", tc.unit
				cur.Runtime = &report.RuntimeReport{Results: []report.RuntimeResult{rtFigureOf(report.RuntimeHTTPS, report.FigureRedisCache, unit, tc.med, tc.med, tc.med, "")}}
				base.Runtime = &report.RuntimeReport{Results: []report.RuntimeResult{rtFigureOf(report.RuntimeHTTPS, report.FigureRedisCache, unit, tc.lo, tc.lo, tc.hi, "")}}
				r := cur.Runtime.Results[0]
				assert.Equal(t, tc.printedTable, value(r, tc.med)+" ["+value(r, tc.lo)+"-"+value(r, tc.hi)+"]")
			}
			c := Compare(cur, base, "base.json")
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
func comparedReports() (cur, base *report.Report) {
	started := time.Date(2026, 11, 25, 13, 24, 51, 0, time.UTC)
	base = &report.Report{Started: started, Results: []report.Result{
		figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantLLB, 0.1, 0.09, 0.12),
		figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantDockerfile, 0.18, 0.17, 0.19),
		// the same case with another image changed: not a counterpart
		figureOf(report.ScenarioConfig, report.ScopeStack, "static", report.VariantLLB, 0.3, 0.2, 0.4),
		figureOf(report.ScenarioNoChange, "nginx", "", report.VariantLLB, 0.05, 0.04, 0.06),
	}, Runtime: &report.RuntimeReport{Results: []report.RuntimeResult{
		rtFigureOf(report.RuntimeUp, report.FigureFirstBoot, "s", 4.98, 4.31, 5.08, ""),
		rtFigureOf(report.RuntimeHTTPS, report.FigureRedisCache, "req/s", 25, 23.1, 25.3, ""),
		rtFigureOf(report.RuntimeHTTPS, report.FigureNoCache, "req/s", 22.2, 20.8, 22.7, "run 2: 9 errors in 100 requests"),
		{Scenario: report.RuntimeStart, Figure: report.FigureRunning, Unit: "s"}, // no runs
	}}}
	notMeasured := figureOf(report.ScenarioNoChange, "nginx", "", report.VariantLLB, 0, 0, 0)
	notMeasured.Runs = nil
	cur = &report.Report{Started: started.Add(time.Hour), Results: []report.Result{
		figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantLLB, 0.11, 0.1, 0.2),
		figureOf(report.ScenarioConfig, "nginx", "nginx", report.VariantDockerfile, 0.22, 0.2, 0.25),
		figureOf(report.ScenarioConfig, report.ScopeStack, "nginx", report.VariantLLB, 0.3, 0.2, 0.4),
		figureOf(report.ScenarioCold, "nginx", "", report.VariantLinear, 10.6, 10.4, 10.8),
		notMeasured,
	}, Runtime: &report.RuntimeReport{Results: []report.RuntimeResult{
		rtFigureOf(report.RuntimeUp, report.FigureFirstBoot, "s", 5.1, 4.9, 5.3, ""),
		rtFigureOf(report.RuntimeHTTPS, report.FigureRedisCache, "req/s", 24, 20, 26, "run 1: 50 errors in 100 requests"),
		rtFigureOf(report.RuntimeHTTPS, report.FigureNoCache, "req/s", 22.2, 21, 23, ""),
		rtFigureOf(report.RuntimeStart, report.FigureRunning, "s", 0.11, 0.1, 0.14, ""),
	}}}
	return cur, base
}

func TestCompareFigures(t *testing.T) {
	cur, base := comparedReports()
	c := Compare(cur, base, "first.json")
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
		c := Compare(base, base, "first.json")
		assert.Equal(t, 6, c.Judged, "every measured figure that did not fail")
		assert.Equal(t, 6, c.Inside)
		assert.Empty(t, c.Outside)
		assert.Equal(t, []string{"https/no-cache"}, c.Failed)
		assert.Empty(t, c.Unmatched)
	})
	t.Run("nothing in common", func(t *testing.T) {
		c := Compare(cur, &report.Report{Results: []report.Result{figureOf(report.ScenarioSite, "static", "static", report.VariantLLB, 1, 1, 1)}}, "other.json")
		assert.Equal(t, 0, c.Judged)
		assert.Equal(t, 0, c.Inside)
		assert.Empty(t, c.Outside)
		assert.Len(t, c.Unmatched, 7)
	})
}

func TestCompareTable(t *testing.T) {
	cur, base := comparedReports()
	cur.Comparison = Compare(cur, base, "first.json")
	var b bytes.Buffer
	require.NoError(t, writeComparison(&b, cur))
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
		require.NoError(t, WriteTable(&all, cur))
		assert.True(t, strings.HasSuffix(all.String(), b.String()), "the comparison comes last:\n%s", all.String())
		assert.Contains(t, all.String(), "RUN TIME: ")
	})
	t.Run("reproduced", func(t *testing.T) {
		base.Comparison = Compare(base, base, "first.json")
		base.Comparison.Failed = nil
		var b bytes.Buffer
		require.NoError(t, writeComparison(&b, base))
		assert.Equal(t, "\nREPRODUCED against first.json (run of 2026-11-25 13:24 UTC): 6 of 6 medians inside the baseline's min-max band\n"+
			"inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code\n", b.String())
	})
	t.Run("nothing judged", func(t *testing.T) {
		rep := &report.Report{Comparison: &benchstat.Comparison{Baseline: "x.json", Unmatched: []string{"cold/nginx llb"}}}
		var b bytes.Buffer
		require.NoError(t, writeComparison(&b, rep))
		assert.Equal(t, "\nNOT COMPARED against x.json: no figure of this run is in the baseline\n"+
			"  not in the baseline (or failed in it), not judged: cold/nginx llb\n"+
			"inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code\n", b.String())
	})
	t.Run("no comparison, no section", func(t *testing.T) {
		rep := testReport(t)
		var b bytes.Buffer
		require.NoError(t, WriteTable(&b, rep))
		assert.NotContains(t, b.String(), "baseline")
		var js bytes.Buffer
		require.NoError(t, rep.WriteJSON(&js))
		assert.NotContains(t, js.String(), `"comparison"`)
	})
	t.Run("in the JSON", func(t *testing.T) {
		var js bytes.Buffer
		require.NoError(t, cur.WriteJSON(&js))
		var back report.Report
		require.NoError(t, json.Unmarshal(js.Bytes(), &back))
		assert.Equal(t, cur.Comparison, back.Comparison)
		assert.Contains(t, js.String(), `"baseline_min": 0.17`)
	})
}

// TestCompareMachine: the machine references of both reports, build and
// run-time figures together, when both timed the same work.
func TestCompareMachine(t *testing.T) {
	withRef := func(work string, secs ...float64) *report.Report {
		rep := report.New()
		rep.Results = []report.Result{{Case: report.Case{Scenario: report.ScenarioNoChange, Scope: "nginx"}, Variant: report.VariantLLB,
			Runs: []report.Measurement{{Seconds: 1}}, Median: 1, Min: 1, Max: 1}}
		if work != "" {
			ref := &benchstat.Reference{Work: work}
			for _, s := range secs {
				ref.Runs = append(ref.Runs, benchstat.ReferenceRun{Seconds: s})
			}
			// Half the timings in the run-time report: both count.
			rep.Runtime = &report.RuntimeReport{Reference: &benchstat.Reference{Work: work, Runs: ref.Runs[len(ref.Runs)/2:]}}
			ref.Runs = ref.Runs[:len(ref.Runs)/2]
			rep.Reference = ref
		}
		return rep
	}
	cur, base := withRef("w", 0.1, 0.1, 0.1, 0.1), withRef("w", 0.2, 0.2, 0.2, 0.2)
	c := Compare(cur, base, "base.json")
	require.NotNil(t, c.Machine)
	assert.InDelta(t, 0.1, c.Machine.Median, 1e-9)
	assert.InDelta(t, 0.2, c.Machine.Baseline, 1e-9)
	cur.Comparison = c
	var out bytes.Buffer
	require.NoError(t, writeComparison(&out, cur))
	assert.Contains(t, out.String(), "machine reference (w): 0.100 s against the baseline's 0.200 s: the machine was 100 % faster than in the baseline's run")

	assert.Nil(t, Compare(cur, withRef(""), "old.json").Machine, "a baseline without a reference")
	assert.Nil(t, Compare(cur, withRef("other work", 0.2, 0.2), "old.json").Machine, "another reference work")
}

// TestPageCacheTargetsTable: the page cache's verdicts, as printed with
// the targets they were checked against.
func TestPageCacheTargetsTable(t *testing.T) {
	pc := &benchstat.PageCacheTargets{HitRatio: 10, LoggedInRatio: 1.3, LoggedInRatioOK: true, HitP99ms: 12, HitP99OK: true, MissRatio: 1, LoggedInVsRender: 0.75,
		HitRatioTarget: 12.5, LoggedInRatioTarget: 1.2, HitP99msTarget: 20}
	var b bytes.Buffer
	writePageCache(&b, pc, "")
	assert.Contains(t, b.String(), "page cache, one run: anonymous home page 10.0 x its figure with the cache off (target >= 12.5 x) MISS;")
	assert.Contains(t, b.String(), "logged in 1.30 x with the cache off (target >= 1.2 x) PASS")
	assert.Contains(t, b.String(), "p99 of the hits 12.0 ms (target < 20 ms) PASS")
	b.Reset()
	writePageCache(&b, pc, report.PageCacheOffStock)
	assert.Contains(t, b.String(), "anonymous home page 10.0 x its figure on the stack before (cache off, PHP stock) (target >= 12.5 x) MISS;")
	assert.Contains(t, b.String(), "logged in 1.30 x on the stack before (cache off, PHP stock) (target >= 1.2 x) PASS")
	b.Reset()
	writePageCache(&b, nil, report.PageCacheOffStock)
	assert.Empty(t, b.String(), "no page-cache figures, no lines")
}
