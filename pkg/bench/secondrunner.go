package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/errdefs"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/internal/daemons"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/registry"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// Where a round puts things in its registry: the namespace, the tags the
// fresh builders push, the cache's tag.
const (
	registryNamespace = "inception"
	pushTag           = "bookworm"
	withCacheTag      = "runner-cache"
	withoutCacheTag   = "runner-plain"
	cacheTag          = "buildcache"
)

// SecondRunnerSetup is what the second-runner scenario runs on.
type SecondRunnerSetup struct {
	// Engine is the first builder, the engine's BuildKit: it builds the
	// images from the registry's base and exports their cache.
	Engine build.Solver
	// Containerd is the engine's containerd client (its namespace on the
	// context): the base is pushed from its store, the images pulled
	// into it.
	Containerd *containerd.Client
	// Images are the images built, in the order given.
	Images []Image
	// BuildkitdBinary starts the fresh builders (the engine's:
	// engine.Engine.BuildkitdBinary); RegistryBinary the registry
	// (default: Debian's docker-registry).
	BuildkitdBinary string
	RegistryBinary  string
	// Dir is the scratch directory: registries, builders' state, the pull
	// stack's data. Under the engine's root, not on tmpfs: the builders'
	// overlayfs snapshots need a real file system. The caller removes it.
	Dir string
	// CertsDir is the engine's certs.d, read by the resolver that pushes
	// the base and pulls the images.
	CertsDir string
	// Runtime and Stack run pull-and-up: the stack (NewRuntimeStack with
	// a name of its own) whose images the scenario replaces by the registry's.
	// Without them, or when Images are not every service of Stack, there
	// is no pull-and-up.
	Runtime StackRuntime
	Stack   *RuntimeStack
}

// summariseSecondRunner computes the statistics of the figure's runs.
func summariseSecondRunner(r *report.SecondRunnerResult) {
	if len(r.Runs) == 0 {
		return
	}
	secs := make([]float64, len(r.Runs))
	for i, run := range r.Runs {
		secs[i] = run.Seconds
	}
	r.Median, r.Min, r.Max = benchstat.Median(secs), slices.Min(secs), slices.Max(secs)
	best := 0
	for i, s := range secs {
		if abs(s-r.Median) < abs(secs[best]-r.Median) {
			best = i
		}
	}
	r.Vertices, r.Cached = 0, 0
	for _, img := range r.Runs[best].Images {
		r.Vertices += img.Vertices
		r.Cached += img.Cached
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// SecondRunnerBench measures the second-runner figures pass by pass, as
// BuildBench does the build figures. Every round (one run of every
// figure) starts from nothing: a new registry with empty storage, in a
// directory of its own; the base pushed to it; the engine's builder
// builds the images from that base (untimed: what its cache lacks), then
// pushes them with their cache (mode=max), timed; then a fresh builder
// (the OCI worker, a new empty state directory, on a unix socket) builds
// them with the registry cache, another without, both pushing what they
// built to the registry as a CI runner does, and a third with the cache
// that exports OCI tarballs instead (every layer fetched), in an order
// rotated round by round. Last, the engine pulls what the builder without the cache
// pushed (layers the engine has never seen; its base it has) and brings
// the pull stack up until the home page answers 200; then the stack goes
// down with its volumes and the pulled images are deleted.
//
//	b, err := bench.NewSecondRunnerBench(ctx, setup, bench.WithRepeats(3))
//	...
//	for k := 1; k <= b.Passes(); k++ {
//		if err := b.Pass(ctx, k); err != nil { ... }
//	}
//	rep, err := b.Close(ctx)
type SecondRunnerBench struct {
	c       config
	s       SecondRunnerSetup
	pullUp  bool
	rt      *rtRunner // the pull stack's boot and home page
	results []report.SecondRunnerResult
	rep     *report.SecondRunnerReport
	rounds  int
	closed  bool
	creds   string // an empty docker config: the registry needs none
}

// NewSecondRunnerBench checks the setup and options and takes down what
// a crashed run left of the pull stack; nothing is started before the
// first pass.
func NewSecondRunnerBench(ctx context.Context, s SecondRunnerSetup, opts ...BuildOption) (*SecondRunnerBench, error) {
	c := config{repeats: 5, passes: 1, log: io.Discard, progressOut: io.Discard, progressMode: "quiet", upTimeout: upTimeout}
	for _, o := range opts {
		o.applyBuild(&c)
	}
	if err := c.setBaseRef(); err != nil {
		return nil, err
	}
	switch {
	case s.Engine == nil:
		return nil, errors.New("no BuildKit client: start the engine with `inceptionctl engine start`")
	case s.Containerd == nil:
		return nil, errors.New("no containerd client: the base image is pushed from the engine's store")
	case len(s.Images) == 0:
		return nil, fmt.Errorf("%w: no image", ErrEmptyPlan)
	case s.BuildkitdBinary == "":
		return nil, fmt.Errorf("%w: buildkitd: run `make deps`, or pass --buildkitd", daemons.ErrNoBinary)
	case !filepath.IsAbs(s.Dir):
		return nil, fmt.Errorf("second-runner scratch directory %q: give an absolute path under the engine's root", s.Dir)
	}
	if err := c.checkRepeats(); err != nil {
		return nil, err
	}
	if s.RegistryBinary == "" {
		bin, err := daemons.FindRegistry()
		if err != nil {
			return nil, err
		}
		s.RegistryBinary = bin
	}
	b := &SecondRunnerBench{c: c, s: s}
	names := make([]string, len(s.Images))
	for i, img := range s.Images {
		names[i] = img.Name
	}
	if s.Runtime != nil && s.Stack != nil {
		b.pullUp = len(stackMissing(s.Stack.Stack, names)) == 0
	}
	figures := []string{report.FigurePush, report.FigureWithCache, report.FigureWithoutCache, report.FigureWithCacheOCI}
	if b.pullUp {
		figures = append(figures, report.FigurePull, report.FigurePullUp)
	}
	for _, f := range figures {
		b.results = append(b.results, report.SecondRunnerResult{Figure: f, Runs: []report.Measurement{}})
	}
	b.rep = &report.SecondRunnerReport{Images: names, Repeats: c.repeats, Passes: c.passes, PullAndUp: b.pullUp, Started: time.Now().UTC(),
		Registry: "Debian's docker-registry (distribution 2.8) on 127.0.0.1, plain HTTP, empty storage every round",
		Builder:  "buildkitd, OCI worker (no containerd), a new empty state directory for every build",
		Output: fmt.Sprintf("push, with-cache and without-cache push the images to the registry (REGISTRY/%s/{service}:TAG), push exports\n"+
			"their cache too (type=registry, mode=max); with-cache-oci writes OCI tarballs", registryNamespace),
		Results: []report.SecondRunnerResult{}}
	b.creds = filepath.Join(s.Dir, "docker-config")
	if err := os.MkdirAll(b.creds, 0o700); err != nil {
		return nil, fmt.Errorf("second-runner scratch directory: %w", err)
	}
	if b.pullUp {
		b.rep.Stack = s.Stack.Stack.Name
		probe := loadSpec{URL: s.Stack.URL(), Addr: s.Stack.Addr(), Concurrency: 1, Timeout: 10 * time.Second}
		if err := probe.check(); err != nil {
			return nil, err
		}
		b.rt = &rtRunner{config: c, rt: s.Runtime, s: s.Stack, home: probe.client()}
		if err := s.Runtime.Down(ctx, s.Stack.Stack, runtime.DownOptions{Volumes: true}); err != nil {
			return nil, fmt.Errorf("take down what a previous run left of %s: %w", s.Stack.Stack.Name, err)
		}
	}
	return b, nil
}

// stackMissing lists the services of st that names lacks.
func stackMissing(st stack.Stack, names []string) []string {
	var out []string
	for _, n := range st.Names() {
		if !slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	return out
}

// Passes is how many passes the bench has (WithPasses).
func (b *SecondRunnerBench) Passes() int { return b.c.passes }

// Pass measures pass k (from 1; each once, in order): the rounds due by
// its end, exactly the repeats in all (the minimum time does not apply:
// a round takes minutes).
func (b *SecondRunnerBench) Pass(ctx context.Context, k int) error {
	if err := b.c.startPass(k, b.closed); err != nil {
		return err
	}
	for b.rounds < b.c.due(b.c.repeats) {
		if err := b.round(ctx); err != nil {
			return fmt.Errorf("%s: run %d: %w", report.SecondRunner, b.rounds+1, err)
		}
		b.rounds++
	}
	return nil
}

// Close takes the pull stack down with its volumes (even when ctx is
// cancelled) and returns the report of every figure with runs.
func (b *SecondRunnerBench) Close(ctx context.Context) (*report.SecondRunnerReport, error) {
	if b.closed {
		return b.rep, nil
	}
	b.closed = true
	var err error
	if b.pullUp {
		defer b.rt.home.CloseIdleConnections()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
		defer cancel()
		if derr := b.s.Runtime.Down(cctx, b.s.Stack.Stack, runtime.DownOptions{Volumes: true}); derr != nil {
			err = fmt.Errorf("take down %s: %w", b.s.Stack.Stack.Name, derr)
		}
	}
	for _, r := range b.results {
		if len(r.Runs) > 0 {
			summariseSecondRunner(&r)
			b.rep.Results = append(b.rep.Results, r)
		}
	}
	b.rep.Seconds = time.Since(b.rep.Started).Seconds()
	return b.rep, err
}

// result is the figure's result.
func (b *SecondRunnerBench) result(figure string) *report.SecondRunnerResult {
	for i := range b.results {
		if b.results[i].Figure == figure {
			return &b.results[i]
		}
	}
	panic("bench: no second-runner figure " + figure)
}

// add records a run of figure.
func (b *SecondRunnerBench) add(figure string, run report.Measurement) {
	run.Pass = b.c.pass
	r := b.result(figure)
	r.Runs = append(r.Runs, run)
	if len(run.Images) == 0 {
		b.logf("%-26s run %-5d %7.2fs", report.SecondRunner+"/"+figure, len(r.Runs), run.Seconds)
		return
	}
	b.logf("%-26s run %-5d %s", report.SecondRunner+"/"+figure, len(r.Runs), summary(run))
}

func (b *SecondRunnerBench) logf(format string, args ...any) {
	fmt.Fprintf(b.c.log, format+"\n", args...)
}

// round measures one run of every figure, from a registry of its own.
func (b *SecondRunnerBench) round(ctx context.Context) error {
	dir := filepath.Join(b.s.Dir, fmt.Sprintf("round-%d", b.rounds+1))
	regDir := filepath.Join(dir, "registry")
	if err := os.MkdirAll(regDir, 0o755); err != nil {
		return fmt.Errorf("round directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			b.logf("remove %s: %v", dir, err)
		}
	}()
	reg, err := daemons.StartRegistry(ctx, daemons.RegistryConfig{Binary: b.s.RegistryBinary, Dir: regDir})
	if err != nil {
		return err
	}
	defer reg.Stop()
	ns := reg.Host + "/" + registryNamespace
	b.logf("%-26s registry on %s, storage in %s", report.SecondRunner, reg.Host, regDir)
	// A resolver of the round's own: containerd's pusher remembers what
	// it pushed by digest, whatever the registry, and would skip the base
	// in the next round's empty registry.
	resolver, err := registry.NewResolver(registry.WithCertsDir(b.s.CertsDir), registry.WithDockerConfig(b.creds))
	if err != nil {
		return err
	}

	baseRef := ns + "/debian:" + pushTag
	if err := b.pushBase(ctx, resolver, baseRef); err != nil {
		return err
	}
	targets, err := b.targets(ctx, baseRef)
	if err != nil {
		return err
	}
	cache := build.Cache{Type: build.CacheRegistry, Attrs: map[string]string{"ref": ns + "/{service}:" + cacheTag}}

	// The first builder: what its cache lacks is built untimed, so that
	// the push figure is the push (export, layers and cache uploaded).
	if _, err := b.build(ctx, b.s.Engine, targets); err != nil {
		return fmt.Errorf("the engine's builder, from %s: %w", baseRef, err)
	}
	pushStack, err := pushTo(ns, pushTag)
	if err != nil {
		return err
	}
	pushCache, err := pushTo(ns, withCacheTag)
	if err != nil {
		return err
	}
	pushPlain, err := pushTo(ns, withoutCacheTag)
	if err != nil {
		return err
	}
	run, err := b.build(ctx, b.s.Engine, targets, pushStack,
		build.WithCacheTo(build.Cache{Type: cache.Type, Attrs: map[string]string{"ref": cache.Attrs["ref"], "mode": "max"}}))
	if err != nil {
		return fmt.Errorf("%s: %w", report.FigurePush, err)
	}
	b.add(report.FigurePush, run)

	order := []string{report.FigureWithCache, report.FigureWithoutCache, report.FigureWithCacheOCI}
	k := b.rounds % len(order)
	order = append(order[k:], order[:k]...)
	for _, f := range order {
		var opts []build.Option
		switch f {
		case report.FigureWithCache:
			opts = []build.Option{pushCache, build.WithCacheFrom(cache)}
		case report.FigureWithoutCache:
			opts = []build.Option{pushPlain}
		case report.FigureWithCacheOCI:
			opts = []build.Option{build.WithOutputs(build.Output{Type: "oci", Dest: filepath.Join(dir, f+"-out", "{service}.tar")}), build.WithCacheFrom(cache)}
		}
		run, err := b.fresh(ctx, filepath.Join(dir, f), targets, opts...)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if f != report.FigureWithoutCache {
			if v, c := counts(run); v > 0 && c == 0 {
				return fmt.Errorf("%s: every one of %d vertices ran: the registry cache was not used", f, v)
			}
		}
		b.add(f, run)
	}
	if err := os.RemoveAll(filepath.Join(dir, report.FigureWithCacheOCI+"-out")); err != nil {
		return err
	}
	if b.pullUp {
		return b.pullAndUp(ctx, resolver, ns)
	}
	return nil
}

// counts sums the images' counted and cached vertices.
func counts(r report.Measurement) (vertices, cached int) {
	for _, img := range r.Images {
		vertices += img.Vertices
		cached += img.Cached
	}
	return vertices, cached
}

// pushBase pushes the engine's base image to ref, untimed, as `inceptionctl
// base --push` does.
func (b *SecondRunnerBench) pushBase(ctx context.Context, resolver remotes.Resolver, ref string) error {
	img, err := b.s.Containerd.ImageService().Get(ctx, b.c.baseRef)
	if err != nil {
		return fmt.Errorf("the base image %s: %w (run `inceptionctl base`)", b.c.baseRef, err)
	}
	if err := b.s.Containerd.Push(ctx, ref, img.Target, containerd.WithResolver(resolver)); err != nil {
		return fmt.Errorf("push the base image to %s: %w", ref, err)
	}
	return nil
}

// targets marshals the images, built from base.
func (b *SecondRunnerBench) targets(ctx context.Context, base string) ([]build.Target, error) {
	out := make([]build.Target, 0, len(b.s.Images))
	opts := append(slices.Clone(b.c.llbOpts), llbdefs.WithBase(base))
	for _, im := range b.s.Images {
		img, err := im.Build(opts...)
		if err != nil {
			return nil, err
		}
		def, err := img.Marshal(ctx)
		if err != nil {
			return nil, err
		}
		cfg, err := img.ConfigJSON()
		if err != nil {
			return nil, err
		}
		out = append(out, build.Target{Service: im.Name, Ref: imageRef(im.Name, "second-runner"), Definition: def, Config: cfg})
	}
	return out, nil
}

// pushTo is the output that pushes every image to ns/{service}:tag, and
// nothing into an image store, as `build --push` does.
func pushTo(ns, tag string) (build.Option, error) {
	o, err := build.PushOutput(ns, tag)
	if err != nil {
		return nil, err
	}
	return build.WithOutputs(o), nil
}

// build builds targets on s once, nothing stored in an image store, and
// times it.
func (b *SecondRunnerBench) build(ctx context.Context, s build.Solver, targets []build.Target, opts ...build.Option) (report.Measurement, error) {
	opts = append([]build.Option{build.WithoutStore(), build.WithDockerConfig(b.creds), build.WithProgress(b.c.progressOut, b.c.progressMode)}, opts...)
	bld, err := build.New(s, opts...)
	if err != nil {
		return report.Measurement{}, err
	}
	start := time.Now()
	rep, err := bld.Build(ctx, targets)
	wall := time.Since(start)
	if err != nil {
		return report.Measurement{}, err
	}
	run := report.Measurement{Seconds: wall.Seconds()}
	for _, ir := range rep.Images {
		img := report.ImageRun{Image: ir.Service, Seconds: ir.Duration.Seconds(), Vertices: ir.Vertices, Cached: ir.Cached, Ran: []build.Step{}}
		for _, st := range ir.Steps {
			if !st.Cached {
				img.Ran = append(img.Ran, st)
			}
		}
		run.Images = append(run.Images, img)
	}
	return run, nil
}

// fresh starts a builder with an empty state directory in dir, times one
// build of targets on it, then stops it and removes its state. Its
// start is not timed: a CI runner's builder is up before the job.
func (b *SecondRunnerBench) fresh(ctx context.Context, dir string, targets []build.Target, opts ...build.Option) (report.Measurement, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return report.Measurement{}, fmt.Errorf("builder directory: %w", err)
	}
	defer os.RemoveAll(dir)
	bctx := build.WithoutContainerdNamespace(ctx)
	d, err := daemons.StartBuildkitd(bctx, daemons.BuildkitdConfig{Binary: b.s.BuildkitdBinary, Dir: dir})
	if err != nil {
		return report.Measurement{}, err
	}
	defer d.Stop()
	bk, err := d.Client(bctx)
	if err != nil {
		return report.Measurement{}, fmt.Errorf("connect to the fresh builder: %w", err)
	}
	defer bk.Close()
	run, err := b.build(ctx, bk, targets, opts...)
	if err != nil {
		return report.Measurement{}, fmt.Errorf("%w (the builder's log: %s)", err, d.Log)
	}
	return run, nil
}

// pullAndUp pulls what the builder without the cache pushed into the
// engine's store, as `up --registry` does (one image after the other,
// unpacked), then brings the pull stack up on them until the home page
// answers 200. The stack then goes down with its volumes, and the images
// are deleted: their layers go with the next garbage collection.
func (b *SecondRunnerBench) pullAndUp(ctx context.Context, resolver remotes.Resolver, ns string) (err error) {
	st := b.s.Stack.Stack
	st.Services = slices.Clone(st.Services)
	var refs []string
	for i, svc := range st.Services {
		svc.Image, svc.Build = ns+"/"+svc.Name+":"+withoutCacheTag, nil
		st.Services[i] = svc
		refs = append(refs, svc.Image)
	}
	defer func() {
		if derr := b.s.Runtime.Down(ctx, st, runtime.DownOptions{Volumes: true}); derr != nil && err == nil {
			err = fmt.Errorf("take down %s: %w", st.Name, derr)
		}
		is := b.s.Containerd.ImageService()
		for _, ref := range refs {
			if derr := is.Delete(ctx, ref, images.SynchronousDelete()); derr != nil && !errdefs.IsNotFound(derr) && err == nil {
				err = fmt.Errorf("delete %s: %w", ref, derr)
			}
		}
	}()
	start := time.Now()
	for _, ref := range refs {
		if _, err := registry.Pull(ctx, b.s.Containerd, resolver, ref, "", io.Discard); err != nil {
			return err
		}
	}
	pulled := time.Since(start)
	b.add(report.FigurePull, report.Measurement{Seconds: pulled.Seconds()})
	run, err := b.rt.boot(ctx, st)
	if err != nil {
		return fmt.Errorf("up %s from the registry: %w", st.Name, err)
	}
	b.add(report.FigurePullUp, report.Measurement{Seconds: pulled.Seconds() + run.Value})
	return nil
}
