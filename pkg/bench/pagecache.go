package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// measurePageCache loads the home page anonymously, the home page as the
// stack's second WordPress user (logged in once, before the first run),
// and a new page per request, on the stack as it is (nginx's page cache on,
// PHP tuned) and on the stack as it was before both (NGINX_PAGE_CACHE=0,
// PHP_TUNING=stock), switched as a user would: edit .env, up, which
// recreates nginx with its empty cache and WordPress. The two take turns
// round by round, as the https figures do; each switch waits for the
// OPcache warm-up of the tuned side to end, then runs each load untimed
// for a moment, which fills the caches. The runs are added to results in
// newRuntimeResults' order: on (anonymous, logged in, miss), then off.
func (r *rtRunner) measurePageCache(ctx context.Context, results []report.RuntimeResult) error {
	if err := r.switchPageCache(ctx, true); err != nil {
		return err
	}
	cookie, err := r.logIn(ctx)
	if err != nil {
		return err
	}
	base := loadSpec{URL: r.s.URL(), Addr: r.s.Addr(), Concurrency: r.concurrency}
	loads := func() []loadSpec {
		anon, in, miss := base, base, base
		in.Header = cookie
		// A name no earlier run used: every request is a page nginx has
		// not seen, which WordPress answers 404.
		miss.Unique = fmt.Sprintf("bench-miss-%d", time.Now().UnixNano())
		miss.Status = http.StatusNotFound
		return []loadSpec{anon, in, miss}
	}
	cur := 0 // the cache is on
	for n := 0; n == 0 || r.round(results); n++ {
		for j := range 2 {
			k := (n + j) % 2
			figs := results[3*k : 3*k+3]
			if n > 0 && !r.round(figs) {
				continue
			}
			if k != cur || n == 0 {
				if k != cur {
					if err := r.switchPageCache(ctx, k == 0); err != nil {
						return err
					}
					cur = k
				}
				for i, l := range loads() {
					l.Duration = min(r.loadDuration, warmupLoad)
					lr, err := runLoad(ctx, l)
					if err != nil {
						return err
					}
					r.logf("%-26s %-9s %s", figs[i].Name(), "warm-up", loadSummary(lr))
				}
			}
			if n == 0 {
				continue
			}
			for i, l := range loads() {
				if !r.wants(len(figs[i].Runs), runtimeSpent(figs[i], r.loadDuration)) {
					continue
				}
				r.ref.Time(r.pass)
				l.Duration = r.loadDuration
				lr, err := runLoad(ctx, l)
				if err != nil {
					return err
				}
				figs[i].Runs = append(figs[i].Runs, report.RuntimeRun{Value: lr.RPS, Load: &lr, Failed: lr.Failed(), Pass: r.pass})
				r.logf("%-26s run %-5d %s", figs[i].Name(), len(figs[i].Runs), loadSummary(lr))
			}
		}
	}
	return nil
}

// switchPageCache brings the stack to nginx's page cache on with PHP
// tuned, or to the stack before both (Redis on either way), and waits for
// the home page and, on the tuned side, for the end of the OPcache warm-up.
func (r *rtRunner) switchPageCache(ctx context.Context, on bool) error {
	start := time.Now()
	st, what := r.s.Stack, "NGINX_PAGE_CACHE=1 PHP_TUNING=auto"
	if !on {
		st, what = r.s.Before, "NGINX_PAGE_CACHE=0 PHP_TUNING=stock"
	}
	if err := r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: r.upTimeout}); err != nil {
		return fmt.Errorf("up with %s: %w", what, err)
	}
	if err := r.waitHome(ctx); err != nil {
		return err
	}
	if on {
		if err := r.waitWarmUp(ctx); err != nil {
			return err
		}
	}
	r.logf("%-26s %7.2fs (untimed: nginx and WordPress recreated)", what, time.Since(start).Seconds())
	return nil
}

// The wordpress entrypoint's log lines: every start says how many php-fpm
// workers it runs (warmUpStart), and the OPcache warm-up it then runs
// beside php-fpm says when it is over, done or failed (warmUpEnd).
var (
	warmUpStart = "php-fpm: "
	warmUpEnd   = []string{"OPcache file cache warmed", "OPcache warm-up failed"}
)

// waitWarmUp waits for WordPress's log to say that the OPcache warm-up of
// its last start is over: until then it takes CPU from the requests.
func (r *rtRunner) waitWarmUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.upTimeout)
	defer cancel()
	for {
		var logs strings.Builder
		if err := r.rt.Logs(ctx, r.s.Stack.Name, runtime.LogsOptions{Services: []string{"wordpress"}, Tail: 200}, &logs); err != nil {
			return fmt.Errorf("wait for the OPcache warm-up: %w", err)
		}
		if warmedUp(logs.String()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the OPcache warm-up: no %q in WordPress's log after its last start: %w (see inceptionctl logs wordpress)", warmUpEnd[0], ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// warmedUp says whether logs, WordPress's last lines, have the end of a
// warm-up after the last start.
func warmedUp(logs string) bool {
	started, over := false, false
	for line := range strings.Lines(logs) {
		switch {
		case strings.Contains(line, "wordpress-entrypoint: "+warmUpStart):
			started, over = true, false
		case started && slices.ContainsFunc(warmUpEnd, func(end string) bool { return strings.Contains(line, end) }):
			over = true
		}
	}
	return over
}

// logIn logs the stack's second user (WP_USER, the wp_user_password
// secret) in through wp-login.php and returns the Cookie header of the
// session: what a browser sends afterwards.
func (r *rtRunner) logIn(ctx context.Context) (http.Header, error) {
	user := r.s.Config.Env["WP_USER"]
	pw, err := os.ReadFile(filepath.Join(r.s.Config.SecretsDir, stack.SecretWPUser))
	if err != nil {
		return nil, fmt.Errorf("log in as %s: %w", user, err)
	}
	form := url.Values{
		"log":         {user},
		"pwd":         {strings.TrimRight(string(pw), "\r\n")},
		"testcookie":  {"1"},
		"redirect_to": {r.s.URL()},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.s.Config.SiteURL()+"/wp-login.php", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "wordpress_test_cookie=WP%20Cookie%20check")
	resp, err := r.home.Do(req)
	if err != nil {
		return nil, fmt.Errorf("log in as %s: %w", user, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	var pairs []string
	loggedIn := false
	for _, c := range resp.Cookies() {
		if c.Value == "" || c.Value == "deleted" {
			continue
		}
		pairs = append(pairs, c.Name+"="+c.Value)
		loggedIn = loggedIn || strings.HasPrefix(c.Name, "wordpress_logged_in_")
	}
	if !loggedIn {
		return nil, fmt.Errorf("log in as %s: wp-login.php answered %s without a wordpress_logged_in_ cookie", user, resp.Status)
	}
	return http.Header{"Cookie": {strings.Join(pairs, "; ")}}, nil
}
