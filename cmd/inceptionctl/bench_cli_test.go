package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchreport"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestBenchUsageErrors: bench refuses bad flags with a usage error (exit
// 2) before any daemon is contacted.
func TestBenchUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []usageCase{
		{"unknown scenario", []string{"bench", "--scenarios", "warm"}, `unknown scenario "warm": use no-change, `},
		{"zero repeats", []string{"bench", "--repeats", "0"}, "measure at least once"},
		{"negative minimum time", []string{"bench", "--min-time", "-1s"}, "--min-time -1s: give 0 (exactly --repeats runs) or a positive duration such as 30s"},
		{"maximum below the repeats", []string{"bench", "--repeats", "5", "--max-repeats", "3"}, "--max-repeats 3 is fewer than --repeats 5: give at least as many, or --min-time 0"},
		{"bad format", []string{"bench", "--format", "xml"}, "use table or json"},
		{"unknown variant", []string{"bench", "--variants", "kaniko"}, "unknown variant"},
		{"images without build scenarios", []string{"bench", "--scenarios", "up,https", "--images", "nginx"}, "--images applies to the build scenarios"},
		{"variants without build scenarios", []string{"bench", "--scenarios", "runtime", "--variants", "llb"}, "--variants applies to the build scenarios"},
		{"https flags without https", []string{"bench", "--scenarios", "build", "--https-duration", "5s"}, "--https-duration applies to the https and page-cache scenarios"},
		{"https concurrency without https", []string{"bench", "--scenarios", "up", "--https-concurrency", "4"}, "--https-concurrency applies"},
		{"zero duration", []string{"bench", "--scenarios", "https", "--https-duration", "0s"}, "give a duration from 1s to 10m"},
		{"no connections", []string{"bench", "--https-concurrency", "0"}, "give 1 to 256 connections"},
		{"quick, unknown scenario", []string{"bench", "--quick", "--scenarios", "cold,boot"}, `unknown scenario "boot"`},
		{"zero passes", []string{"bench", "--passes", "0"}, "--passes 0: measure in at least one pass"},
		{"more passes than repeats", []string{"bench", "--repeats", "2", "--passes", "3"}, "--passes 3 is more than --repeats 2: give at most as many passes as repeats"},
		{"quick in passes", []string{"bench", "--quick", "--passes", "2"}, "--quick measures each run-time figure once: give --passes 1"},
		{"unknown distro", []string{"bench", "--scenarios", "build", "--distro", "arch"}, `--distro "arch": use debian or alpine`},
		{"alpine with run-time figures", []string{"bench", "--distro", "alpine"}, "--distro alpine: only the build scenarios"},
		{"alpine with the compose variant", []string{"bench", "--distro", "alpine", "--scenarios", "no-change", "--variants", "llb,compose"}, "--distro alpine: only the build scenarios"},
		{"alpine with the second runner", []string{"bench", "--distro", "alpine", "--scenarios", "second-runner"}, "--distro alpine: only the build scenarios"},
	}
	checkUsageErrors(t, dir, tests)
}

// TestBenchFileUsageErrors: a --baseline that is not a report, and an
// --export-json that cannot be written, are refused before anything is
// measured, saying what to give instead.
func TestBenchFileUsageErrors(t *testing.T) {
	files := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(files, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	const give = "; give the JSON of an earlier run (inceptionctl bench --format json > FILE, or --export-json FILE)"
	missing := filepath.Join(files, "missing.json")
	table := write("table.txt", "SCENARIO  SCOPE\n")
	empty := write("empty.json", `{"results": []}`)
	good := write("good.json", `{"results": [{"scenario": "no-change", "scope": "nginx", "variant": "llb"}]}`)
	noDir := filepath.Join(files, "nodir", "bench.json")
	tests := []usageCase{
		{"missing baseline", []string{"bench", "--baseline", missing}, "--baseline: open " + missing + ": no such file or directory" + give},
		{"baseline not JSON", []string{"bench", "--baseline", table}, "--baseline: " + table + ": not an inceptionctl bench report: invalid character 'S'"},
		{"baseline without figures", []string{"bench", "--baseline", empty}, "not an inceptionctl bench report: no build figures (results) and no run-time figures (runtime)" + give},
		{"export into a missing directory", []string{"bench", "--export-json", noDir},
			"--export-json " + noDir + ": directory " + filepath.Dir(noDir) + " does not exist: create it first, or give a file in an existing directory"},
		{"export onto a directory", []string{"bench", "--export-json", files}, "--export-json " + files + ": is a directory: give a file name"},
		{"good baseline, bad export", []string{"bench", "--baseline", good, "--export-json", noDir}, "does not exist: create it first"},
	}
	checkUsageErrors(t, t.TempDir(), tests)
	entries, err := os.ReadDir(files)
	require.NoError(t, err)
	assert.Len(t, entries, 3, "the write check leaves nothing behind")
}

// TestBenchCheckFiles: a readable baseline is returned to compare with, a
// writable --export-json passes, and neither flag means nothing to read.
func TestBenchCheckFiles(t *testing.T) {
	dir := t.TempDir()
	rep := report.New()
	rep.Results = []report.Result{{Case: report.Case{Scenario: report.ScenarioNoChange, Scope: "nginx"}, Variant: report.VariantLLB, Median: 0.1}}
	path := filepath.Join(dir, "first.json")
	require.NoError(t, rep.WriteJSONFile(path))

	o := &benchOptions{baseline: path, exportJSON: filepath.Join(dir, "second.json")}
	base, err := o.checkFiles()
	require.NoError(t, err)
	require.NotNil(t, base)
	assert.Equal(t, rep.Results, base.Results)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "checking --export-json writes nothing")

	base, err = (&benchOptions{}).checkFiles()
	require.NoError(t, err)
	assert.Nil(t, base)
}

func TestSplitScenarios(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		build []report.Scenario
		rt    []report.RuntimeScenario
	}{
		{"default: everything", nil, report.Scenarios(), report.RuntimeScenarios()},
		{"build only", []string{"build"}, report.Scenarios(), nil},
		{"runtime only", []string{"runtime"}, nil, report.RuntimeScenarios()},
		{"mixed, in run order, once each", []string{"https", "cold", "up", "https"},
			[]report.Scenario{report.ScenarioCold}, []report.RuntimeScenario{report.RuntimeUp, report.RuntimeHTTPS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, r, err := splitScenarios(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.build, b)
			assert.Equal(t, tc.rt, r)
		})
	}
}

// TestBenchPlan: what the flags ask for, daemon-free.
func TestBenchPlan(t *testing.T) {
	plan := planOf
	p := plan(t)
	assert.NotEmpty(t, p.cases, "build figures by default")
	assert.Equal(t, report.RuntimeScenarios(), p.runtime, "and run-time figures")
	assert.NotEmpty(t, p.rtOpts)
	assert.Equal(t, 2, p.passes, "two passes by default")

	p = plan(t, "--quick")
	assert.Len(t, p.cases, 3, "quick: nginx's three build cases")
	assert.Equal(t, 1, p.passes, "quick: one pass")
	assert.Equal(t, report.RuntimeScenarios(), p.runtime, "quick: every run-time figure, reduced")
	p = plan(t, "--quick", "--scenarios", "build", "--passes", "3")
	assert.Equal(t, 3, p.passes, "quick's build figures have 3 runs")

	p = plan(t, "--scenarios", "start")
	assert.Empty(t, p.cases)
	assert.Equal(t, []report.RuntimeScenario{report.RuntimeStart}, p.runtime)

	p = plan(t, "--scenarios", "no-change", "--images", "nginx")
	assert.Len(t, p.cases, 1)
	assert.Empty(t, p.runtime)
	assert.Empty(t, p.rtOpts)
	debian := len(p.opts)

	p = plan(t, "--scenarios", "no-change", "--images", "nginx", "--distro", "alpine")
	assert.Len(t, p.cases, 1)
	assert.Len(t, p.opts, debian+1, "alpine: the graphs' distro (the base a prune keeps follows it)")
}

// TestBenchLock: one run-time bench per engine; the lock goes with the
// run.
func TestBenchLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench-runtime.lock")
	unlock, err := lockBenchStack(path)
	require.NoError(t, err)
	_, err = lockBenchStack(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "another inceptionctl bench measures run-time figures on this engine")
	unlock()
	unlock, err = lockBenchStack(path)
	require.NoError(t, err)
	unlock()
}

// planOf is the bench plan the flags in args make, which must be valid.
func planOf(t *testing.T, args ...string) benchPlan {
	t.Helper()
	o, cmd := benchFlags(t, args...)
	p, err := o.plan(cmd, stack.Default())
	require.NoError(t, err)
	return p
}

// benchFlags is bench's options with args parsed into them.
func benchFlags(t *testing.T, args ...string) (*benchOptions, *cobra.Command) {
	t.Helper()
	o := &benchOptions{}
	cmd := &cobra.Command{}
	cmd.SetErr(io.Discard)
	o.addFlags(cmd.Flags())
	require.NoError(t, cmd.ParseFlags(args))
	return o, cmd
}

// TestBenchPruneGuard: the build scenarios that prune the build cache run
// on an engine of the bench's own root; on the default engine or an
// external builder only with --prune-default-engine. The check needs no
// daemon: it comes before the engine is opened.
func TestBenchPruneGuard(t *testing.T) {
	own := t.TempDir()
	tests := []struct {
		name    string
		g       globalOptions
		args    []string
		refused string // "" when allowed
	}{
		{"default engine, default plan", globalOptions{root: engine.DefaultRoot}, nil, "the default engine (" + engine.DefaultRoot + ")"},
		{"default engine, cold only", globalOptions{root: engine.DefaultRoot + "/"}, []string{"--scenarios", "cold"}, "run the bench on an engine of its own (--root DIR --run-dir DIR"},
		{"default engine, quick", globalOptions{root: engine.DefaultRoot}, []string{"--quick"}, "give --prune-default-engine to prune this one's build cache anyway"},
		{"external builder", globalOptions{root: own, buildkitAddress: "tcp://builder:1234"}, []string{"--scenarios", "config-change"}, "the external buildkitd at tcp://builder:1234 (--buildkit-addr), whose cache your own builds share: run the bench on an engine of its own (without --buildkit-addr, with --root DIR"},
		{"default engine, told to", globalOptions{root: engine.DefaultRoot}, []string{"--prune-default-engine"}, ""},
		{"default engine, no-change prunes nothing", globalOptions{root: engine.DefaultRoot}, []string{"--scenarios", "no-change"}, ""},
		{"default engine, run-time figures prune nothing", globalOptions{root: engine.DefaultRoot}, []string{"--scenarios", "runtime"}, ""},
		{"own root", globalOptions{root: own}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, cmd := benchFlags(t, tc.args...)
			p, err := o.plan(cmd, stack.Default())
			require.NoError(t, err)
			err = o.checkPrune(&tc.g, p)
			if tc.refused == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			var ue *usageError
			assert.True(t, errors.As(err, &ue), "a usage error (exit 2): %v", err)
			assert.Contains(t, err.Error(), tc.refused)
		})
	}
}

// TestBenchTargets: --targets' file, then --target, over the project's
// defaults; bad names and values are usage errors that list the names.
func TestBenchTargets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "targets")
	require.NoError(t, os.WriteFile(file, []byte("# ours\nno-change=0.4\npackage-change=0.7\n"), 0o600))
	p := planOf(t, "--targets", file, "--target", "no-change=0.3", "--target", "second-runner=0.2")
	assert.InDelta(t, 0.3, p.targets[benchreport.NoChange], 1e-9, "--target wins over the file")
	assert.InDelta(t, 0.7, p.targets[benchreport.PackageChange], 1e-9)
	assert.InDelta(t, 0.2, p.targets[benchreport.SecondRunner], 1e-9)
	assert.InDelta(t, 0.5, p.targets[benchreport.ConfigChange], 1e-9, "the default")
	assert.Equal(t, benchreport.Defaults(), planOf(t).targets)

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("no-change=0.4\nrebuild=1\n"), 0o600))
	const names = "no-change, config-change, package-change, second-runner, page-cache-hit, page-cache-logged-in, page-cache-hit-p99-ms"
	checkUsageErrors(t, t.TempDir(), []usageCase{
		{"unknown target", []string{"bench", "--target", "nochange=0.5"}, `--target nochange=0.5: unknown target "nochange": use ` + names},
		{"target without a value", []string{"bench", "--target", "no-change"}, "--target no-change: give NAME=VALUE, NAME one of " + names},
		{"target not a number", []string{"bench", "--target", "no-change=half"}, `--target no-change=half: value "half": give a positive number, e.g. no-change=0.5`},
		{"negative target", []string{"bench", "--target", "page-cache-hit=-1"}, "give a positive number, e.g. page-cache-hit=20"},
		{"bad targets file", []string{"bench", "--targets", bad}, "--targets: " + bad + `:2: unknown target "rebuild": use ` + names},
		{"missing targets file", []string{"bench", "--targets", filepath.Join(dir, "missing")}, "--targets: open "},
	})
}

// TestBenchHelpTargets: the help states every target with its default,
// and no issue number.
func TestBenchHelpTargets(t *testing.T) {
	long := newBenchCmd(&globalOptions{}).Long
	for _, n := range benchreport.Names() {
		assert.Contains(t, long, "  "+n+"="+strconv.FormatFloat(benchreport.Defaults()[n], 'g', -1, 64)+" ")
	}
	assert.NotRegexp(t, `(?i)issue|#\d`, long)
}

// TestBenchBaselineBefore: --baseline reads the report of a default run
// written before the bench package was reshaped, and a run with the same
// figures reproduces it.
func TestBenchBaselineBefore(t *testing.T) {
	path := filepath.Join("..", "..", "pkg", "bench", "testdata", "report-before.json")
	base, err := (&benchOptions{baseline: path}).checkFiles()
	require.NoError(t, err)
	require.NotNil(t, base)
	assert.Len(t, base.Results, 57)
	require.NotNil(t, base.Runtime)
	c := benchreport.Compare(base, base, path)
	assert.Equal(t, 57+len(base.Runtime.Results), c.Judged)
	assert.Equal(t, c.Judged, c.Inside)
	require.NotNil(t, c.Machine, "both have machine references")
}
