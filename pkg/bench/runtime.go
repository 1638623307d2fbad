package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/internal/freeport"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// startService is the service the start scenario stops and starts: small,
// with a health check and nothing that waits on its health.
const startService = "static"

// upTimeout bounds one Up --wait, and the wait for the home page after it.
const upTimeout = 5 * time.Minute

// StackRuntime is the part of pkg/runtime's Runtime the run-time figures
// drive.
type StackRuntime interface {
	Up(ctx context.Context, st stack.Stack, o runtime.UpOptions) error
	Down(ctx context.Context, st stack.Stack, o runtime.DownOptions) error
	Stop(ctx context.Context, stackName string, names []string) error
	Start(ctx context.Context, stackName string, names []string) error
	PS(ctx context.Context, stackName string) ([]runtime.ServiceReport, error)
	Logs(ctx context.Context, stackName string, o runtime.LogsOptions, w io.Writer) error
}

var _ StackRuntime = (*runtime.Runtime)(nil)

// RuntimeStack is the Inception stack the run-time figures run: every
// service, under a name of its own, its volumes and secrets in a scratch
// directory, HTTPS and FTP published on free ports of 127.0.0.1 only.
// Nothing of the user's stack is read or touched.
type RuntimeStack struct {
	// Stack is the stack as a .env with the defaults makes it: the
	// Redis object cache on.
	Stack stack.Stack
	// NoCache is NoPageCache with ENABLE_REDIS=0: no redis service,
	// WordPress without object cache, every page rendered by PHP.
	NoCache stack.Stack
	// NoPageCache is Stack with NGINX_PAGE_CACHE=0: nginx renders every
	// page through PHP.
	NoPageCache stack.Stack
	// Before is NoPageCache with PHP_TUNING=stock: the stack as it was
	// before the page cache and the PHP tuning, which the page cache's
	// figures are set against.
	Before stack.Stack
	// Config is Stack's configuration: data and secrets dirs, ports.
	Config stack.Config
}

var stackNameRe = regexp.MustCompile(`^[a-z][a-z0-9]{0,10}$`)

// NewRuntimeStack makes the bench's stack called name in dir: the
// configuration, with data and secrets under dir (dir/data, dir/secrets),
// and the secrets themselves (random, never printed). The caller removes
// dir.
//
//	rs, err := bench.NewRuntimeStack("benchrt", dir)
func NewRuntimeStack(name, dir string) (*RuntimeStack, error) {
	// The name is the login, the domain's first label and part of the
	// bridge's name (inc-<name>, at most 15 characters).
	if !stackNameRe.MatchString(name) {
		return nil, fmt.Errorf("bench stack name %q: use 1 to 11 lower-case letters and digits, a letter first", name)
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("bench stack directory %q: give an absolute path", dir)
	}
	ports, err := freeStackPorts()
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"LOGIN":            name,
		"DATA_DIR":         filepath.Join(dir, "data"),
		"SECRETS_DIR":      filepath.Join(dir, "secrets"),
		"HOST_IP":          "127.0.0.1",
		"HTTPS_PORT":       strconv.Itoa(ports.https),
		"FTP_PORT":         strconv.Itoa(ports.ftp),
		"FTP_PASV_MIN":     strconv.Itoa(ports.pasvMin),
		"FTP_PASV_MAX":     strconv.Itoa(ports.pasvMax),
		"FTP_PASV_ADDRESS": "127.0.0.1",
		"WP_TITLE":         "inceptionctl bench",
	}
	cfg, err := stack.NewConfig(env)
	if err != nil {
		return nil, err
	}
	env["NGINX_PAGE_CACHE"] = "0"
	noPageCacheCfg, err := stack.NewConfig(env)
	if err != nil {
		return nil, err
	}
	env["PHP_TUNING"] = "stock"
	beforeCfg, err := stack.NewConfig(env)
	if err != nil {
		return nil, err
	}
	delete(env, "PHP_TUNING")
	// The object cache's figures are PHP's: nginx's page cache stays off
	// for them, else both would be cache hits.
	env["ENABLE_REDIS"] = "0"
	noCacheCfg, err := stack.NewConfig(env)
	if err != nil {
		return nil, err
	}
	if _, err := cfg.EnsureSecrets(); err != nil {
		return nil, err
	}
	st, err := stack.Inception(cfg)
	if err != nil {
		return nil, err
	}
	noCache, err := stack.Inception(noCacheCfg)
	if err != nil {
		return nil, err
	}
	noPageCache, err := stack.Inception(noPageCacheCfg)
	if err != nil {
		return nil, err
	}
	before, err := stack.Inception(beforeCfg)
	if err != nil {
		return nil, err
	}
	st.Name, noCache.Name, noPageCache.Name, before.Name = name, name, name, name
	return &RuntimeStack{Stack: st, NoCache: noCache, NoPageCache: noPageCache, Before: before, Config: cfg}, nil
}

// URL is the home page: https://<name>.42.fr:<port>/.
func (s *RuntimeStack) URL() string { return s.Config.SiteURL() + "/" }

// Addr is where the home page answers: 127.0.0.1:<port>.
func (s *RuntimeStack) Addr() string {
	return net.JoinHostPort(s.Config.HostIP, strconv.Itoa(s.Config.HTTPSPort))
}

// RuntimeOptions are the runtime options the stack needs: its data and
// secrets dirs, 127.0.0.1 for published ports, and subnet for its
// network. Add the engine's (root, run dir, containerd, tag).
func (s *RuntimeStack) RuntimeOptions(subnet string) []runtime.Option {
	return []runtime.Option{
		runtime.WithDataDir(s.Config.DataDir),
		runtime.WithSecretsDir(s.Config.SecretsDir),
		runtime.WithHostIP(s.Config.HostIP),
		runtime.WithNetworkSubnet(subnet),
	}
}

// WithLoad sets the HTTPS load of every measured run of RunRuntime: d
// long, with concurrency workers (default 10 s, 8).
func WithLoad(d time.Duration, concurrency int) RuntimeOption {
	return runtimeOption(func(c *config) { c.loadDuration, c.concurrency = d, concurrency })
}

// WithoutUpWarmup leaves out RunRuntime's warm-up of the up scenario (an
// untimed first and second boot): quicker, at the price of a first
// measured boot that may unpack images changed since the last one.
func WithoutUpWarmup() RuntimeOption {
	return runtimeOption(func(c *config) { c.noUpWarmup = true })
}

// warmupLoad is the longest warm-up load run: enough for php-fpm's opcache
// and the object cache to fill.
const warmupLoad = 2 * time.Second

// runtimeSpent is the measured time of the figure's runs: their values for a
// time, load each for a rate.
func runtimeSpent(r report.RuntimeResult, load time.Duration) float64 {
	if r.Unit == "s" {
		var s float64
		for _, run := range r.Runs {
			s += run.Value
		}
		return s
	}
	return float64(len(r.Runs)) * load.Seconds()
}

// summariseRuntime computes the statistics of the figure's runs.
func summariseRuntime(r *report.RuntimeResult) {
	if len(r.Runs) == 0 {
		return
	}
	var vals, ups, p50, p99 []float64
	for i, run := range r.Runs {
		vals = append(vals, run.Value)
		if run.UpSeconds > 0 {
			ups = append(ups, run.UpSeconds)
		}
		if run.Load != nil {
			p50 = append(p50, run.Load.P50ms)
			p99 = append(p99, run.Load.P99ms)
			r.Requests += run.Load.Requests
			r.Errors += run.Load.Errors
		}
		if run.Failed != "" && r.Failed == "" {
			r.Failed = fmt.Sprintf("run %d: %s", i+1, run.Failed)
		}
	}
	r.Median, r.Min, r.Max = benchstat.Median(vals), slices.Min(vals), slices.Max(vals)
	if len(ups) > 0 {
		r.UpSeconds = benchstat.Median(ups)
	}
	if len(p50) > 0 {
		r.P50ms, r.P99ms = benchstat.Median(p50), benchstat.Median(p99)
	}
}

// rtRunner is one RuntimeBench.
type rtRunner struct {
	config
	rt   StackRuntime
	s    *RuntimeStack
	home *http.Client
	ref  *benchstat.Reference
}

// RunRuntime measures the run-time scenarios on the bench's stack s, whose
// images must be in the engine's image store (built with the runtime's
// tag), each the same way as the build figures: a warm-up, then the
// repeats; with WithPasses, all of that once per pass. The stack is taken
// down first (a run that crashed may have left it), after each pass, and
// at the end, volumes included, even when ctx is cancelled.
//
//	rep, err := bench.RunRuntime(ctx, rt, rs, nil, bench.WithRepeats(5))
//
// Scenarios run in the order of report.RuntimeScenarios (all when
// scenarios is empty); those after up boot the stack untimed when up is
// not asked for.
// The two figures of up and of https alternate run by run, as the build
// variants do. RunRuntime is NewRuntimeBench, each pass in turn, and Close.
func RunRuntime(ctx context.Context, rt StackRuntime, s *RuntimeStack, scenarios []report.RuntimeScenario, opts ...RuntimeOption) (*report.RuntimeReport, error) {
	b, err := NewRuntimeBench(ctx, rt, s, scenarios, opts...)
	if err != nil {
		return nil, err
	}
	for k := 1; k <= b.Passes() && err == nil; k++ {
		err = b.Pass(ctx, k)
	}
	rep, cerr := b.Close(ctx)
	return rep, errors.Join(err, cerr)
}

// RuntimeBench measures the run-time figures pass by pass, so that a
// caller can put other work between the passes, on a machine the stack
// leaves alone: every pass ends with the stack down.
type RuntimeBench struct {
	r         *rtRunner
	scenarios []report.RuntimeScenario
	results   map[report.RuntimeScenario][]report.RuntimeResult
	rep       *report.RuntimeReport
	closed    bool
}

// NewRuntimeBench checks the scenarios and options, and takes down what a
// run that crashed may have left of the stack: what it left is the bench's.
func NewRuntimeBench(ctx context.Context, rt StackRuntime, s *RuntimeStack, scenarios []report.RuntimeScenario, opts ...RuntimeOption) (*RuntimeBench, error) {
	c := config{repeats: 5, passes: 1, log: io.Discard, loadDuration: 10 * time.Second, concurrency: 8, upTimeout: upTimeout}
	for _, o := range opts {
		o.applyRuntime(&c)
	}
	switch {
	case rt == nil:
		return nil, errors.New("no runtime: open one with runtime.New")
	case s == nil:
		return nil, errors.New("no stack: make one with bench.NewRuntimeStack")
	case c.loadDuration <= 0:
		return nil, fmt.Errorf("load duration %v: give a positive duration such as 10s", c.loadDuration)
	case c.concurrency < 1:
		return nil, fmt.Errorf("load concurrency %d: use at least 1", c.concurrency)
	}
	if err := c.checkRepeats(); err != nil {
		return nil, err
	}
	if len(scenarios) == 0 {
		scenarios = report.RuntimeScenarios()
	}
	for _, sc := range scenarios {
		if _, err := report.ParseRuntimeScenario(string(sc)); err != nil {
			return nil, err
		}
	}
	if !slices.Contains(s.Stack.Names(), startService) {
		return nil, fmt.Errorf("bench stack %s has no %s service", s.Stack.Name, startService)
	}
	probe := loadSpec{URL: s.URL(), Addr: s.Addr(), Concurrency: 1, Timeout: 10 * time.Second}
	if err := probe.check(); err != nil {
		return nil, err
	}
	b := &RuntimeBench{r: &rtRunner{config: c, rt: rt, s: s, home: probe.client(), ref: c.newReference()}, results: map[report.RuntimeScenario][]report.RuntimeResult{}}
	for _, sc := range report.RuntimeScenarios() {
		if slices.Contains(scenarios, sc) {
			b.scenarios = append(b.scenarios, sc)
		}
	}
	b.rep = &report.RuntimeReport{Stack: s.Stack.Name, Services: s.Stack.Names(), Repeats: c.repeats, Passes: c.passes, UpWarmup: !c.noUpWarmup,
		Concurrency: c.concurrency, LoadSeconds: c.loadDuration.Seconds(), StartService: startService,
		Started: time.Now().UTC(), Results: []report.RuntimeResult{}}
	if c.minTime > 0 && c.maxRepeats > c.repeats {
		b.rep.MinSeconds, b.rep.MaxRepeats = c.minTime.Seconds(), c.maxRepeats
	}
	if slices.Contains(b.scenarios, report.RuntimePageCache) {
		b.rep.PageCacheOff = report.PageCacheOffStock
	}
	if err := rt.Down(ctx, s.Stack, runtime.DownOptions{Volumes: true}); err != nil {
		b.r.home.CloseIdleConnections()
		return nil, fmt.Errorf("take down what a previous run left of %s: %w", s.Stack.Name, err)
	}
	return b, nil
}

// Passes is how many passes the bench has (WithPasses).
func (b *RuntimeBench) Passes() int { return b.r.passes }

// Pass measures pass k (from 1; each once, in order): every scenario,
// each figure after its warm-up and to its share of the runs. The stack
// boots in the pass and is taken down at its end, volumes included.
func (b *RuntimeBench) Pass(ctx context.Context, k int) (err error) {
	r := b.r
	if err := r.startPass(k, b.closed); err != nil {
		return err
	}
	if r.passes > 1 {
		r.logf("run time: pass %d of %d", k, r.passes)
	}
	if k < r.passes {
		defer func() {
			if err == nil {
				if err = r.rt.Down(ctx, r.s.Stack, runtime.DownOptions{Volumes: true}); err != nil {
					err = fmt.Errorf("take down %s after pass %d: %w", r.s.Stack.Name, k, err)
				}
			}
		}()
	}
	booted := false
	for _, sc := range b.scenarios {
		r.ref.Time(r.pass)
		results := b.results[sc]
		if results == nil {
			results = newRuntimeResults(sc)
			b.results[sc] = results
		}
		var err error
		switch sc {
		case report.RuntimeUp:
			err = r.measureUp(ctx, results)
		case report.RuntimeStart:
			if !booted {
				err = r.bootUntimed(ctx, r.s.Stack)
			}
			if err == nil {
				err = r.measureStart(ctx, &results[0], &results[1])
			}
		case report.RuntimeHTTPS:
			if !booted {
				err = r.bootUntimed(ctx, r.s.Stack)
			}
			if err == nil {
				err = r.measureHTTPS(ctx, results)
			}
		case report.RuntimePageCache:
			if !booted {
				err = r.bootUntimed(ctx, r.s.Stack)
			}
			if err == nil {
				err = r.measurePageCache(ctx, results)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", sc, err)
		}
		booted = true
	}
	return nil
}

// newRuntimeResults are the figures of scenario sc, with no run yet.
func newRuntimeResults(sc report.RuntimeScenario) []report.RuntimeResult {
	var figures []string
	unit := "s"
	switch sc {
	case report.RuntimeUp:
		figures = []string{report.FigureFirstBoot, report.FigureSecondBoot}
	case report.RuntimeStart:
		figures = []string{report.FigureRunning, report.FigureHealthy}
	case report.RuntimeHTTPS:
		figures, unit = []string{report.FigureRedisCache, report.FigureNoCache}, "req/s"
	case report.RuntimePageCache:
		figures, unit = []string{report.FigureAnonymous, report.FigureLoggedIn, report.FigureMiss, report.FigureAnonymousOff, report.FigureLoggedInOff, report.FigureMissOff}, "req/s"
	}
	results := make([]report.RuntimeResult, len(figures))
	for i, f := range figures {
		results[i] = report.RuntimeResult{Scenario: sc, Figure: f, Unit: unit}
	}
	return results
}

// Close takes the stack down with its volumes, even when ctx is cancelled
// (Ctrl-C), and returns the report of every figure measured. A bench cut
// short by an error reports the figures that have runs.
func (b *RuntimeBench) Close(ctx context.Context) (*report.RuntimeReport, error) {
	if b.closed {
		return b.rep, nil
	}
	b.closed = true
	r := b.r
	defer r.home.CloseIdleConnections()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	r.logf("%s: down, volumes removed", r.s.Stack.Name)
	var err error
	if derr := r.rt.Down(cctx, r.s.Stack, runtime.DownOptions{Volumes: true}); derr != nil {
		err = fmt.Errorf("take down %s: %w", r.s.Stack.Name, derr)
	}
	for _, sc := range b.scenarios {
		for _, res := range b.results[sc] {
			if len(res.Runs) > 0 {
				summariseRuntime(&res)
				b.rep.Results = append(b.rep.Results, res)
			}
		}
	}
	b.rep.Reference = r.ref.Summarised()
	b.rep.Seconds = time.Since(b.rep.Started).Seconds()
	return b.rep, err
}

// measureUp times first boots (Down removing the volumes before) and
// second boots (Down keeping them), one after the other, so that drift of
// the machine hits both alike. The warm-up is one untimed round. The runs
// are added to results: first boots, second boots.
func (r *rtRunner) measureUp(ctx context.Context, results []report.RuntimeResult) error {
	st := r.s.Stack
	if !r.noUpWarmup {
		for k := range results {
			run, err := r.bootAfterDown(ctx, st, k == 0)
			if err != nil {
				return fmt.Errorf("%s: %w", results[k].Figure, err)
			}
			r.logf("%-22s %-9s %7.2fs (Up --wait %.2fs)", results[k].Name(), "warm-up", run.Value, run.UpSeconds)
		}
	}
	for r.round(results) {
		for k := range results {
			if !r.wants(len(results[k].Runs), runtimeSpent(results[k], r.loadDuration)) {
				continue
			}
			run, err := r.bootAfterDown(ctx, st, k == 0)
			if err != nil {
				return fmt.Errorf("%s: %w", results[k].Figure, err)
			}
			run.Pass = r.pass
			results[k].Runs = append(results[k].Runs, run)
			r.logf("%-22s run %-5d %7.2fs (Up --wait %.2fs)", results[k].Name(), len(results[k].Runs), run.Value, run.UpSeconds)
		}
	}
	return nil
}

// bootAfterDown takes the stack down, its volumes too when empty, and
// times a boot.
func (r *rtRunner) bootAfterDown(ctx context.Context, st stack.Stack, empty bool) (report.RuntimeRun, error) {
	if err := r.rt.Down(ctx, st, runtime.DownOptions{Volumes: empty}); err != nil {
		return report.RuntimeRun{}, fmt.Errorf("down: %w", err)
	}
	return r.boot(ctx, st)
}

// round says whether any of results wants another run.
func (r *rtRunner) round(results []report.RuntimeResult) bool {
	return slices.ContainsFunc(results, func(res report.RuntimeResult) bool {
		return r.wants(len(res.Runs), runtimeSpent(res, r.loadDuration))
	})
}

// boot times Up --wait, then the home page until it answers 200.
func (r *rtRunner) boot(ctx context.Context, st stack.Stack) (report.RuntimeRun, error) {
	start := time.Now()
	if err := r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: r.upTimeout}); err != nil {
		return report.RuntimeRun{}, err
	}
	up := time.Since(start)
	if err := r.waitHome(ctx); err != nil {
		return report.RuntimeRun{}, err
	}
	return report.RuntimeRun{Value: time.Since(start).Seconds(), UpSeconds: up.Seconds()}, nil
}

func (r *rtRunner) bootUntimed(ctx context.Context, st stack.Stack) error {
	run, err := r.boot(ctx, st)
	if err != nil {
		return fmt.Errorf("boot %s: %w", st.Name, err)
	}
	r.logf("%-22s %7.2fs (untimed)", "boot", run.Value)
	return nil
}

// waitHome polls the home page until it answers 200 with WordPress's
// page (the site's title in it). Every other answer (a 502 while php-fpm
// starts, a refused connection) means: not yet.
func (r *rtRunner) waitHome(ctx context.Context) error {
	return waitPage(ctx, r.home, r.s.URL(), r.s.Config.Env["WP_TITLE"], r.upTimeout)
}

// measureStart stops startService, then times Runtime.Start until it
// returns (its task runs) and until ps says it is healthy. The health
// check's start interval (200 ms for the project's images) bounds how
// soon that can be. The runs are added to running and healthy.
func (r *rtRunner) measureStart(ctx context.Context, running, healthy *report.RuntimeResult) error {
	// Both figures come from each run: the longer one decides.
	for i := 0; i == 0 || r.round([]report.RuntimeResult{*healthy}); i++ {
		ran, ok, err := r.startOnce(ctx)
		if err != nil {
			return err
		}
		label := "warm-up"
		if i > 0 {
			running.Runs = append(running.Runs, report.RuntimeRun{Value: ran.Seconds(), Pass: r.pass})
			healthy.Runs = append(healthy.Runs, report.RuntimeRun{Value: ok.Seconds(), Pass: r.pass})
			label = fmt.Sprintf("run %d", len(healthy.Runs))
		}
		r.logf("%-22s %-9s %7.3fs running, %.3fs healthy", "start/"+startService, label, ran.Seconds(), ok.Seconds())
	}
	return nil
}

// startOnce stops startService (untimed) and starts it again.
func (r *rtRunner) startOnce(ctx context.Context) (running, healthy time.Duration, err error) {
	name := r.s.Stack.Name
	if err := r.rt.Stop(ctx, name, []string{startService}); err != nil {
		return 0, 0, fmt.Errorf("stop %s: %w", startService, err)
	}
	start := time.Now()
	if err := r.rt.Start(ctx, name, []string{startService}); err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", startService, err)
	}
	running = time.Since(start)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		reps, err := r.rt.PS(wctx, name)
		if err != nil {
			return 0, 0, fmt.Errorf("ps: %w", err)
		}
		i := slices.IndexFunc(reps, func(s runtime.ServiceReport) bool { return s.Service == startService })
		switch {
		case i < 0:
			return 0, 0, fmt.Errorf("%s: %w", startService, runtime.ErrNotCreated)
		case reps[i].Health == runtime.HealthHealthy:
			return running, time.Since(start), nil
		case reps[i].Health == runtime.HealthUnhealthy || reps[i].State == runtime.StatusExited:
			return 0, 0, fmt.Errorf("%w: %s is %s (%s) after start", runtime.ErrServiceFailed, startService, reps[i].State, reps[i].Health)
		}
		select {
		case <-wctx.Done():
			return 0, 0, fmt.Errorf("%s not healthy after start: %w", startService, wctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// measureHTTPS loads the home page with the object cache and without
// (ENABLE_REDIS=0, switched as a user would: edit .env, up, which
// recreates WordPress without it; redis is stopped), nginx's page cache
// off either way, so that PHP renders every page. The variants' order
// is rotated round by round, as the build variants' are, so that each
// round switches once: cached, plain | plain, cached | cached, plain...
// Every switch gives php-fpm a new container, whose first requests
// compile and cache: a short untimed load follows each switch. The runs
// are added to results: with the cache, without.
func (r *rtRunner) measureHTTPS(ctx context.Context, results []report.RuntimeResult) error {
	l := loadSpec{URL: r.s.URL(), Addr: r.s.Addr(), Concurrency: r.concurrency}
	cur := -1 // the stack runs with the page cache: the first round switches
	for n := 0; n == 0 || r.round(results); n++ {
		for j := range results {
			k := (n + j) % len(results)
			if n > 0 && !r.wants(len(results[k].Runs), runtimeSpent(results[k], r.loadDuration)) {
				continue
			}
			if k != cur || n == 0 {
				if k != cur {
					if err := r.switchCache(ctx, k == 0); err != nil {
						return err
					}
					cur = k
				}
				l.Duration = min(r.loadDuration, warmupLoad)
				lr, err := runLoad(ctx, l)
				if err != nil {
					return err
				}
				r.logf("%-22s %-9s %s", results[k].Name(), "warm-up", loadSummary(lr))
			}
			if n == 0 {
				continue
			}
			r.ref.Time(r.pass)
			l.Duration = r.loadDuration
			lr, err := runLoad(ctx, l)
			if err != nil {
				return err
			}
			results[k].Runs = append(results[k].Runs, report.RuntimeRun{Value: lr.RPS, Load: &lr, Failed: lr.Failed(), Pass: r.pass})
			r.logf("%-22s run %-5d %s", results[k].Name(), len(results[k].Runs), loadSummary(lr))
		}
	}
	return nil
}

// switchCache brings the stack to the object cache on or off, nginx's
// page cache off, and waits for the home page.
func (r *rtRunner) switchCache(ctx context.Context, on bool) error {
	start := time.Now()
	st, what := r.s.NoPageCache, "ENABLE_REDIS=1"
	if !on {
		st, what = r.s.NoCache, "ENABLE_REDIS=0"
	}
	if err := r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: r.upTimeout}); err != nil {
		return fmt.Errorf("up with %s: %w", what, err)
	}
	if !on {
		if err := r.rt.Stop(ctx, st.Name, []string{"redis"}); err != nil {
			return fmt.Errorf("stop redis: %w", err)
		}
	}
	if err := r.waitHome(ctx); err != nil {
		return err
	}
	r.logf("%-22s %7.2fs (untimed: WordPress recreated)", what, time.Since(start).Seconds())
	return nil
}

func loadSummary(r report.LoadResult) string {
	s := fmt.Sprintf("%7.1f req/s  p50 %.0f ms  p99 %.0f ms  %d ok, %d errors", r.RPS, r.P50ms, r.P99ms, r.Requests, r.Errors)
	if f := r.Failed(); f != "" {
		s += "  FAILED: " + f
	}
	return s
}

func (r *rtRunner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, format+"\n", args...)
}

// stackPorts are the free ports of 127.0.0.1 a bench stack publishes:
// HTTPS, FTP and three passive FTP ports.
type stackPorts struct{ https, ftp, pasvMin, pasvMax int }

func freeStackPorts() (stackPorts, error) {
	var p stackPorts
	https, err := freeport.Range(1)
	if err != nil {
		return p, err
	}
	ftp, err := freeport.Range(1)
	if err != nil {
		return p, err
	}
	pasv, err := freeport.Range(3)
	if err != nil {
		return p, err
	}
	return stackPorts{https: https[0], ftp: ftp[0], pasvMin: pasv[0], pasvMax: pasv[len(pasv)-1]}, nil
}
