package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// fakeRuntime plays a stack for RunRuntime: it records every call, and
// the test site answers as the stack's nginx would.
type fakeRuntime struct {
	mu      sync.Mutex
	calls   []string
	noCache bool // the stack runs without redis
	static  runtime.HealthStatus
	ps      int // ps calls since static started
	upErr   func(n int) error
	ups     int
	downCtx []error // ctx.Err() of each Down
	// loggedIn are the session cookies the home page was asked with.
	loggedIn []string
}

var _ StackRuntime = (*fakeRuntime)(nil)

func (f *fakeRuntime) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeRuntime) Up(ctx context.Context, st stack.Stack, o runtime.UpOptions) error {
	f.mu.Lock()
	f.ups++
	n := f.ups
	f.noCache = !slices.Contains(st.Names(), "redis")
	f.static = runtime.HealthHealthy
	f.mu.Unlock()
	f.record("up %s services=%d wait=%v", st.Name, len(st.Services), o.Wait)
	if f.upErr != nil {
		if err := f.upErr(n); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (f *fakeRuntime) Down(ctx context.Context, st stack.Stack, o runtime.DownOptions) error {
	f.mu.Lock()
	f.downCtx = append(f.downCtx, ctx.Err())
	f.mu.Unlock()
	f.record("down %s volumes=%v", st.Name, o.Volumes)
	return nil
}

func (f *fakeRuntime) Stop(_ context.Context, name string, names []string) error {
	f.record("stop %s %s", name, strings.Join(names, ","))
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Contains(names, startService) {
		f.static = runtime.HealthNone
	}
	return nil
}

func (f *fakeRuntime) Start(_ context.Context, name string, names []string) error {
	f.record("start %s %s", name, strings.Join(names, ","))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.static, f.ps = runtime.HealthStarting, 0
	return nil
}

// Logs has WordPress started and its OPcache warm-up over.
func (f *fakeRuntime) Logs(_ context.Context, _ string, o runtime.LogsOptions, w io.Writer) error {
	if !slices.Equal(o.Services, []string{"wordpress"}) {
		return errors.New("fake logs: wordpress only")
	}
	_, err := io.WriteString(w, "wordpress | wordpress-entrypoint: php-fpm: 8 workers at most (2 CPU, 1024 MiB), PHP_TUNING=auto\n"+
		"wordpress | wordpress-entrypoint: OPcache file cache warmed in 1.0 s (2 processes)\n")
	return err
}

// PS says static is healthy on the third look after a start.
func (f *fakeRuntime) PS(context.Context, string) ([]runtime.ServiceReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ps++
	if f.static == runtime.HealthStarting && f.ps >= 3 {
		f.static = runtime.HealthHealthy
	}
	return []runtime.ServiceReport{
		{Service: "nginx", State: runtime.StatusRunning, Health: runtime.HealthHealthy},
		{Service: startService, State: runtime.StatusRunning, Health: f.static},
	}, nil
}

// fakeStack is the bench's stack with its HTTPS port on a test site that
// answers the home page, or 502 without the object cache when noCache502.
func fakeStack(t *testing.T, f *fakeRuntime, noCache502 bool) *RuntimeStack {
	t.Helper()
	rs, err := NewRuntimeStack("benchfake", t.TempDir())
	require.NoError(t, err)
	pw, err := os.ReadFile(filepath.Join(rs.Config.SecretsDir, stack.SecretWPUser))
	require.NoError(t, err)
	s := newSite(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		bad := noCache502 && f.noCache
		f.mu.Unlock()
		switch {
		case bad:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case r.URL.Path == "/wp-login.php":
			// WordPress's log-in: the session cookie for the right
			// password, the form again for a wrong one.
			if r.Method == http.MethodPost && r.PostFormValue("log") == "author" && r.PostFormValue("pwd") == string(pw) {
				http.SetCookie(w, &http.Cookie{Name: "wordpress_logged_in_0123", Value: "author%7C1%7Cx"})
				http.Redirect(w, r, "/", http.StatusFound)
				return
			}
			_, _ = w.Write([]byte("<form>"))
		case strings.HasPrefix(r.URL.Path, "/bench-miss-"):
			http.NotFound(w, r)
		default:
			f.mu.Lock()
			if c, err := r.Cookie("wordpress_logged_in_0123"); err == nil {
				f.loggedIn = append(f.loggedIn, c.Value)
			}
			f.mu.Unlock()
			_, _ = w.Write([]byte(homePage))
		}
	})
	l := s.load(1, 0)
	rs.Config.HTTPSPort = mustPort(t, l.Addr)
	return rs
}

func mustPort(t *testing.T, addr string) int {
	t.Helper()
	var port int
	_, err := fmt.Sscanf(addr[strings.LastIndexByte(addr, ':')+1:], "%d", &port)
	require.NoError(t, err)
	return port
}

func TestRunRuntime(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, false)
	var log bytes.Buffer
	rep, err := RunRuntime(t.Context(), f, rs, nil, WithRepeats(2), WithLoad(150*time.Millisecond, 2), WithLog(&log))
	require.NoError(t, err)

	up7, up6 := "up benchfake services=7 wait=true", "up benchfake services=6 wait=true"
	downV, downKeep := "down benchfake volumes=true", "down benchfake volumes=false"
	assert.Equal(t, []string{
		downV,                     // what a crashed run left
		downV, up7, downKeep, up7, // warm-up round: first and second boot
		downV, up7, downKeep, up7,
		downV, up7, downKeep, up7,
		"stop benchfake static", "start benchfake static", // warm-up
		"stop benchfake static", "start benchfake static",
		"stop benchfake static", "start benchfake static",
		up7,                         // page cache off, object cache on
		up6, "stop benchfake redis", // round 0: cached, then ENABLE_REDIS=0
		up7,                         // round 1: no cache, then cached
		up6, "stop benchfake redis", // round 2: cached, then no cache
		up7,   // page cache on (and Redis back)
		up7,   // round 0: page cache on, then off
		up7,   // round 1: off, then on
		up7,   // round 2: on, then off
		downV, // the end
	}, f.calls)
	assert.Contains(t, f.loggedIn, "author%7C1%7Cx", "the logged-in figures send the session cookie")
	for i, err := range f.downCtx {
		assert.NoError(t, err, "down %d", i)
	}

	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name())
		require.Len(t, r.Runs, 2, r.Name())
		assert.Empty(t, r.Failed, r.Name())
		assert.Positive(t, r.Min, r.Name())
		assert.LessOrEqual(t, r.Min, r.Median, r.Name())
		assert.LessOrEqual(t, r.Median, r.Max, r.Name())
	}
	assert.Equal(t, []string{"up/first-boot", "up/second-boot", "start/running", "start/healthy", "https/redis-cache", "https/no-cache",
		"page-cache/anonymous", "page-cache/logged-in", "page-cache/miss", "page-cache/anonymous-off", "page-cache/logged-in-off", "page-cache/miss-off"}, names)
	assert.Nil(t, rep.PageCache, "the bench checks no target: its caller sets the page cache's ratios")
	for _, r := range rep.Results[:2] {
		assert.Positive(t, r.UpSeconds)
		assert.LessOrEqual(t, r.UpSeconds, r.Median)
	}
	assert.Less(t, rep.Results[2].Median, rep.Results[3].Median, "running before healthy")
	for _, r := range rep.Results[4:] {
		assert.Equal(t, "req/s", r.Unit)
		assert.Positive(t, r.Requests)
		assert.Zero(t, r.Errors)
		assert.Positive(t, r.P50ms)
		for _, run := range r.Runs {
			require.NotNil(t, run.Load)
			assert.InDelta(t, run.Load.RPS, run.Value, 1e-9)
			assert.Equal(t, 2, run.Load.Concurrency)
		}
	}
	assert.Empty(t, rep.Failed())
	assert.Nil(t, rep.Reference, "no machine reference unless asked for")
	assert.Equal(t, "benchfake", rep.Stack)
	assert.Equal(t, 2, rep.Repeats)
	assert.True(t, rep.UpWarmup)
	assert.InDelta(t, 0.15, rep.LoadSeconds, 1e-9)
	assert.Positive(t, rep.Seconds)
	assert.Contains(t, log.String(), "up/first-boot          warm-up")
	assert.Contains(t, log.String(), "https/no-cache         run 2 ")
}

func TestRunRuntimeSelected(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, false)
	rep, err := RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeStart}, WithRepeats(1))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"down benchfake volumes=true",
		"up benchfake services=7 wait=true",               // booted untimed: start needs a stack
		"stop benchfake static", "start benchfake static", // warm-up
		"stop benchfake static", "start benchfake static",
		"down benchfake volumes=true",
	}, f.calls)
	require.Len(t, rep.Results, 2)

	f = &fakeRuntime{}
	rs = fakeStack(t, f, false)
	rep, err = RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeUp}, WithRepeats(2), WithoutUpWarmup())
	require.NoError(t, err)
	assert.Len(t, rep.Results[0].Runs, 2)
	assert.False(t, rep.UpWarmup)
	assert.Equal(t, 4, f.ups, "two first boots, no warm-up, two second boots")
}

// withUpTimeout shortens the waits for Up and the home page.
func withUpTimeout(d time.Duration) Option { return func(c *config) { c.upTimeout = d } }

func TestRunRuntimeFailedFigure(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, true)
	rep, err := RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeHTTPS}, WithRepeats(1), WithLoad(100*time.Millisecond, 1), withUpTimeout(time.Second))
	require.Error(t, err, "without redis the fake site answers 502 only: the home page never answers")
	assert.Contains(t, err.Error(), "status 502")
	assert.Equal(t, "down benchfake volumes=true", f.calls[len(f.calls)-1], "taken down all the same")
	assert.Empty(t, rep.Results, "no figure was complete")

	// The home page answers, the load gets errors: a failed figure, not an
	// aborted run.
	f = &fakeRuntime{}
	rs = fakeStack(t, f, false)
	s := newSite(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		noCache := f.noCache
		f.mu.Unlock()
		if noCache && n%5 == 0 {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(homePage))
	})
	rs.Config.HTTPSPort = mustPort(t, s.srv.Listener.Addr().String())
	rep, err = RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeHTTPS}, WithRepeats(2), WithLoad(150*time.Millisecond, 2))
	require.NoError(t, err, "a 502 while waiting for the home page is only: not yet")
	require.Len(t, rep.Results, 2)
	assert.Empty(t, rep.Results[0].Failed)
	assert.Contains(t, rep.Results[1].Failed, "run 1: ")
	assert.Contains(t, rep.Results[1].Failed, "status 502 Bad Gateway")
	assert.Positive(t, rep.Results[1].Errors)
	require.Len(t, rep.Failed(), 1)
	assert.True(t, strings.HasPrefix(rep.Failed()[0], "https/no-cache: run 1: "))
}

func TestRunRuntimeCleanup(t *testing.T) {
	t.Run("up fails", func(t *testing.T) {
		f := &fakeRuntime{upErr: func(n int) error {
			if n == 3 { // the first measured first boot
				return runtime.ErrServiceFailed
			}
			return nil
		}}
		rs := fakeStack(t, f, false)
		_, err := RunRuntime(t.Context(), f, rs, nil, WithRepeats(1))
		require.ErrorIs(t, err, runtime.ErrServiceFailed)
		assert.Contains(t, err.Error(), "up: first-boot")
		assert.Equal(t, "down benchfake volumes=true", f.calls[len(f.calls)-1])
	})
	t.Run("ctrl-c", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		f := &fakeRuntime{upErr: func(int) error {
			cancel()
			return nil
		}}
		rs := fakeStack(t, f, false)
		_, err := RunRuntime(ctx, f, rs, nil, WithRepeats(1))
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, "down benchfake volumes=true", f.calls[len(f.calls)-1])
		require.NotEmpty(t, f.downCtx)
		assert.NoError(t, f.downCtx[len(f.downCtx)-1], "the final down runs on a context that was not cancelled")
	})
	t.Run("bad options", func(t *testing.T) {
		f := &fakeRuntime{}
		rs := fakeStack(t, f, false)
		for _, o := range []RuntimeOption{WithRepeats(0), WithLoad(0, 8), WithLoad(time.Second, 0)} {
			_, err := RunRuntime(t.Context(), f, rs, nil, o)
			require.Error(t, err)
		}
		_, err := RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{"warm"})
		require.ErrorIs(t, err, report.ErrUnknownScenario)
		assert.Empty(t, f.calls, "refused before the runtime is asked anything")
	})
}

func TestNewRuntimeStack(t *testing.T) {
	dir := t.TempDir()
	rs, err := NewRuntimeStack("benchrt", dir)
	require.NoError(t, err)
	assert.Equal(t, "benchrt", rs.Stack.Name)
	assert.Equal(t, "benchrt", rs.NoCache.Name)
	assert.Equal(t, stack.Default().Names(), rs.Stack.Names(), "every service")
	assert.NotContains(t, rs.NoCache.Names(), "redis")
	for _, svc := range rs.NoCache.Services {
		if svc.Name == "wordpress" {
			assert.Empty(t, svc.Env["WP_REDIS_HOST"], "WordPress without object cache")
			assert.NotContains(t, svc.DependsOn, "redis")
		}
	}
	// The object cache's figures are PHP's own: nginx's page cache is off in
	// both of its stacks, on only in Stack.
	env := func(st stack.Stack, svc, key string) string {
		i := slices.IndexFunc(st.Services, func(s stack.Service) bool { return s.Name == svc })
		require.GreaterOrEqual(t, i, 0)
		return st.Services[i].Env[key]
	}
	pageCache := func(st stack.Stack) string { return env(st, "nginx", "NGINX_PAGE_CACHE") }
	assert.Equal(t, "1", pageCache(rs.Stack))
	assert.Equal(t, "0", pageCache(rs.NoPageCache))
	assert.Equal(t, "0", pageCache(rs.NoCache))
	assert.Equal(t, "0", pageCache(rs.Before))
	// The page cache's figures are set against the stack before both the
	// page cache and the PHP tuning; the object cache's against PHP tuned.
	tuning := func(st stack.Stack) string { return env(st, "wordpress", "PHP_TUNING") }
	assert.Equal(t, "auto", tuning(rs.Stack))
	assert.Equal(t, "auto", tuning(rs.NoPageCache))
	assert.Equal(t, "auto", tuning(rs.NoCache))
	assert.Equal(t, "stock", tuning(rs.Before))
	assert.Equal(t, "benchrt", rs.Before.Name)
	assert.Equal(t, filepath.Join(dir, "data"), rs.Config.DataDir)
	assert.Equal(t, filepath.Join(dir, "secrets"), rs.Config.SecretsDir)
	assert.Equal(t, "benchrt.42.fr", rs.Config.Domain)
	assert.Equal(t, fmt.Sprintf("https://benchrt.42.fr:%d/", rs.Config.HTTPSPort), rs.URL())
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", rs.Config.HTTPSPort), rs.Addr())
	assert.Greater(t, rs.Config.HTTPSPort, 1023, "a free high port, not 443")
	assert.Equal(t, 2, rs.Config.PasvMax-rs.Config.PasvMin)
	for _, svc := range rs.Stack.Services {
		for _, p := range svc.Ports {
			assert.Equal(t, "127.0.0.1", p.HostIP, "%s publishes on loopback only", svc.Name)
		}
	}
	for _, name := range []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP, stack.SecretRedis} {
		fi, err := os.Stat(filepath.Join(dir, "secrets", name))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	assert.Len(t, rs.RuntimeOptions("10.89.130.0/24"), 4)

	for _, bad := range []string{"", "Bench", "1bench", "bench-rt", "averylongname"} {
		_, err := NewRuntimeStack(bad, dir)
		assert.Error(t, err, bad)
	}
	_, err = NewRuntimeStack("benchrt", "relative")
	assert.Error(t, err)
}

func testRuntimeReport() *report.RuntimeReport {
	rr := &report.RuntimeReport{Stack: "benchrt", Services: []string{"nginx", "wordpress"}, Repeats: 3, UpWarmup: true,
		Concurrency: 8, LoadSeconds: 10, StartService: startService}
	secsResult := func(sc report.RuntimeScenario, fig string, vals ...float64) report.RuntimeResult {
		r := report.RuntimeResult{Scenario: sc, Figure: fig, Unit: "s"}
		for _, v := range vals {
			r.Runs = append(r.Runs, report.RuntimeRun{Value: v, UpSeconds: v - 1})
		}
		summariseRuntime(&r)
		return r
	}
	loadResult := func(fig string, errs int, rps ...float64) report.RuntimeResult {
		r := report.RuntimeResult{Scenario: report.RuntimeHTTPS, Figure: fig, Unit: "req/s"}
		for _, v := range rps {
			lr := report.LoadResult{Requests: int(v * 10), Errors: errs, RPS: v, P50ms: 80, P99ms: 200, FirstError: "status 502 Bad Gateway"}
			r.Runs = append(r.Runs, report.RuntimeRun{Value: v, Load: &lr, Failed: lr.Failed()})
		}
		summariseRuntime(&r)
		return r
	}
	rr.Results = []report.RuntimeResult{
		secsResult(report.RuntimeUp, report.FigureFirstBoot, 13, 12, 15),
		secsResult(report.RuntimeUp, report.FigureSecondBoot, 5, 5.5, 6),
		secsResult(report.RuntimeStart, report.FigureRunning, 0.1, 0.12, 0.11),
		secsResult(report.RuntimeStart, report.FigureHealthy, 0.4, 0.45, 0.5),
		loadResult(report.FigureRedisCache, 0, 90, 95, 100),
		loadResult(report.FigureNoCache, 100, 60, 70, 80),
	}
	return rr
}

func TestRuntimeSummary(t *testing.T) {
	rr := testRuntimeReport()
	up := rr.Results[0]
	assert.InDelta(t, 13, up.Median, 1e-9)
	assert.InDelta(t, 12, up.Min, 1e-9)
	assert.InDelta(t, 15, up.Max, 1e-9)
	assert.InDelta(t, 12, up.UpSeconds, 1e-9)
	cached := rr.Results[4]
	assert.InDelta(t, 95, cached.Median, 1e-9)
	assert.Equal(t, 2850, cached.Requests)
	assert.InDelta(t, 80, cached.P50ms, 1e-9)
	assert.Empty(t, cached.Failed)
	plain := rr.Results[5]
	assert.Equal(t, 300, plain.Errors)
	assert.Contains(t, plain.Failed, "run 1: 100 errors in 700 requests")
	assert.Equal(t, []string{"https/no-cache: " + plain.Failed}, rr.Failed())
}

func TestParseRuntimeScenario(t *testing.T) {
	for _, sc := range report.RuntimeScenarios() {
		got, err := report.ParseRuntimeScenario(string(sc))
		require.NoError(t, err)
		assert.Equal(t, sc, got)
	}
	_, err := report.ParseRuntimeScenario("no-change")
	require.ErrorIs(t, err, report.ErrUnknownScenario, "a build scenario is not a run-time one")
	for _, s := range report.Scenarios() {
		assert.NotContains(t, report.RuntimeScenarios(), report.RuntimeScenario(s), "no name is both")
	}
}

// TestRunRuntimePasses: each pass measures every scenario after its
// warm-up and ends with the stack down; the figures' runs are split
// between the passes and say which pass they come from.
func TestRunRuntimePasses(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, false)
	var log bytes.Buffer
	rep, err := RunRuntime(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeUp, report.RuntimeStart}, WithRepeats(3), WithPasses(2), WithLog(&log), WithMachineReference())
	require.NoError(t, err)

	up7 := "up benchfake services=7 wait=true"
	downV, downKeep := "down benchfake volumes=true", "down benchfake volumes=false"
	start := []string{"stop benchfake static", "start benchfake static"}
	pass := func(boots int, starts int) []string {
		calls := []string{downV, up7, downKeep, up7} // warm-up round
		for range boots {
			calls = append(calls, downV, up7, downKeep, up7)
		}
		for range starts + 1 { // a warm-up, then the runs
			calls = append(calls, start...)
		}
		return calls
	}
	want := []string{downV} // what a crashed run left
	want = append(want, pass(2, 2)...)
	want = append(want, downV) // the end of pass 1
	want = append(want, pass(1, 1)...)
	want = append(want, downV) // the end
	assert.Equal(t, want, f.calls)

	require.Len(t, rep.Results, 4)
	for _, r := range rep.Results {
		var passes []int
		for _, run := range r.Runs {
			passes = append(passes, run.Pass)
		}
		assert.Equal(t, []int{1, 1, 2}, passes, r.Name())
	}
	assert.Equal(t, 2, rep.Passes)
	require.NotNil(t, rep.Reference, "WithMachineReference")
	var refPasses []int
	for _, run := range rep.Reference.Runs {
		refPasses = append(refPasses, run.Pass)
	}
	assert.Equal(t, []int{1, 1, 2, 2}, refPasses, "timed at the start of each scenario of each pass")
	assert.Positive(t, rep.Reference.Median)
	assert.Contains(t, log.String(), "run time: pass 2 of 2")
	assert.Contains(t, log.String(), "start/static           run 3 ")

	// What the table says "median of 3 runs, in 2 passes, each after a
	// warm-up" and "machine reference (SHA-256 ...)" from.
	assert.Equal(t, 3, rep.Repeats)
	assert.Equal(t, 2, rep.Passes)
	assert.True(t, rep.UpWarmup)
	assert.Contains(t, rep.Reference.Work, "SHA-256 of 128 MiB on each of")

	_, err = RunRuntime(t.Context(), f, rs, nil, WithRepeats(1), WithPasses(2))
	assert.ErrorContains(t, err, "give at most as many passes as repeats")
}

// TestRuntimeBenchPassOrder: passes are measured once each, in order.
func TestRuntimeBenchPassOrder(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, false)
	b, err := NewRuntimeBench(t.Context(), f, rs, []report.RuntimeScenario{report.RuntimeStart}, WithRepeats(2), WithPasses(2))
	require.NoError(t, err)
	assert.Equal(t, 2, b.Passes())
	assert.ErrorContains(t, b.Pass(t.Context(), 2), "the next pass is 1 of 2")
	require.NoError(t, b.Pass(t.Context(), 1))
	assert.ErrorContains(t, b.Pass(t.Context(), 1), "the next pass is 2 of 2")
	rep, err := b.Close(t.Context())
	require.NoError(t, err)
	require.Len(t, rep.Results, 2, "the figures measured before Close")
	assert.Len(t, rep.Results[0].Runs, 1, "pass 1's share")
	assert.ErrorContains(t, b.Pass(t.Context(), 2), "closed")
	assert.Equal(t, 3, downCount(f.calls), "a crashed run's, the end of pass 1, Close")
}

func downCount(calls []string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "down ") {
			n++
		}
	}
	return n
}

func TestRunRuntimeMinTime(t *testing.T) {
	f := &fakeRuntime{}
	rs := fakeStack(t, f, false)
	rep, err := RunRuntime(t.Context(), f, rs, nil, WithRepeats(2), WithMinTime(time.Hour, 4), WithLoad(100*time.Millisecond, 1))
	require.NoError(t, err)
	for _, r := range rep.Results {
		assert.Len(t, r.Runs, 4, "%s: short of the minimum time, up to the maximum", r.Name())
	}
	assert.Equal(t, 2, rep.Repeats)
	assert.Equal(t, 4, rep.MaxRepeats)
	assert.InDelta(t, 3600, rep.MinSeconds, 1e-9)
	// The HTTPS variants still take turns, one switch per round: to
	// ENABLE_REDIS=0 in the warm-up round and in rounds 2 and 4, back in
	// rounds 1 and 3.
	calls := strings.Join(f.calls, "\n")
	assert.Equal(t, 3, strings.Count(calls, "up benchfake services=6"), "switches to no cache")
	assert.Equal(t, 3, strings.Count(calls, "stop benchfake redis"), "redis stopped at each")

	// What the table says "median of 2 to 4 runs (more while they add up
	// to less than 1h0m0s)" from.
	assert.Equal(t, 2, rep.Repeats)
	assert.Equal(t, 4, rep.MaxRepeats)
	assert.InDelta(t, 3600, rep.MinSeconds, 1e-9)
}
