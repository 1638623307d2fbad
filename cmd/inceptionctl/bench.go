package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/internal/benchreport"
	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

type benchOptions struct {
	distro      distroFlag
	repeats     int
	minTime     time.Duration
	maxRepeats  int
	passes      int
	quick       bool
	format      string
	chart       string
	images      []string
	scenarios   []string
	variants    []string
	coldStack   bool
	progress    string
	keep        bool
	coldKeeps   bool
	mirror      string
	loadTime    time.Duration
	concurrency int
	exportJSON  string
	baseline    string
	// pruneDefault lets the build scenarios prune the default engine's
	// build cache (--prune-default-engine).
	pruneDefault bool
	targets      []string // --target NAME=VALUE
	targetsFile  string
	// dockerConfig is the DOCKER_CONFIG with the compose plugin, for the
	// compose variant (bench_compose.go).
	dockerConfig string
}

// newBenchCmd is `inceptionctl bench`: rebuild times of the project's
// graphs, the same graphs as a linear chain, and the same images as
// Dockerfiles, measured side by side on the engine; then run-time figures
// of the stack the images make.
func newBenchCmd(g *globalOptions) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure rebuild times (LLB graphs, a linear chain, the Dockerfile frontend) and run-time figures",
		Long: `Measures build times on the engine for each scenario and variant, and run-time
figures of the stack.

Build scenarios: no-change (rebuild), config-change (one line appended to one config
file), package-change (one package added), site-change (one line appended to the
static site), cold (build cache pruned, the cache mounts with the .deb files apt
downloaded too: a machine that never built, the base image aside, which stays in
the image store; --cold-keep-packages keeps the cache mounts, so that every package
is installed again from what the Debian mirror gave before and the mirror's speed,
which drifts from run to run, is no part of the figure).
no-change and config-change run per image and for the whole stack, package-change
on nginx, site-change on static and in the stack, cold on nginx (--cold-stack: the
stack). Variants: llb (the project's graphs), linear (Merge replaced by copies,
the package in the package list), dockerfile (` + "`inceptionctl dockerfile`" + ` built by
BuildKit's Dockerfile frontend on the same engine); and, only when --variants names
it, compose: the real peer, ` + "`inceptionctl export compose`" + `'s tree built by
` + "`docker compose build`" + ` on a private dockerd (Debian's docker.io and docker compose
v2 from ` + "`make docker-peer`" + `; --docker-config), started in <root>/bench-compose with the
engine's base image loaded into it, on a bridge of its own (` + benchDockerdBridge + `, ` + benchDockerdBIP + `),
stopped at the end; its cold case prunes dockerd's build cache the same way.
With the up run-time scenario too, compose adds a run-time figure: docker compose
up -d of that tree to the home page answering 200, first boot (volumes removed and
data directories emptied before each run), after the build figures.

Every case: a warm-up (none for cold, which prunes before every run), then
rounds of runs with the variants' order rotated round by round: --repeats runs of
each, and more of a figure whose runs add up to less than --min-time, up to
--max-repeats (as hyperfine does; short figures are cheap to measure often, and
with 5 runs alone the median of a second run falls outside the first run's
min-max band 1 time in 6 by chance; with 15, 1 in 450). The runs are spread
over --passes passes of the whole bench (default 2; --quick 1): each pass measures
the run-time figures, then the build figures, each after its warm-up, and gives
each figure its share of the runs (pass 1 of 2: 3 of 5 repeats, half the minimum
time, 8 of 15 at most). A figure's runs then lie minutes apart, and its min-max
band shows how the machine's speed moved over the whole bench, not over the half
minute its runs take in a row: a shared machine's speed wanders by 5-10 % over
tens of minutes, more than one figure's spread in a row. The cold case comes first
in pass 1 and last in the others, so the build cache is filled again once. At
the start of every case and run-time scenario, and before every HTTPS run, a
machine reference is timed: SHA-256 of 128 MiB on each CPU at once (about 0.1 s),
the machine's own speed apart from anything measured; the tables print it, per
pass too. Changes are made in
scratch copies of the embedded files: a changed line is numbered run by run, so
that no run finds it in the cache; an added package is the same every run, and
after each of its builds the cache records it made are pruned and the original
is rebuilt from the cache, so every run starts from the same state. Images go to <service>:bench-<variant> and are
removed at the end. Run it on an engine of its own (--root, --run-dir): the cold
scenario prunes the engine's whole build cache, and the other changes prune every
cache record made since their change was built, other users' included. On the
default engine (no --root) or an external builder (--buildkit-addr), the build
scenarios but no-change are refused before anything is done, unless
--prune-default-engine says that pruning that build cache is fine.

Run-time scenarios, on a stack of the bench's own (` + benchRuntimeStack + `, network ` + benchRuntimeSubnet + `,
data and random secrets in a scratch directory under the engine's root, HTTPS
and FTP on free ports of 127.0.0.1; taken down with its volumes at the end, also
on Ctrl-C) from the <service>:bookworm images, which are built first as
` + "`inceptionctl build`" + ` does: up (Up --wait to the home page answering 200 over
HTTPS, first boot with empty volumes and second boot with the data kept), start
(the stopped static service started: to its task running and to its health check
passing), https (GET / through nginx: requests per second, p50 and p99 latency,
--https-concurrency keep-alive connections for --https-duration, with the Redis
object cache and with ENABLE_REDIS=0), page-cache (the same load on the stack as it is,
nginx's page cache on and PHP tuned, and on the stack before both,
NGINX_PAGE_CACHE=0 and PHP_TUNING=stock: the anonymous home page, the home page of a
logged-in user, a new page per request; the table sets them against each other
and checks them against the targets page-cache-hit, page-cache-logged-in and
page-cache-hit-p99-ms). Each: a warm-up, then runs as the build
figures have them (--repeats, --min-time, --max-repeats, --passes; the stack is
taken down at the end of each pass); the two boots, and the two HTTPS variants,
take turns run by run. An HTTPS run with
more than 1% errors fails its figure: the report says so and the exit code is 1.
In each pass the run-time figures come before the build scenarios; their images
are built before the first pass, ahead of the cold case, which empties the build
cache.

Second runner (` + report.SecondRunner + `, never by default: --scenarios second-runner): what a
registry gives a second machine. Every round starts a registry of its own
(Debian's docker-registry on a free port of 127.0.0.1, plain HTTP, empty storage
in a scratch directory under the engine's root) and pushes the base to it; the
engine's builder builds the images from that base (untimed) and then, timed, pushes
them with their cache (--cache-to type=registry,mode=max): push. Then, in an order
rotated round by round, a fresh builder (the engine's buildkitd binary with the OCI
worker only, a new empty state directory and socket, started untimed) builds them
--cache-from that cache (with-cache), and another without it (without-cache): no
apt cache, packages from the Debian mirror; both push their images to the registry.
A third, with the cache, exports OCI tarballs instead (with-cache-oci): a push to the
registry that holds the cache fetches no layer, BuildKit pulling lazily; a tarball
needs every one.
Last, with every service's image (leave --images out): the engine pulls the images
the builder without the cache pushed (pull), then brings up a stack of the bench's
own (` + benchPullStack + `, network ` + benchPullSubnet + `) on them until the home page answers 200
(pull-and-up); stack, volumes and pulled images are removed after each round. The
table prints median [min-max] of each figure and the target second-runner, with-cache
over without-cache, as PASS or MISS (no exit code). --repeats rounds, exactly (no
--min-time), over --passes: a round of the whole stack takes minutes, so run it as
` + "`inceptionctl bench --scenarios second-runner --repeats 3 --passes 1`" + `.

--scenarios takes names of both kinds, and build or runtime for all of one kind
(default: all). --quick: nginx's no-change, config-change and package-change, 3
runs each, then every run-time figure once with 3 s HTTPS runs and no warm-up
boot; no --min-time, one pass.

Output: a table (or --format json) on stdout, progress on stderr, --chart FILE.svg.

Targets: the figures are checked against targets, printed as PASS or MISS; they
set no exit code. By name, with the project's defaults:
  no-change=0.5         llb at most 0.5 x dockerfile, the stack rebuilt unchanged
  config-change=0.5     llb at most 0.5 x dockerfile, one config line changed
                        (the stack's case, else nginx's)
  package-change=0.6    llb at most 0.6 x linear, one package added to nginx
  second-runner=0.25    with-cache at most 0.25 x without-cache
  page-cache-hit=20     anonymous home page with nginx's page cache at least
                        20 x its requests per second without
  page-cache-logged-in=1.2  the same for a logged-in user's home page, at least
  page-cache-hit-p99-ms=20  p99 latency of the page cache's hits under 20 ms
--target NAME=VALUE sets one (repeatable), --targets FILE sets those the file
lists, one NAME=VALUE a line (# starts a comment); --target wins over the file.

--export-json FILE also writes the report as --format json does into FILE (under
a temporary name, renamed when complete). --baseline FILE checks the run against
an earlier one, FILE being its --format json or --export-json output: a figure
both runs have is reproduced when its median is inside the earlier run's
min-max band, the three numbers compared as the table prints them. The table
ends with the count and each figure outside (json: comparison); figures the
earlier run lacks, and failed figures, are listed, not judged; then how much
faster or slower the machine reference was than in the earlier run. Like the targets,
the comparison sets no exit code. Both files are checked before anything is
measured.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, g, o)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func (o *benchOptions) addFlags(f *pflag.FlagSet) {
	f.IntVar(&o.repeats, "repeats", 5, "measured runs per case and variant, and per run-time figure, after one warm-up (at least: see --min-time)")
	f.DurationVar(&o.minTime, "min-time", 30*time.Second, "measure a figure again while its runs add up to less than this, up to --max-repeats runs (0: exactly --repeats)")
	f.IntVar(&o.maxRepeats, "max-repeats", 15, "most runs of a figure that --min-time adds to")
	f.IntVar(&o.passes, "passes", 2, "spread every figure's runs over this many passes of the whole bench, each with its warm-ups (at most --repeats)")
	f.BoolVar(&o.quick, "quick", false, "nginx only, no-change/config-change/package-change, 3 repeats; run-time figures once (under 3 minutes)")
	f.StringVar(&o.format, "format", "table", "output: table or json")
	f.StringVar(&o.chart, "chart", "", "also draw an SVG bar chart into this file")
	f.StringSliceVar(&o.images, "images", nil, "images to measure in the build scenarios (default: every service)")
	f.StringSliceVar(&o.scenarios, "scenarios", nil, "build scenarios: no-change, config-change, package-change, site-change, cold; run-time scenarios: up, start, https, page-cache; build or runtime for all of one kind (default: all); second-runner (never by default)")
	f.StringSliceVar(&o.variants, "variants", nil, "build variants: llb, linear, dockerfile (default: these three), compose (docker compose on a private dockerd: make docker-peer)")
	f.StringVar(&o.dockerConfig, "docker-config", defaultDockerConfig(), "for --variants compose: the DOCKER_CONFIG directory whose cli-plugins has docker compose (make docker-peer fills bin/docker-config)")
	f.BoolVar(&o.coldStack, "cold-stack", false, "cold-build the whole stack instead of nginx alone (slow)")
	f.StringVar(&o.progress, "progress", "quiet", "build progress on stderr: auto, tty, plain, rawjson or quiet")
	f.BoolVar(&o.keep, "keep-images", false, "keep the <service>:bench-<variant> images")
	f.BoolVar(&o.coldKeeps, "cold-keep-packages", false, "cold keeps the cache mounts with the packages apt downloaded (the figure then leaves out the Debian mirror)")
	o.distro.add(f)
	o.distro.noBase = true
	f.StringVar(&o.mirror, "apt-mirror", "", "Debian mirror for the base image when it has to be made (default: the host's)")
	f.DurationVar(&o.loadTime, "https-duration", 4*time.Second, "length of each measured HTTPS load run")
	f.IntVar(&o.concurrency, "https-concurrency", 8, "connections of the HTTPS load, one request in flight on each")
	f.StringVar(&o.exportJSON, "export-json", "", "also write the report as JSON (as --format json) into this file, atomically; its directory must exist")
	f.BoolVar(&o.pruneDefault, "prune-default-engine", false, "let the build scenarios prune the build cache of the default engine (--root "+engine.DefaultRoot+") or of an external --buildkit-addr builder, which your own builds share (default: refuse; run the bench on an engine of its own with --root and --run-dir)")
	f.StringArrayVar(&o.targets, "target", nil, "set a target: NAME=VALUE (repeatable; after --targets), NAME one of "+strings.Join(benchreport.Names(), ", ")+" (default "+benchreport.Defaults().String()+")")
	f.StringVar(&o.targetsFile, "targets", "", "read targets from this file: one NAME=VALUE a line, # for comments (names as --target)")
	f.StringVar(&o.baseline, "baseline", "", "JSON report of an earlier run (--format json or --export-json): count the medians inside its min-max bands, as printed, and list those outside; sets no exit code")
}

// The bench's own stacks, for the run-time figures and the second
// runner's pull-and-up: names and networks chosen to meet nothing else on
// the host (the default stack is "inception" on 10.89.0.0/24, the
// integration tests' stacks are on 10.89.101-120.0/24 and
// 10.89.131.0/24). Container ids, the bridge and the run dir's files are
// named after the stack, and runc's state and cgroups are each engine's
// own: two benches at once need engines of their own.
const (
	benchRuntimeStack  = "benchrt"
	benchRuntimeSubnet = "10.89.130.0/24"
	benchPullStack     = "benchpull"
	benchPullSubnet    = "10.89.132.0/24"
)

// quick is what --quick measures.
type quick struct {
	Images    []string
	Scenarios []string
	Repeats   int
	// The run-time figures: scenarios, runs of each, the length of each
	// HTTPS load run; no warm-up for up.
	Runtime        []string
	RuntimeRepeats int
	LoadDuration   time.Duration
}

// quickPlan is --quick: nginx alone, no change, a config change and a
// package added, three runs each; then every run-time figure once, with
// 3 s HTTPS runs and no warm-up boot: under three minutes on two cores
// once the caches are warm.
func quickPlan() quick {
	return quick{
		Images:         []string{"nginx"},
		Scenarios:      []string{string(report.ScenarioNoChange), string(report.ScenarioConfig), string(report.ScenarioPackage)},
		Repeats:        3,
		Runtime:        []string{string(report.RuntimeUp), string(report.RuntimeStart), string(report.RuntimeHTTPS), string(report.RuntimePageCache)},
		RuntimeRepeats: 1,
		LoadDuration:   3 * time.Second,
	}
}

// benchPlan is what one bench run measures: build cases and run-time
// scenarios, each with their options. Either may be empty.
type benchPlan struct {
	cases   []report.Case
	opts    []bench.BuildOption
	runtime []report.RuntimeScenario
	rtOpts  []bench.RuntimeOption
	passes  int
	compose bool // the compose variant: a private dockerd to start
	// The second-runner scenario: its images (none: not measured).
	srImages []string
	srOpts   []bench.BuildOption
	// composeUp: runs of the compose variant's up figure (with up).
	composeUp int
	// targets are what the figures are checked against.
	targets benchreport.Targets
}

func runBench(cmd *cobra.Command, g *globalOptions, o *benchOptions) error {
	// Everything the user typed is checked before any daemon is started.
	st := stack.Default()
	p, err := o.plan(cmd, st)
	if err != nil {
		return err
	}
	if err := o.checkPrune(g, p); err != nil {
		return err
	}
	baseline, err := o.checkFiles()
	if err != nil {
		return err
	}
	ctx, s, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer s.Close()
	// Alpine images start from a registry: no local base is made for them.
	if !o.distro.alpine() {
		if err := s.ensureBase(ctx, cmd.ErrOrStderr(), base.WithMirror(o.mirror)); err != nil {
			return err
		}
	}
	if p.compose {
		opt, stop, err := openComposePeer(ctx, cmd, s, o)
		if err != nil {
			return err
		}
		defer stop()
		p.opts = append(p.opts, opt)
	}
	// Each pass measures the run-time figures, then the build figures:
	// the run-time images are built first, before a cold build case
	// empties the build cache they would be rebuilt from.
	var rtb *bench.RuntimeBench
	if len(p.runtime) > 0 {
		var done func()
		if rtb, done, err = openRuntimeBench(ctx, cmd, s, st, o, p); err != nil {
			return err
		}
		defer done()
	}
	var bb *bench.BuildBench
	if len(p.cases) > 0 {
		bk, err := s.engine.BuildkitClient(cmd.Context())
		if err != nil {
			return errors.Join(err, closeRuntimeBench(ctx, rtb))
		}
		defer bk.Close()
		imgs := make([]bench.Image, 0, len(st.Services))
		for _, svc := range st.Services {
			recipe, err := build.RecipeOf(svc, llbdefs.Recipes())
			if err != nil {
				return errors.Join(err, closeRuntimeBench(ctx, rtb))
			}
			imgs = append(imgs, bench.Image{Name: svc.Name, Build: recipe})
		}
		// No containerd namespace on the context: the image store's client
		// has its own, and BuildKit calls must not carry one.
		if bb, err = bench.NewBuildBench(cmd.Context(), bk, imgs, p.cases, append(p.opts, bench.WithImageStore(s.cd.ImageService()))...); err != nil {
			return errors.Join(o.distro.explain(err), closeRuntimeBench(ctx, rtb))
		}
	}
	var srb *bench.SecondRunnerBench
	if len(p.srImages) > 0 {
		var done func()
		if srb, done, err = openSecondRunner(ctx, cmd, s, st, o, p); err != nil {
			return errors.Join(err, closeRuntimeBench(ctx, rtb))
		}
		defer done()
	}
	var perr error
	for k := 1; k <= p.passes && perr == nil; k++ {
		if p.passes > 1 {
			fmt.Fprintf(cmd.ErrOrStderr(), "bench: pass %d of %d\n", k, p.passes)
		}
		if rtb != nil {
			perr = rtb.Pass(ctx, k)
		}
		if bb != nil && perr == nil {
			if perr = bb.Pass(cmd.Context(), k); perr != nil {
				perr = fmt.Errorf("build figures: %w", perr)
			}
		}
		if srb != nil && perr == nil {
			perr = srb.Pass(ctx, k)
		}
	}
	composeUp, cerr := measureComposeUp(cmd, bb, p, perr)
	perr = errors.Join(perr, cerr)
	rep := report.New()
	if bb != nil {
		rep = bb.Close(cmd.Context())
	}
	var rr *report.RuntimeReport
	if rtb != nil {
		var cerr error
		rr, cerr = rtb.Close(ctx)
		perr = errors.Join(perr, cerr)
	}
	if srb != nil {
		var cerr error
		rep.SecondRunner, cerr = srb.Close(ctx)
		perr = errors.Join(perr, cerr)
	}
	if perr != nil {
		return o.distro.explain(perr)
	}
	rep.Runtime = withComposeUp(rr, composeUp)
	rep.Command = strings.Join(os.Args, " ")
	p.targets.Check(rep)
	if baseline != nil {
		rep.Comparison = benchreport.Compare(rep, baseline, o.baseline)
	}
	if o.chart != "" {
		if err := writeChart(o.chart, rep); err != nil {
			return err
		}
	}
	if o.format == "json" {
		err = rep.WriteJSON(cmd.OutOrStdout())
	} else {
		err = benchreport.WriteTable(cmd.OutOrStdout(), rep)
	}
	if o.exportJSON != "" {
		if xerr := rep.WriteJSONFile(o.exportJSON); xerr != nil {
			err = errors.Join(err, fmt.Errorf("--export-json: %w", xerr))
		}
	}
	if err != nil {
		return err
	}
	if rr != nil {
		if failed := rr.Failed(); len(failed) > 0 {
			return fmt.Errorf("%w: %s", bench.ErrFigureFailed, strings.Join(failed, "; "))
		}
	}
	return nil
}

// openRuntimeBench builds the stack's images as `inceptionctl build`
// does, and opens the run-time bench on the bench's own stack, in a
// scratch directory under the engine's root (on disk, like a user's data
// dir). done, after the bench's Close, removes the directory and lets
// another bench have the engine's stack.
func openRuntimeBench(ctx context.Context, cmd *cobra.Command, s *session, st stack.Stack, o *benchOptions, p benchPlan) (_ *bench.RuntimeBench, done func(), err error) {
	log := cmd.ErrOrStderr()
	targets, err := build.Targets(ctx, st.Services, llbdefs.Recipes())
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(log, "bench: building the images (%s:%s)\n", strings.Join(st.Names(), ","), runtime.DefaultTag)
	if _, err := s.buildTargets(ctx, log, []base.Option{base.WithMirror(o.mirror)}, targets, build.WithProgress(log, o.progress)); err != nil {
		return nil, nil, err
	}
	// One bench stack per engine: a second bench would take the first's
	// stack down as what a crashed run left.
	unlock, err := lockBenchStack(filepath.Join(s.engine.Root(), "bench-runtime.lock"))
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(s.engine.Root(), "bench-runtime-")
	if err != nil {
		unlock()
		return nil, nil, fmt.Errorf("bench stack directory: %w", err)
	}
	done = func() {
		os.RemoveAll(dir)
		unlock()
	}
	defer func() {
		if err != nil {
			done()
		}
	}()
	rs, err := bench.NewRuntimeStack(benchRuntimeStack, dir)
	if err != nil {
		return nil, nil, err
	}
	rt, err := s.benchRuntime(rs, benchRuntimeSubnet, log, o.progress)
	if err != nil {
		return nil, nil, err
	}
	b, err := bench.NewRuntimeBench(ctx, rt, rs, p.runtime, p.rtOpts...)
	if err != nil {
		return nil, nil, err
	}
	return b, done, nil
}

// closeRuntimeBench closes b, when there is one: the stack goes down.
func closeRuntimeBench(ctx context.Context, b *bench.RuntimeBench) error {
	if b == nil {
		return nil
	}
	_, err := b.Close(ctx)
	return err
}

// lockBenchStack takes the engine's bench lock, held until unlock (or the
// process ends).
func lockBenchStack(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bench lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another inceptionctl bench measures run-time figures on this engine (%s is locked): wait for it, or use an engine of your own (--root, --run-dir)", path)
		}
		return nil, fmt.Errorf("bench lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// plan turns the flags into the cases and options of a run; every error is
// a usage error.
func (o *benchOptions) plan(cmd *cobra.Command, st stack.Stack) (benchPlan, error) {
	var p benchPlan
	if o.format != "table" && o.format != "json" {
		return p, usagef("--format %q: use table or json", o.format)
	}
	if err := build.CheckProgress(o.progress); err != nil {
		return p, usagef("--progress: %w", err)
	}
	changed := cmd.Flags().Changed
	var err error
	if p.targets, err = o.targetsOf(); err != nil {
		return p, err
	}
	images, scenarios, repeats, rtRepeats, loadTime, minTime, passes := o.images, o.scenarios, o.repeats, o.repeats, o.loadTime, o.minTime, o.passes
	var rtOpts []bench.RuntimeOption
	if o.quick {
		q := quickPlan()
		if len(images) == 0 {
			images = q.Images
		}
		if len(scenarios) == 0 {
			scenarios = append(slices.Clone(q.Scenarios), q.Runtime...)
		}
		if !changed("repeats") {
			repeats, rtRepeats = q.Repeats, q.RuntimeRepeats
		}
		if !changed("https-duration") {
			loadTime = q.LoadDuration
		}
		if !changed("min-time") {
			minTime = 0
		}
		if !changed("passes") {
			passes = 1
		}
		rtOpts = append(rtOpts, bench.WithoutUpWarmup())
	}
	if repeats < 1 {
		return p, usagef("--repeats %d: measure at least once", repeats)
	}
	if minTime < 0 {
		return p, usagef("--min-time %v: give 0 (exactly --repeats runs) or a positive duration such as 30s", minTime)
	}
	maxRepeats := o.maxRepeats
	if !changed("max-repeats") {
		maxRepeats = max(maxRepeats, repeats)
	}
	if minTime > 0 && maxRepeats < repeats {
		return p, usagef("--max-repeats %d is fewer than --repeats %d: give at least as many, or --min-time 0", maxRepeats, repeats)
	}
	scenarios, second := cutSecondRunner(scenarios)
	var scs []report.Scenario
	var rts []report.RuntimeScenario
	if !second || len(scenarios) > 0 {
		if scs, rts, err = splitScenarios(scenarios); err != nil {
			return p, err
		}
	}
	dopt, err := o.distro.option()
	if err != nil {
		return p, err
	}
	if o.distro.alpine() && (len(rts) > 0 || second || slices.Contains(o.variants, string(report.VariantCompose))) {
		return p, usagef("--distro alpine: only the build scenarios of the llb, linear and dockerfile variants build Alpine images (the run-time figures, the second runner and the compose variant run the Debian stack): give --scenarios build or a list of build scenarios")
	}
	if passes < 1 {
		return p, usagef("--passes %d: measure in at least one pass", passes)
	}
	switch {
	case passes > repeats && (len(scs) > 0 || rtRepeats == repeats):
		return p, usagef("--passes %d is more than --repeats %d: give at most as many passes as repeats, so that each pass measures every figure", passes, repeats)
	case passes > rtRepeats && len(rts) > 0:
		return p, usagef("--passes %d: --quick measures each run-time figure once: give --passes 1, or --repeats for more runs", passes)
	}
	p.passes = passes
	runs := bench.WithMinTime(minTime, maxRepeats)
	label := func(n int) string {
		l := benchreport.RunsLabel(n, maxRepeats, minTime.Seconds())
		if passes > 1 {
			l += fmt.Sprintf(" in %d passes", passes)
		}
		return l
	}
	if len(scs) == 0 {
		for _, f := range []string{"images", "variants", "cold-stack", "cold-keep-packages", "keep-images"} {
			if changed(f) && (!second || f != "images") {
				return p, usagef("--%s applies to the build scenarios, and --scenarios has none", f)
			}
		}
	} else if p.cases, p.opts, err = o.buildPlan(cmd, st, images, scs, repeats, label(repeats)); err != nil {
		return p, err
	} else {
		p.compose = slices.Contains(o.variants, string(report.VariantCompose))
	}
	p.opts = append(p.opts, runs, bench.WithPasses(passes), bench.WithMachineReference())
	if o.distro.alpine() {
		p.opts = append(p.opts, bench.WithImageOptions(dopt))
	}
	if second {
		if p.srImages, p.srOpts, err = secondRunnerPlan(cmd, st, images, repeats, passes); err != nil {
			return p, err
		}
	}
	if !slices.Contains(rts, report.RuntimeHTTPS) && !slices.Contains(rts, report.RuntimePageCache) {
		for _, f := range []string{"https-duration", "https-concurrency"} {
			if changed(f) {
				return p, usagef("--%s applies to the https and page-cache scenarios, and --scenarios has neither", f)
			}
		}
	}
	if len(rts) == 0 {
		return p, nil
	}
	if loadTime <= 0 || loadTime > 10*time.Minute {
		return p, usagef("--https-duration %v: give a duration from 1s to 10m", loadTime)
	}
	if o.concurrency < 1 || o.concurrency > 256 {
		return p, usagef("--https-concurrency %d: give 1 to 256 connections", o.concurrency)
	}
	p.runtime = rts
	if p.compose && slices.Contains(rts, report.RuntimeUp) {
		p.composeUp = rtRepeats
	}
	p.rtOpts = append(rtOpts, bench.WithRepeats(rtRepeats), runs, bench.WithPasses(passes), bench.WithMachineReference(), bench.WithLog(cmd.ErrOrStderr()), bench.WithLoad(loadTime, o.concurrency))
	names := make([]string, len(rts))
	for i, sc := range rts {
		names[i] = string(sc)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: run time: %s x (warm-up + %s)\n", strings.Join(names, ", "), label(rtRepeats))
	return p, nil
}

// targetsOf is the project's targets, then --targets' file, then every
// --target.
func (o *benchOptions) targetsOf() (benchreport.Targets, error) {
	t := benchreport.Defaults()
	if o.targetsFile != "" {
		if err := t.ReadFile(o.targetsFile); err != nil {
			return nil, usagef("--targets: %w", err)
		}
	}
	for _, s := range o.targets {
		if err := t.Set(s); err != nil {
			return nil, usagef("--target %s: %w", s, err)
		}
	}
	return t, nil
}

// checkPrune refuses a plan that prunes a build cache the bench may not
// prune: the build scenarios but no-change prune the engine's build cache
// (cold all of it, the others every record made since their change),
// which is the bench's own only on an engine of its own root. The default
// engine, and an external buildkitd, hold the user's build cache: the
// bench prunes those only when told to (--prune-default-engine).
func (o *benchOptions) checkPrune(g *globalOptions, p benchPlan) error {
	if o.pruneDefault || !p.prunes() {
		return nil
	}
	var which, own string
	switch {
	case g.buildkitAddress != "":
		which, own = "the external buildkitd at "+g.buildkitAddress+" (--buildkit-addr)", "without --buildkit-addr, with "
	case filepath.Clean(g.root) == filepath.Clean(engine.DefaultRoot):
		which = "the default engine (" + engine.DefaultRoot + ")"
	default:
		return nil
	}
	return usagef("the build scenarios but no-change prune the build cache, and the builds would go to %s, whose cache your own builds share: "+
		"run the bench on an engine of its own (%s--root DIR --run-dir DIR, e.g. --root /var/lib/inception-bench --run-dir /run/inception-bench), "+
		"or give --prune-default-engine to prune this one's build cache anyway, or measure --scenarios no-change or runtime alone", which, own)
}

// prunes says whether the plan prunes the engine's build cache: every
// build scenario does but no-change.
func (p benchPlan) prunes() bool {
	for _, cs := range p.cases {
		if cs.Scenario != report.ScenarioNoChange {
			return true
		}
	}
	return false
}

// splitScenarios sorts scenario names into build and run-time scenarios;
// "build" and "runtime" stand for all of one kind, no name for all.
func splitScenarios(names []string) ([]report.Scenario, []report.RuntimeScenario, error) {
	if len(names) == 0 {
		return report.Scenarios(), report.RuntimeScenarios(), nil
	}
	var scs []report.Scenario
	var rts []report.RuntimeScenario
	for _, n := range names {
		switch n {
		case "build":
			scs = append(scs, report.Scenarios()...)
			continue
		case "runtime":
			rts = append(rts, report.RuntimeScenarios()...)
			continue
		}
		if sc, err := report.ParseScenario(n); err == nil {
			scs = append(scs, sc)
			continue
		}
		rt, err := report.ParseRuntimeScenario(n)
		if err != nil {
			return nil, nil, usagef("--scenarios: %w %q: use no-change, config-change, package-change, site-change, cold, up, start, https, page-cache, second-runner, build or runtime",
				report.ErrUnknownScenario, n)
		}
		rts = append(rts, rt)
	}
	// In the order they run, each once.
	var ordered []report.RuntimeScenario
	for _, sc := range report.RuntimeScenarios() {
		if slices.Contains(rts, sc) {
			ordered = append(ordered, sc)
		}
	}
	return scs, ordered, nil
}

// buildPlan is the build part of a plan.
func (o *benchOptions) buildPlan(cmd *cobra.Command, st stack.Stack, images []string, scs []report.Scenario, repeats int, runs string) ([]report.Case, []bench.BuildOption, error) {
	vs := report.Variants()
	if len(o.variants) > 0 {
		vs = nil
	}
	for _, s := range o.variants {
		v, err := report.ParseVariant(s)
		if err != nil {
			return nil, nil, usagef("--variants: %w", err)
		}
		vs = append(vs, v)
	}
	if err := o.checkComposePeer(vs); err != nil {
		return nil, nil, err
	}
	cases, err := bench.Plan(st.Names(), images, scs, o.coldStack)
	if err != nil {
		return nil, nil, usagef("%w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: %d cases x %d variants x (warm-up + %s)\n", len(cases), len(vs), runs)
	opts := []bench.BuildOption{
		bench.WithRepeats(repeats), bench.WithVariants(vs...), bench.WithLog(cmd.ErrOrStderr()),
		bench.WithProgress(cmd.ErrOrStderr(), o.progress),
	}
	if o.keep {
		opts = append(opts, bench.WithKeepImages())
	}
	if o.coldKeeps {
		opts = append(opts, bench.WithColdKeepingPackages())
	}
	return cases, opts, nil
}

func writeChart(path string, rep *report.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := benchreport.WriteSVG(f, rep); err != nil {
		f.Close()
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return f.Close()
}

// checkFiles checks the files the flags name before anything is measured:
// that --export-json can be written, and that --baseline is a report,
// which it returns (nil without --baseline).
func (o *benchOptions) checkFiles() (*report.Report, error) {
	if o.exportJSON != "" {
		if err := checkWritable(o.exportJSON); err != nil {
			return nil, usagef("--export-json %s: %w", o.exportJSON, err)
		}
	}
	if o.baseline == "" {
		return nil, nil
	}
	rep, err := report.Read(o.baseline)
	if err != nil {
		return nil, usagef("--baseline: %w; give the JSON of an earlier run (inceptionctl bench --format json > FILE, or --export-json FILE)", err)
	}
	return rep, nil
}

// checkWritable says why a file cannot be written at path: not a
// directory, in a directory that exists and takes a new file (tried with
// a temporary file, removed at once).
func checkWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("is a directory: give a file name")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist: create it first, or give a file in an existing directory", dir)
	case err != nil:
		return fmt.Errorf("%w: give a file in a directory you can write", err)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory: give a file in an existing directory", dir)
	}
	f, err := os.CreateTemp(dir, ".inceptionctl-bench-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s (%w): give a file in a directory you can write", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// benchRuntime is a runtime on the session's engine for one of the bench's
// own stacks, on its subnet; its progress goes to log unless progress is
// quiet.
func (s *session) benchRuntime(rs *bench.RuntimeStack, subnet string, log io.Writer, progress string) (*runtime.Runtime, error) {
	w := io.Discard
	if progress != "quiet" {
		w = log
	}
	e := s.engine
	return runtime.New(s.cd, append([]runtime.Option{
		runtime.WithRoot(e.Root()),
		runtime.WithRunDir(e.RunDir()),
		runtime.WithContainerd(e.ContainerdAddress(), e.Namespace()),
		runtime.WithProgress(w),
	}, rs.RuntimeOptions(subnet)...)...)
}
