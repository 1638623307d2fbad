package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// Engine is the BuildKit client a benchmark drives: it builds, and prunes
// and lists the build cache.
type Engine interface {
	build.Solver
	Prune(ctx context.Context, ch chan client.UsageInfo, opts ...client.PruneOption) error
	DiskUsage(ctx context.Context, opts ...client.DiskUsageOption) ([]*client.UsageInfo, error)
}

var _ Engine = (*client.Client)(nil)

// ImageStore is the part of containerd's image store a benchmark uses: to
// check that the base image survives a prune, to let the builds skip the
// solve of an unchanged image as `inceptionctl build` does (see
// build.WithImageStore), and to remove the images it stored. containerd's
// images.Store is one.
type ImageStore interface {
	Get(ctx context.Context, name string) (images.Image, error)
	Update(ctx context.Context, img images.Image, fieldpaths ...string) (images.Image, error)
	Delete(ctx context.Context, name string, opts ...images.DeleteOpt) error
}

var _ ImageStore = images.Store(nil)

// Option is an option every bench takes: how many runs a figure has, in
// how many passes, where the log goes. It is a BuildOption and a
// RuntimeOption.
type Option func(*config)

// BuildOption configures a BuildBench (and Run), or a SecondRunnerBench.
type BuildOption interface{ applyBuild(*config) }

// RuntimeOption configures a RuntimeBench (and RunRuntime).
type RuntimeOption interface{ applyRuntime(*config) }

func (o Option) applyBuild(c *config)   { o(c) }
func (o Option) applyRuntime(c *config) { o(c) }

// buildOption is an option of the build benches only.
type buildOption func(*config)

func (o buildOption) applyBuild(c *config) { o(c) }

// runtimeOption is an option of the run-time bench only.
type runtimeOption func(*config)

func (o runtimeOption) applyRuntime(c *config) { o(c) }

type config struct {
	repeats      int
	minTime      time.Duration
	maxRepeats   int
	passes       int // every figure's runs spread over this many passes
	pass         int // the pass being measured, from 1; 0 counts as the last
	reference    bool
	variants     []report.Variant
	log          io.Writer
	progressOut  io.Writer
	progressMode string
	tmp          string
	store        ImageStore
	keepImages   bool
	coldKeeps    bool // the cold scenario keeps the package caches
	llbOpts      []llbdefs.Option
	baseRef      string        // the images' base (llbdefs.BaseRef of llbOpts)
	compose      composeConfig // the compose variant's dockerd (compose.go)
	// run-time figures (RunRuntime)
	loadDuration time.Duration
	concurrency  int
	noUpWarmup   bool
	upTimeout    time.Duration
}

// WithRepeats measures every case n times after the warm-up (default 5).
func WithRepeats(n int) Option { return func(c *config) { c.repeats = n } }

// WithMinTime measures a figure more than the repeats when its runs are
// short: runs are added, round by round, until the figure's measured time
// reaches d, up to max runs in all (default: no minimum, exactly the
// repeats). Like hyperfine's minimum benchmarking time: a short figure is
// cheap to measure often, and with 5 runs the median of a second run falls
// outside the first run's min-max band 1 time in 6 by chance alone (with
// 9, 1 in 34; with 15, 1 in 450).
func WithMinTime(d time.Duration, max int) Option {
	return func(c *config) { c.minTime, c.maxRepeats = d, max }
}

// WithPasses spreads every figure's runs over n passes (default 1). A
// pass measures every case in turn, each after its warm-up, and gives each
// figure its share of the runs: by the end of pass k, k/n of the repeats,
// of the minimum time and of the maximum runs, rounded up. A figure's runs
// then lie minutes apart, and its min-max band shows how the machine's
// speed moved over the whole run, not over the half minute its runs take
// in a row: the speed of a shared machine wanders by more than that
// between one run of the benchmark and the next.
func WithPasses(n int) Option { return func(c *config) { c.passes = n } }

// wants says whether a figure with runs measured runs, spent seconds in
// all, is measured again in this pass.
func (c *config) wants(runs int, spent float64) bool {
	switch {
	case runs < c.due(c.repeats):
		return true
	case runs >= c.due(c.maxRepeats):
		return false
	}
	k, n := c.share()
	return spent < c.minTime.Seconds()*float64(k)/float64(n)
}

// share is how much of a figure is due by the end of this pass: k of n
// parts, 1 of 1 in the last pass (or the only one).
func (c *config) share() (k, n int) {
	if c.passes <= 1 || c.pass <= 0 || c.pass >= c.passes {
		return 1, 1
	}
	return c.pass, c.passes
}

// due is the share of runs runs due by the end of this pass, rounded up.
func (c *config) due(runs int) int {
	k, n := c.share()
	return (runs*k + n - 1) / n
}

// startPass makes pass k the one measured, when it is the next of a bench
// not closed: passes are measured once each, in order.
func (c *config) startPass(k int, closed bool) error {
	switch {
	case closed:
		return errors.New("the bench is closed")
	case k != c.pass+1 || k > c.passes:
		return fmt.Errorf("pass %d: the next pass is %d of %d", k, c.pass+1, c.passes)
	}
	c.pass = k
	return nil
}

// setBaseRef names the base the images start from, which must survive a
// prune: the one their image options give (WithImageOptions).
func (c *config) setBaseRef() error {
	ref, err := llbdefs.BaseRef(c.llbOpts...)
	if err != nil {
		return fmt.Errorf("image options: %w", err)
	}
	c.baseRef = ref
	return nil
}

// checkRepeats checks the repeats, the minimum time and the passes.
func (c *config) checkRepeats() error {
	switch {
	case c.repeats < 1:
		return fmt.Errorf("repeats %d: measure at least once", c.repeats)
	case c.minTime < 0:
		return fmt.Errorf("minimum time %v: give zero or a positive duration", c.minTime)
	case c.minTime > 0 && c.maxRepeats < c.repeats:
		return fmt.Errorf("at most %d runs is fewer than the %d repeats: give a maximum of at least the repeats", c.maxRepeats, c.repeats)
	case c.passes < 1:
		return fmt.Errorf("passes %d: measure in at least one pass", c.passes)
	case c.passes > c.repeats:
		return fmt.Errorf("%d passes for %d repeats: give at most as many passes as repeats, so that every pass measures every figure", c.passes, c.repeats)
	}
	return nil
}

// WithVariants measures only vs (default: all, in the order of
// report.Variants).
func WithVariants(vs ...report.Variant) BuildOption {
	return buildOption(func(c *config) { c.variants = slices.Clone(vs) })
}

// WithLog writes one line per measurement to w.
func WithLog(w io.Writer) Option { return func(c *config) { c.log = w } }

// WithProgress shows the builds' progress on w (pkg/build's modes).
func WithProgress(w io.Writer, mode string) BuildOption {
	return buildOption(func(c *config) { c.progressOut, c.progressMode = w, mode })
}

// withTempDir keeps the scratch copies of changed files and the Dockerfile
// build contexts under dir (default: a new directory under os.TempDir,
// removed at the end).
func withTempDir(dir string) BuildOption { return buildOption(func(c *config) { c.tmp = dir }) }

// WithImageStore checks the base image in store after every prune, and
// removes the bench's images from it at the end. Required by the cold
// scenario.
func WithImageStore(s ImageStore) BuildOption {
	return buildOption(func(c *config) { c.store = s })
}

// WithKeepImages leaves the images the benchmark built (<image>:bench-<variant>)
// in the image store.
func WithKeepImages() BuildOption { return buildOption(func(c *config) { c.keepImages = true }) }

// WithColdKeepingPackages makes the cold scenario keep the cache mounts,
// where apt keeps the .deb files it downloaded: every package is installed
// again, from what the Debian mirror gave before, so the figure leaves out
// the mirror's speed, which drifts from one run to the next. By default a
// cold case empties them too, as on a machine that never built.
func WithColdKeepingPackages() BuildOption {
	return buildOption(func(c *config) { c.coldKeeps = true })
}

// WithImageOptions builds every image with opts, e.g. llbdefs.WithBase.
func WithImageOptions(opts ...llbdefs.Option) BuildOption {
	return buildOption(func(c *config) { c.llbOpts = append(c.llbOpts, opts...) })
}

// runner is one Run.
type runner struct {
	config
	engine      Engine
	builder     *build.Builder // with the image store, when there is one
	coldBuilder *build.Builder // without: the cold scenario measures solves
	images      map[string]func(...llbdefs.Option) (llbdefs.Image, error)
	seq         int // numbers the file changes: each is new to the cache
	ref         *benchstat.Reference
	peer        *composePeer // the compose variant, when measured
}

// Run measures every case (a report.Scenario on one image or the whole
// stack, report.ScopeStack) in every variant: a warm-up (none for cold),
// then the repeats with the variants' order rotated run by run, so that
// drift of the machine hits every variant alike; with WithPasses, all of
// that once per pass. Each change is made in a scratch copy of the
// image's files (the embedded ones and the user's are never touched) and
// undone after its build: the cache records the build made are pruned by
// id, and the original images rebuilt, which must come from the cache.
// The report holds every run, with the vertices that ran and their
// durations; its medians and min-max bands are the figures.
//
//	cases, err := bench.Plan(stack.Default().Names(), nil, nil, false)
//	rep, err := bench.Run(ctx, bk, imgs, cases, bench.WithImageStore(cd.ImageService()))
//
// Run is NewBuildBench, each pass in turn, and Close.
func Run(ctx context.Context, eng Engine, imgs []Image, cases []report.Case, opts ...BuildOption) (*report.Report, error) {
	b, err := NewBuildBench(ctx, eng, imgs, cases, opts...)
	if err != nil {
		return nil, err
	}
	for k := 1; k <= b.Passes() && err == nil; k++ {
		err = b.Pass(ctx, k)
	}
	return b.Close(ctx), err
}

// BuildBench measures the build figures pass by pass, so that a caller can
// put other work between the passes (`inceptionctl bench` measures the
// run-time figures there).
//
//	b, err := bench.NewBuildBench(ctx, bk, imgs, cases, bench.WithPasses(2))
//	...
//	for k := 1; k <= b.Passes(); k++ {
//		if err := b.Pass(ctx, k); err != nil { ... }
//	}
//	rep := b.Close(ctx)
type BuildBench struct {
	r       *runner
	cases   []report.Case
	results [][]report.Result // per case, per variant
	rep     *report.Report
	closed  bool
	cleanup []func()
}

// NewBuildBench checks the cases and options and makes the scratch
// directory; nothing is built before the first pass.
func NewBuildBench(ctx context.Context, eng Engine, imgs []Image, cases []report.Case, opts ...BuildOption) (*BuildBench, error) {
	c := config{repeats: 5, passes: 1, variants: report.Variants(), log: io.Discard, progressOut: io.Discard, progressMode: "quiet"}
	for _, o := range opts {
		o.applyBuild(&c)
	}
	if err := c.setBaseRef(); err != nil {
		return nil, err
	}
	switch {
	case eng == nil:
		return nil, errors.New("no BuildKit client: start the engine with `inceptionctl engine start`")
	case len(c.variants) == 0:
		return nil, fmt.Errorf("%w: no variant", ErrEmptyPlan)
	case len(cases) == 0:
		return nil, fmt.Errorf("%w: no case", ErrEmptyPlan)
	}
	if err := c.checkRepeats(); err != nil {
		return nil, err
	}
	for _, cs := range cases {
		if cs.Scenario == report.ScenarioCold && c.store == nil {
			return nil, errors.New("the cold scenario needs the image store to check the base image (bench.WithImageStore)")
		}
	}
	// Changes are numbered from the clock: new to a cache that an
	// earlier run, cut short, left its changes in.
	r := &runner{config: c, engine: eng, images: map[string]func(...llbdefs.Option) (llbdefs.Image, error){}, seq: int(time.Now().UnixNano()),
		ref: c.newReference()}
	for _, img := range imgs {
		r.images[img.Name] = img.Build
	}
	if slices.Contains(c.variants, report.VariantCompose) {
		var err error
		if r.peer, err = newComposePeer(ctx, c.compose, cases); err != nil {
			return nil, err
		}
	}
	b := &BuildBench{r: r, cases: slices.Clone(cases), results: make([][]report.Result, len(cases))}
	for i, cs := range cases {
		b.results[i] = make([]report.Result, len(c.variants))
		for j, v := range c.variants {
			b.results[i][j] = report.Result{Case: cs, Variant: v}
		}
	}
	// The builds run as `inceptionctl build` runs them: with the image
	// store, an image whose graph, config and base are unchanged is not
	// solved (the Dockerfile variant always is: its frontend reads the
	// context). The cold scenario measures solves: it builds without.
	bld, err := build.New(eng, build.WithProgress(r.progressOut, r.progressMode))
	if err != nil {
		return nil, err
	}
	r.builder, r.coldBuilder = bld, bld
	if r.store != nil {
		if r.builder, err = build.New(eng, build.WithProgress(r.progressOut, r.progressMode), build.WithImageStore(r.store)); err != nil {
			return nil, err
		}
	}
	if r.tmp == "" {
		dir, err := os.MkdirTemp("", "inceptionctl-bench-")
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		b.cleanup = append(b.cleanup, func() { os.RemoveAll(dir) })
		r.tmp = dir
	}
	b.rep = report.New()
	b.rep.Repeats, b.rep.Variants, b.rep.Passes = r.repeats, r.variants, r.passes
	if r.minTime > 0 && r.maxRepeats > r.repeats {
		b.rep.MinSeconds, b.rep.MaxRepeats = r.minTime.Seconds(), r.maxRepeats
	}
	return b, nil
}

// Passes is how many passes the bench has (WithPasses).
func (b *BuildBench) Passes() int { return b.r.passes }

// Pass measures pass k (from 1; each once, in order): every case after
// its warm-up, each figure to its share of the runs. With more than one
// pass, the cold cases come first in the first pass and last in the
// others: a cold run prunes the build cache, which the next case's warm-up
// fills again, and so two passes fill it once, as a single pass (cold
// last) does for the run after it; and the cold runs lie as far apart as
// can be.
func (b *BuildBench) Pass(ctx context.Context, k int) error {
	if err := b.r.startPass(k, b.closed); err != nil {
		return err
	}
	if b.r.passes > 1 {
		b.r.logf("pass %d of %d", k, b.r.passes)
	}
	for _, i := range passOrder(b.cases, k, b.r.passes) {
		if err := b.r.measureCase(ctx, b.cases[i], b.results[i]); err != nil {
			return fmt.Errorf("%s: %w", b.cases[i].Name(), err)
		}
	}
	return nil
}

// passOrder is the order of the cases in pass k of n: the cold ones first
// in the first of several passes, last otherwise, the rest as given.
func passOrder(cases []report.Case, k, n int) []int {
	var cold, rest []int
	for i, cs := range cases {
		if cs.Scenario == report.ScenarioCold {
			cold = append(cold, i)
		} else {
			rest = append(rest, i)
		}
	}
	if k == 1 && n > 1 {
		return append(cold, rest...)
	}
	return append(rest, cold...)
}

// Close ends the bench: it removes the images the bench built (unless
// WithKeepImages) and the scratch directory, and returns the report of
// every figure measured, in the order of the cases. A bench cut short by
// an error reports the figures that have runs.
func (b *BuildBench) Close(ctx context.Context) *report.Report {
	if b.closed {
		return b.rep
	}
	b.closed = true
	if !b.r.keepImages && b.r.store != nil {
		b.r.removeImages(context.WithoutCancel(ctx), b.cases)
	}
	for _, f := range b.cleanup {
		f()
	}
	for _, results := range b.results {
		for _, res := range results {
			if len(res.Runs) > 0 {
				summarise(&res)
				b.rep.Results = append(b.rep.Results, res)
			}
		}
	}
	b.rep.Reference = b.r.ref.Summarised()
	b.rep.Seconds = time.Since(b.rep.Started).Seconds()
	return b.rep
}

// measureCase warms up every variant, then measures them in rounds, adding
// to results (one per variant) the runs due in this pass.
//
// The warm-up builds the original images (the state every run of the case
// starts from) and measures once, untimed. The cold scenario has none:
// each of its runs prunes the cache first, which leaves nothing for a
// warm-up to prepare, and a cold build is the most expensive of all.
//
// Each round measures every variant that wants another run (its share of
// the repeats, then more while its runs are short of the minimum time), in
// an order rotated round by round. The records of a file change's builds
// are pruned at the end of the case.
func (r *runner) measureCase(ctx context.Context, cs report.Case, results []report.Result) error {
	r.ref.Time(r.pass)
	since := time.Now()
	if cs.Scenario != report.ScenarioCold {
		var err error
		if since, err = r.warmUp(ctx, cs); err != nil {
			return err
		}
	}
	for n := 0; ; n++ {
		measured := false
		for j := range r.variants {
			k := (n + j) % len(r.variants)
			if !r.wants(len(results[k].Runs), resultSpent(&results[k])) {
				continue
			}
			v := r.variants[k]
			run, err := r.measure(ctx, cs, v)
			if err != nil {
				return fmt.Errorf("%s: run %d: %w", v, len(results[k].Runs)+1, err)
			}
			run.Pass = r.pass
			results[k].Runs = append(results[k].Runs, run)
			measured = true
			r.logf("%-28s %-10s run %-7d %s", cs.Name(), v, len(results[k].Runs), summary(run))
		}
		if !measured {
			break
		}
	}
	if cs.Scenario == report.ScenarioConfig || cs.Scenario == report.ScenarioSite {
		if err := r.pruneSince(ctx, since); err != nil {
			return err
		}
		if r.peer != nil {
			return r.peer.pruneSince(ctx, since)
		}
	}
	return nil
}

// warmUp builds the case's original images in every variant, then
// measures each variant once, untimed. It returns when the originals were
// built: what they made stays, what the changes make goes.
func (r *runner) warmUp(ctx context.Context, cs report.Case) (time.Time, error) {
	for _, v := range r.variants {
		if _, err := r.build(ctx, cs, v, false); err != nil {
			return time.Time{}, fmt.Errorf("%s: warm-up: %w", v, err)
		}
	}
	since := time.Now()
	for _, v := range r.variants {
		run, err := r.measure(ctx, cs, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: warm-up: %w", v, err)
		}
		r.logf("%-28s %-10s warm-up %s", cs.Name(), v, summary(run))
	}
	return since, nil
}

// measure makes the case's change, times the build, and undoes the
// change. A file change is made unique, run by run (the line appended
// ends with a number), so that the cache never has it: each run re-runs
// what the change touches, as a user's edit does, with nothing to undo but
// cache records, pruned at the end of the case. An added package is always
// the same: its build's records are pruned and the original rebuilt after
// each run.
func (r *runner) measure(ctx context.Context, cs report.Case, v report.Variant) (report.Measurement, error) {
	switch cs.Scenario {
	case report.ScenarioNoChange:
		return r.build(ctx, cs, v, false)
	case report.ScenarioCold:
		if v == report.VariantCompose {
			return r.composeCold(ctx, cs)
		}
		if err := r.engine.Prune(build.WithoutContainerdNamespace(ctx), nil, r.coldPrune()...); err != nil {
			return report.Measurement{}, fmt.Errorf("prune the build cache: %w", err)
		}
		if _, err := r.store.Get(ctx, r.baseRef); err != nil {
			return report.Measurement{}, fmt.Errorf("%w: %s: %w", ErrBaseMissing, r.baseRef, err)
		}
		return r.build(ctx, cs, v, false)
	}
	r.seq++
	since := time.Now()
	run, err := r.build(ctx, cs, v, true)
	if err != nil {
		return report.Measurement{}, err
	}
	if cs.Scenario == report.ScenarioPackage {
		if err := r.restore(ctx, cs, v, since); err != nil {
			return report.Measurement{}, err
		}
	}
	for _, img := range run.Images {
		if img.Image == cs.Changed && len(img.Ran) == 0 {
			return report.Measurement{}, fmt.Errorf("%w: the changed %s came from the cache", ErrNotRestored, img.Image)
		}
	}
	return run, nil
}

// coldPrune is what the cold scenario prunes: every build cache record,
// the cache mounts with the packages apt downloaded included, unless
// WithColdKeepingPackages keeps those.
func (r *runner) coldPrune() []client.PruneOption {
	if r.coldKeeps {
		return []client.PruneOption{client.PruneAll, client.WithFilter([]string{"type!=" + string(client.UsageRecordTypeCacheMount)})}
	}
	return []client.PruneOption{client.PruneAll}
}

// restore prunes the cache records made since the changed build started
// and rebuilds the original images, which must come from the cache.
func (r *runner) restore(ctx context.Context, cs report.Case, v report.Variant, since time.Time) error {
	if v == report.VariantCompose {
		return r.composeRestore(ctx, cs, since)
	}
	if err := r.pruneSince(ctx, since); err != nil {
		return err
	}
	run, err := r.build(ctx, cs, v, false)
	if err != nil {
		return fmt.Errorf("rebuild the original: %w", err)
	}
	return restored(run, "")
}

// restored checks that a rebuild of the original came from the cache
// whole: nothing ran. who prefixes the error ("compose: ").
func restored(r report.Measurement, who string) error {
	for _, img := range r.Images {
		if len(img.Ran) > 0 {
			names := make([]string, len(img.Ran))
			for i, s := range img.Ran {
				names[i] = s.Name
			}
			return fmt.Errorf("%w: %srebuilding %s ran %s", ErrNotRestored, who, img.Image, strings.Join(names, ", "))
		}
	}
	return nil
}

// pruneSince prunes the build cache records made since t (cache mounts
// and build contexts aside: they are state every run shares).
//
// A record the solver still holds for a moment after the build cannot be
// pruned yet: the records are listed again after each prune, until none
// made since is left.
func (r *runner) pruneSince(ctx context.Context, since time.Time) error {
	bctx := build.WithoutContainerdNamespace(ctx)
	deadline := time.Now().Add(restoreTimeout)
	ids, err := r.createdSince(bctx, since)
	for len(ids) > 0 && err == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %d cache records of the changed build are still in use after %s", ErrNotRestored, len(ids), restoreTimeout)
		}
		filters := make([]string, len(ids))
		for i, id := range ids {
			filters[i] = "id==" + id
		}
		// PruneAll: the records are held by the image just exported,
		// which only stops a prune that is not asked for everything.
		if err := r.engine.Prune(bctx, nil, client.WithFilter(filters), client.PruneAll); err != nil {
			return fmt.Errorf("prune the changed build's cache: %w", err)
		}
		if ids, err = r.createdSince(bctx, since); err == nil && len(ids) > 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	return err
}

// restoreTimeout bounds the wait for the changed build's records to be
// released.
const restoreTimeout = 10 * time.Second

// createdSince lists the build cache records made since t, cache mounts
// and local sources (build contexts) left out.
func (r *runner) createdSince(ctx context.Context, t time.Time) ([]string, error) {
	du, err := r.engine.DiskUsage(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the build cache: %w", err)
	}
	var ids []string
	for _, u := range du {
		if u.CreatedAt.Before(t) ||
			u.RecordType == client.UsageRecordTypeCacheMount || u.RecordType == client.UsageRecordTypeLocalSource {
			continue
		}
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// build builds the case's images once and times it.
func (r *runner) build(ctx context.Context, cs report.Case, v report.Variant, changed bool) (report.Measurement, error) {
	if v == report.VariantCompose {
		return r.composeBuild(ctx, cs, changed)
	}
	targets, err := r.targets(ctx, cs, v, changed)
	if err != nil {
		return report.Measurement{}, err
	}
	b := r.builder
	if cs.Scenario == report.ScenarioCold {
		b = r.coldBuilder
	}
	start := time.Now()
	rep, err := b.Build(ctx, targets)
	wall := time.Since(start)
	if err != nil {
		return report.Measurement{}, err
	}
	run := report.Measurement{Seconds: wall.Seconds()}
	for _, ir := range rep.Images {
		img := report.ImageRun{Image: ir.Service, Seconds: ir.Duration.Seconds(), Vertices: ir.Vertices, Cached: ir.Cached, UpToDate: ir.UpToDate, Ran: []build.Step{}}
		for _, s := range ir.Steps {
			if !s.Cached {
				img.Ran = append(img.Ran, s)
			}
		}
		run.Images = append(run.Images, img)
	}
	return run, nil
}

func (r *runner) removeImages(ctx context.Context, cases []report.Case) {
	seen := map[string]bool{}
	for _, cs := range cases {
		for _, img := range cs.Images {
			for _, v := range r.variants {
				ref := imageRef(img, v)
				if seen[ref] {
					continue
				}
				seen[ref] = true
				if err := r.store.Delete(ctx, ref); err != nil && !errdefs.IsNotFound(err) {
					r.logf("remove %s: %v", ref, err)
				}
			}
		}
	}
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, format+"\n", args...)
}

// resultSpent is the measured time of the result's runs.
func resultSpent(res *report.Result) float64 {
	var s float64
	for _, r := range res.Runs {
		s += r.Seconds
	}
	return s
}
