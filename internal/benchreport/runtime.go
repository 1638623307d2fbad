package benchreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// value formats a figure's value in its unit.
func value(r report.RuntimeResult, v float64) string {
	if r.Unit == "s" {
		return secs(v)
	}
	return fmt.Sprintf("%.1f", v)
}

// cell is "median [min-max] unit".
func cell(r report.RuntimeResult) string {
	if len(r.Runs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s-%s] %s", value(r, r.Median), value(r, r.Min), value(r, r.Max), r.Unit)
}

// detail is what else the figure's runs say, or why the figure failed.
func detail(r report.RuntimeResult) string {
	var d string
	switch {
	case r.Figure == report.FigureComposeFirstBoot && r.UpSeconds > 0:
		d = fmt.Sprintf("docker compose up -d returned after %ss", secs(r.UpSeconds))
	case r.Scenario == report.RuntimeUp && r.UpSeconds > 0:
		d = fmt.Sprintf("Up --wait returned after %ss", secs(r.UpSeconds))
	case r.Figure == report.FigureRunning:
		d = "Runtime.Start returned"
	case r.Figure == report.FigureHealthy:
		d = "ps says healthy"
	case r.Scenario == report.RuntimeHTTPS || r.Scenario == report.RuntimePageCache:
		d = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms; %d errors in %d requests", r.P50ms, r.P99ms, r.Errors, r.Requests+r.Errors)
	}
	if r.Failed != "" {
		return "FAILED: " + r.Failed
	}
	return d
}

// writeTable writes one row per figure: median [min-max] in its unit, and
// a detail; then how the figures were measured.
func writeRuntimeTable(w io.Writer, rr *report.RuntimeReport) error {
	warm := passesLabel(rr.Passes) + " after a warm-up"
	if !rr.UpWarmup {
		warm += " (none for up)"
	}
	fmt.Fprintf(w, "RUN TIME: stack %s (%s), images built; median of %s%s\n\n", rr.Stack, strings.Join(rr.Services, ", "), RunsLabel(rr.Repeats, rr.MaxRepeats, rr.MinSeconds), warm)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tMEDIAN [MIN-MAX]\tDETAIL")
	for _, r := range rr.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Scenario, figureLabel(r, rr), cell(r), detail(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nup: from Up --wait to the home page answering 200 over HTTPS; first boot after Down removing\n"+
		"the volumes, second boot after Down keeping them, one after the other.\n"+
		"start: Runtime.Start of the stopped %s to its task running, and to its health check passing.\n"+
		"https: GET / through nginx on 127.0.0.1, HTTP/1.1 keep-alive, %d connections for %gs per run;\n"+
		"with and without the cache in turn (each switch recreates WordPress: an untimed %gs load follows);\n"+
		"a run with more than %.0f%% errors (status other than 200 included) fails its figure.\n",
		rr.StartService, rr.Concurrency, rr.LoadSeconds, min(rr.LoadSeconds, warmupLoadSeconds), 100*maxErrorRate)
	switch {
	case has(rr, report.RuntimePageCache) && rr.PageCacheOff == report.PageCacheOffStock:
		fmt.Fprintf(w, "page-cache: the same load on the stack as it is (page cache on, PHP tuned) and as it was before both\n"+
			"(NGINX_PAGE_CACHE=0, PHP_TUNING=stock) in turn (each switch recreates nginx and WordPress, waits for the\n"+
			"OPcache warm-up, then an untimed run of each load follows): GET / with no cookie, GET / as a logged-in\n"+
			"user, and GET of a new page per request (404 from WordPress, counted as the answer expected).\n")
	case has(rr, report.RuntimePageCache):
		fmt.Fprintf(w, "page-cache: the same load with nginx's page cache on and off in turn (NGINX_PAGE_CACHE; each switch\n"+
			"recreates nginx, an untimed run of each load follows): GET / with no cookie, GET / as a logged-in\n"+
			"user, and GET of a new page per request (404 from WordPress, counted as the answer expected).\n")
	}
	if l := rr.Reference.Line(); l != "" {
		fmt.Fprintln(w, l)
	}
	writePageCache(w, rr.PageCache, rr.PageCacheOff)
	if failed := rr.Failed(); len(failed) > 0 {
		fmt.Fprintf(w, "\nFAILED figures:\n  %s\n", strings.Join(failed, "\n  "))
	}
	return nil
}

// has says whether the report has figures of scenario sc.
func has(rr *report.RuntimeReport, sc report.RuntimeScenario) bool {
	for _, r := range rr.Results {
		if r.Scenario == sc {
			return true
		}
	}
	return false
}

// writePageCache prints the page cache's targets as PASS or MISS.
func writePageCache(w io.Writer, t *benchstat.PageCacheTargets, offSide string) {
	if t == nil {
		return
	}
	off := "with the cache off"
	if offSide == report.PageCacheOffStock {
		off = "on the stack before (cache off, PHP stock)"
	}
	mark := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Fprintf(w, "\npage cache, one run: anonymous home page %.1f x its figure %s (target >= %g x) %s;\n",
		t.HitRatio, off, t.HitRatioTarget, mark(t.HitRatioOK))
	fmt.Fprintf(w, "logged in %.2f x %s (target >= %g x) %s, %.2f x the anonymous page rendered;\n",
		t.LoggedInRatio, off, t.LoggedInRatioTarget, mark(t.LoggedInRatioOK), t.LoggedInVsRender)
	fmt.Fprintf(w, "p99 of the hits %.1f ms (target < %g ms) %s; a miss %.2f x a render %s.\n",
		t.HitP99ms, t.HitP99msTarget, mark(t.HitP99OK), t.MissRatio, off)
}

// figureLabel says what a figure of rr measures, for tables and charts.
func figureLabel(r report.RuntimeResult, rr *report.RuntimeReport) string {
	startService := rr.StartService
	off := "page cache off"
	if rr.PageCacheOff == report.PageCacheOffStock {
		off = "page cache off, PHP stock"
	}
	switch r.Figure {
	case report.FigureFirstBoot:
		return "up to home page 200, first boot (empty volumes)"
	case report.FigureSecondBoot:
		return "up to home page 200, second boot (data kept)"
	case report.FigureComposeFirstBoot:
		return "docker compose up -d to home page 200, first boot"
	case report.FigureRunning:
		return "start " + startService + ": task running"
	case report.FigureHealthy:
		return "start " + startService + ": health check passed"
	case report.FigureRedisCache:
		return "home page, object cache, page cache off"
	case report.FigureNoCache:
		return "home page, no object cache, page cache off"
	case report.FigureAnonymous:
		return "home page, anonymous, page cache on (hit)"
	case report.FigureLoggedIn:
		return "home page, logged in, page cache on (bypass)"
	case report.FigureMiss:
		return "a new page per request, page cache on (miss, 404)"
	case report.FigureAnonymousOff:
		return "home page, anonymous, " + off
	case report.FigureLoggedInOff:
		return "home page, logged in, " + off
	case report.FigureMissOff:
		return "a new page per request, " + off + " (404)"
	}
	return strings.ReplaceAll(r.Figure, "-", " ")
}
