package benchreport

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// ErrUnknownTarget is a target name that is none of Names.
var ErrUnknownTarget = errors.New("unknown target")

// Target names: what each one sets a limit on.
const (
	// NoChange: the whole stack rebuilt unchanged, the project's graphs
	// (llb) over the Dockerfile frontend, at most.
	NoChange = "no-change"
	// ConfigChange: one config line changed, llb over dockerfile, at
	// most: the stack's case, else nginx's.
	ConfigChange = "config-change"
	// PackageChange: one package added to nginx, llb over a linear chain,
	// at most.
	PackageChange = "package-change"
	// SecondRunner: a fresh builder with the registry cache over the same
	// builder without it, at most.
	SecondRunner = "second-runner"
	// PageCacheHit: the anonymous home page's requests per second with
	// nginx's page cache over without it, at least.
	PageCacheHit = "page-cache-hit"
	// PageCacheLoggedIn: the logged-in home page's requests per second
	// with the page cache over without it, at least.
	PageCacheLoggedIn = "page-cache-logged-in"
	// PageCacheHitP99 is the p99 latency of the cache's hits in
	// milliseconds, under.
	PageCacheHitP99 = "page-cache-hit-p99-ms"
)

// defaults are the project's targets, in the order Names lists them.
var defaults = []struct {
	name  string
	value float64
}{
	{NoChange, 0.5},
	{ConfigChange, 0.5},
	{PackageChange, 0.6},
	{SecondRunner, 0.25},
	{PageCacheHit, 20},
	{PageCacheLoggedIn, 1.2},
	{PageCacheHitP99, 20},
}

// Targets are limits by target name.
type Targets map[string]float64

// Defaults are the project's targets:
//
//	no-change=0.5 config-change=0.5 package-change=0.6 second-runner=0.25
//	page-cache-hit=20 page-cache-logged-in=1.2 page-cache-hit-p99-ms=20
func Defaults() Targets {
	t := Targets{}
	for _, d := range defaults {
		t[d.name] = d.value
	}
	return t
}

// Names lists the target names, in the order the report prints them.
func Names() []string {
	out := make([]string, len(defaults))
	for i, d := range defaults {
		out[i] = d.name
	}
	return out
}

// String is the targets as NAME=VALUE, in the order of Names.
func (t Targets) String() string {
	var parts []string
	for _, n := range Names() {
		if v, ok := t[n]; ok {
			parts = append(parts, n+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	return strings.Join(parts, " ")
}

// Set sets one target from NAME=VALUE: a known name and a positive number.
func (t Targets) Set(s string) error {
	name, value, ok := strings.Cut(strings.TrimSpace(s), "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || name == "" || value == "" {
		return fmt.Errorf("give NAME=VALUE, NAME one of %s", strings.Join(Names(), ", "))
	}
	if !slices.Contains(Names(), name) {
		return fmt.Errorf("%w %q: use %s", ErrUnknownTarget, name, strings.Join(Names(), ", "))
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("value %q: give a positive number, e.g. %s=%s", value, name, strconv.FormatFloat(Defaults()[name], 'g', -1, 64))
	}
	t[name] = v
	return nil
}

// ReadFile sets the targets a file lists: one NAME=VALUE a line; blank
// lines and lines starting with # are skipped.
func (t Targets) ReadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := t.Set(line); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Check checks the report's figures against the targets: the build
// figures' (rep.Targets, when the report has build figures), the page
// cache's (rep.Runtime.PageCache) and the second runner's
// (rep.SecondRunner.Target).
func (t Targets) Check(rep *report.Report) {
	if len(rep.Results) > 0 {
		rep.Targets = t.build(rep.Results)
	}
	if rep.Runtime != nil {
		rep.Runtime.PageCache = t.pageCache(rep.Runtime.Results)
	}
	if rep.SecondRunner != nil {
		rep.SecondRunner.Target = t.secondRunner(rep.SecondRunner.Results)
	}
}

// buildRatios are the build figures' targets: a case (the stack's when
// measured, else the single image's), the variant measured and the one it
// is compared with.
var buildRatios = []struct {
	name     string
	scopes   []string
	num, den report.Variant
}{
	{NoChange, []string{report.ScopeStack}, report.VariantLLB, report.VariantDockerfile},
	{ConfigChange, []string{report.ScopeStack, "nginx"}, report.VariantLLB, report.VariantDockerfile},
	{PackageChange, []string{"nginx"}, report.VariantLLB, report.VariantLinear},
}

func (t Targets) build(results []report.Result) []benchstat.TargetCheck {
	find := func(sc, scope string, v report.Variant) (report.Result, bool) {
		for _, r := range results {
			if string(r.Scenario) == sc && r.Scope == scope && r.Variant == v && len(r.Runs) > 0 {
				return r, true
			}
		}
		return report.Result{}, false
	}
	out := []benchstat.TargetCheck{}
	for _, b := range buildRatios {
		limit := t[b.name]
		tc := benchstat.TargetCheck{Name: fmt.Sprintf("%s/%s %s/%s", b.name, b.scopes[0], b.num, b.den), Limit: limit, Missing: true}
		for _, scope := range b.scopes {
			num, ok1 := find(b.name, scope, b.num)
			den, ok2 := find(b.name, scope, b.den)
			if !ok1 || !ok2 || den.Median == 0 {
				continue
			}
			tc.Name = fmt.Sprintf("%s/%s %s/%s", b.name, scope, b.num, b.den)
			tc.Ratio = num.Median / den.Median
			tc.Pass = tc.Ratio <= limit
			tc.Missing = false
			break
		}
		out = append(out, tc)
	}
	return out
}

// secondRunner is with-cache over without-cache; Missing when either has
// no run.
func (t Targets) secondRunner(results []report.SecondRunnerResult) benchstat.TargetCheck {
	tc := benchstat.TargetCheck{Name: report.SecondRunner + " " + report.FigureWithCache + "/" + report.FigureWithoutCache, Limit: t[SecondRunner], Missing: true}
	var with, without *report.SecondRunnerResult
	for i := range results {
		switch r := &results[i]; {
		case len(r.Runs) == 0:
		case r.Figure == report.FigureWithCache:
			with = r
		case r.Figure == report.FigureWithoutCache:
			without = r
		}
	}
	if with == nil || without == nil || without.Median <= 0 {
		return tc
	}
	tc.Ratio = with.Median / without.Median
	tc.Pass = tc.Ratio <= tc.Limit
	tc.Missing = false
	return tc
}

// pageCache sets the page cache's figures against each other; nil when
// any of the figures it needs has no run.
func (t Targets) pageCache(results []report.RuntimeResult) *benchstat.PageCacheTargets {
	fig := map[string]report.RuntimeResult{}
	for _, r := range results {
		if r.Scenario == report.RuntimePageCache && len(r.Runs) > 0 {
			fig[r.Figure] = r
		}
	}
	ratio := func(a, b string) (float64, bool) {
		x, okx := fig[a]
		y, oky := fig[b]
		if !okx || !oky || y.Median <= 0 {
			return 0, false
		}
		return x.Median / y.Median, true
	}
	hit, ok1 := ratio(report.FigureAnonymous, report.FigureAnonymousOff)
	in, ok2 := ratio(report.FigureLoggedIn, report.FigureLoggedInOff)
	if !ok1 || !ok2 {
		return nil
	}
	pc := &benchstat.PageCacheTargets{HitRatio: hit, LoggedInRatio: in, HitP99ms: fig[report.FigureAnonymous].P99ms,
		HitRatioTarget: t[PageCacheHit], LoggedInRatioTarget: t[PageCacheLoggedIn], HitP99msTarget: t[PageCacheHitP99]}
	pc.MissRatio, _ = ratio(report.FigureMiss, report.FigureMissOff)
	pc.LoggedInVsRender, _ = ratio(report.FigureLoggedIn, report.FigureAnonymousOff)
	pc.HitRatioOK = hit >= pc.HitRatioTarget
	pc.LoggedInRatioOK = in >= pc.LoggedInRatioTarget
	pc.HitP99OK = pc.HitP99ms > 0 && pc.HitP99ms < pc.HitP99msTarget
	return pc
}
