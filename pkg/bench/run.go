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

// Option configures Run.
type Option func(*config)

type config struct {
	repeats      int
	variants     []Variant
	log          io.Writer
	progressOut  io.Writer
	progressMode string
	tmp          string
	store        ImageStore
	keepImages   bool
	llbOpts      []llbdefs.Option
	baseRef      string
	// run-time figures (RunRuntime)
	loadDuration time.Duration
	concurrency  int
	noUpWarmup   bool
	upTimeout    time.Duration
}

// WithRepeats measures every case n times after the warm-up (default 5).
func WithRepeats(n int) Option { return func(c *config) { c.repeats = n } }

// WithVariants measures only vs (default: all, in the order of Variants).
func WithVariants(vs ...Variant) Option {
	return func(c *config) { c.variants = slices.Clone(vs) }
}

// WithLog writes one line per measurement to w.
func WithLog(w io.Writer) Option { return func(c *config) { c.log = w } }

// WithProgress shows the builds' progress on w (pkg/build's modes).
func WithProgress(w io.Writer, mode string) Option {
	return func(c *config) { c.progressOut, c.progressMode = w, mode }
}

// WithTempDir keeps the scratch copies of changed files and the Dockerfile
// build contexts under dir (default: a new directory under os.TempDir,
// removed at the end).
func WithTempDir(dir string) Option { return func(c *config) { c.tmp = dir } }

// WithImageStore checks the base image in store after every prune, and
// removes the bench's images from it at the end. Required by the cold
// scenario.
func WithImageStore(s ImageStore) Option { return func(c *config) { c.store = s } }

// WithKeepImages leaves the images the benchmark built (<image>:bench-<variant>)
// in the image store.
func WithKeepImages() Option { return func(c *config) { c.keepImages = true } }

// WithImageOptions builds every image with opts, e.g. llbdefs.WithBase.
func WithImageOptions(opts ...llbdefs.Option) Option {
	return func(c *config) { c.llbOpts = append(c.llbOpts, opts...) }
}

// WithBaseRef names the base image that must survive a prune (default:
// the default distro's).
func WithBaseRef(ref string) Option { return func(c *config) { c.baseRef = ref } }

// runner is one Run.
type runner struct {
	config
	engine      Engine
	builder     *build.Builder // with the image store, when there is one
	coldBuilder *build.Builder // without: the cold scenario measures solves
	images      map[string]func(...llbdefs.Option) (llbdefs.Image, error)
}

// Run measures every case in every variant: a warm-up (none for cold),
// then the repeats with the variants' order rotated run by run, so that drift of the
// machine hits every variant alike. Each measured change is undone after
// its build: the cache records the build made are pruned by id, and the
// original images rebuilt, which must come from the cache. The report
// holds every run, with the vertices that ran and their durations.
//
//	rep, err := bench.Run(ctx, bk, imgs, cases, bench.WithImageStore(cd.ImageService()))
func Run(ctx context.Context, eng Engine, imgs []Image, cases []Case, opts ...Option) (*Report, error) {
	c := config{repeats: 5, variants: Variants(), log: io.Discard, progressOut: io.Discard, progressMode: "quiet",
		baseRef: llbdefs.DefaultDistro().Ref()}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case eng == nil:
		return nil, errors.New("no BuildKit client: start the engine with `inceptionctl engine start`")
	case c.repeats < 1:
		return nil, fmt.Errorf("repeats %d: measure at least once", c.repeats)
	case len(c.variants) == 0:
		return nil, fmt.Errorf("%w: no variant", ErrEmptyPlan)
	case len(cases) == 0:
		return nil, fmt.Errorf("%w: no case", ErrEmptyPlan)
	}
	for _, cs := range cases {
		if cs.Scenario == ScenarioCold && c.store == nil {
			return nil, errors.New("the cold scenario needs the image store to check the base image (bench.WithImageStore)")
		}
	}
	r := &runner{config: c, engine: eng, images: map[string]func(...llbdefs.Option) (llbdefs.Image, error){}}
	for _, img := range imgs {
		r.images[img.Name] = img.Build
	}
	if r.tmp == "" {
		dir, err := os.MkdirTemp("", "inceptionctl-bench-")
		if err != nil {
			return nil, fmt.Errorf("scratch directory: %w", err)
		}
		defer os.RemoveAll(dir)
		r.tmp = dir
	}
	// The builds run as `inceptionctl build` runs them: with the image
	// store, an image whose graph, config and base are unchanged is not
	// solved (the Dockerfile variant always is: its frontend reads the
	// context). The cold scenario measures solves: it builds without.
	b, err := build.New(eng, build.WithProgress(r.progressOut, r.progressMode))
	if err != nil {
		return nil, err
	}
	r.builder, r.coldBuilder = b, b
	if r.store != nil {
		if r.builder, err = build.New(eng, build.WithProgress(r.progressOut, r.progressMode), build.WithImageStore(r.store)); err != nil {
			return nil, err
		}
	}

	rep := NewReport()
	rep.Repeats, rep.Variants = r.repeats, r.variants
	if !r.keepImages && r.store != nil {
		defer r.removeImages(context.WithoutCancel(ctx), cases)
	}
	for _, cs := range cases {
		results, err := r.measureCase(ctx, cs)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", cs.Name(), err)
		}
		rep.Results = append(rep.Results, results...)
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	rep.Targets = checkTargets(rep.Results)
	return rep, nil
}

// measureCase warms up every variant, then measures them in turn.
//
// The warm-up builds the original images (the state every run of the case
// starts from) and measures once, untimed. The cold scenario has none:
// each of its runs prunes the cache first, which leaves nothing for a
// warm-up to prepare, and a cold build is the most expensive of all.
func (r *runner) measureCase(ctx context.Context, cs Case) ([]Result, error) {
	results := make([]Result, len(r.variants))
	for i, v := range r.variants {
		results[i] = Result{Case: cs, Variant: v}
		if cs.Scenario == ScenarioCold {
			continue
		}
		if _, err := r.build(ctx, cs, v, false); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", v, err)
		}
		run, err := r.measure(ctx, cs, v)
		if err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", v, err)
		}
		r.logf("%-28s %-10s warm-up %s", cs.Name(), v, run.summary())
	}
	for n := range r.repeats {
		for j := range r.variants {
			k := (n + j) % len(r.variants)
			v := r.variants[k]
			run, err := r.measure(ctx, cs, v)
			if err != nil {
				return nil, fmt.Errorf("%s: run %d: %w", v, n+1, err)
			}
			r.logf("%-28s %-10s run %d/%d %s", cs.Name(), v, n+1, r.repeats, run.summary())
			results[k].Runs = append(results[k].Runs, run)
		}
	}
	for i := range results {
		results[i].summarise()
	}
	return results, nil
}

// measure makes the case's change, times the build, and undoes the
// change.
func (r *runner) measure(ctx context.Context, cs Case, v Variant) (Measurement, error) {
	switch cs.Scenario {
	case ScenarioNoChange:
		return r.build(ctx, cs, v, false)
	case ScenarioCold:
		if err := r.engine.Prune(build.WithoutContainerdNamespace(ctx), nil, client.PruneAll); err != nil {
			return Measurement{}, fmt.Errorf("prune the build cache: %w", err)
		}
		if _, err := r.store.Get(ctx, r.baseRef); err != nil {
			return Measurement{}, fmt.Errorf("%w: %s: %w", ErrBaseMissing, r.baseRef, err)
		}
		return r.build(ctx, cs, v, false)
	}
	since := time.Now()
	run, err := r.build(ctx, cs, v, true)
	if err != nil {
		return Measurement{}, err
	}
	if err := r.restore(ctx, cs, v, since); err != nil {
		return Measurement{}, err
	}
	for _, img := range run.Images {
		if img.Image == cs.Changed && len(img.Ran) == 0 {
			return Measurement{}, fmt.Errorf("%w: the changed %s came from the cache", ErrNotRestored, img.Image)
		}
	}
	return run, nil
}

// restore prunes the cache records made since the changed build started
// (cache mounts and build contexts aside: they are state every run shares)
// and rebuilds the original images, which must come from the cache.
//
// A record the solver still holds for a moment after the build cannot be
// pruned yet: the records are listed again after each prune, until none
// made since is left.
func (r *runner) restore(ctx context.Context, cs Case, v Variant, since time.Time) error {
	bctx := build.WithoutContainerdNamespace(ctx)
	deadline := time.Now().Add(restoreTimeout)
	for {
		ids, err := r.createdSince(bctx, since)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			break
		}
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
		if left, err := r.createdSince(bctx, since); err != nil || len(left) == 0 {
			if err != nil {
				return err
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	run, err := r.build(ctx, cs, v, false)
	if err != nil {
		return fmt.Errorf("rebuild the original: %w", err)
	}
	for _, img := range run.Images {
		if len(img.Ran) > 0 {
			names := make([]string, len(img.Ran))
			for i, s := range img.Ran {
				names[i] = s.Name
			}
			return fmt.Errorf("%w: rebuilding %s ran %s", ErrNotRestored, img.Image, strings.Join(names, ", "))
		}
	}
	return nil
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
func (r *runner) build(ctx context.Context, cs Case, v Variant, changed bool) (Measurement, error) {
	targets, err := r.targets(ctx, cs, v, changed)
	if err != nil {
		return Measurement{}, err
	}
	b := r.builder
	if cs.Scenario == ScenarioCold {
		b = r.coldBuilder
	}
	start := time.Now()
	rep, err := b.Build(ctx, targets)
	wall := time.Since(start)
	if err != nil {
		return Measurement{}, err
	}
	run := Measurement{Seconds: wall.Seconds()}
	for _, ir := range rep.Images {
		img := ImageRun{Image: ir.Service, Seconds: ir.Duration.Seconds(), Vertices: ir.Vertices, Cached: ir.Cached, UpToDate: ir.UpToDate, Ran: []build.Step{}}
		for _, s := range ir.Steps {
			if !s.Cached {
				img.Ran = append(img.Ran, s)
			}
		}
		run.Images = append(run.Images, img)
	}
	return run, nil
}

func (r *runner) removeImages(ctx context.Context, cases []Case) {
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
