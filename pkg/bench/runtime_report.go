package bench

import (
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inceptionctl/inception/internal/benchstat"
)

// value formats a figure's value in its unit.
func (r RuntimeResult) value(v float64) string {
	if r.Unit == "s" {
		return secs(v)
	}
	return fmt.Sprintf("%.1f", v)
}

// cell is "median [min-max] unit".
func (r RuntimeResult) cell() string {
	if len(r.Runs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s-%s] %s", r.value(r.Median), r.value(r.Min), r.value(r.Max), r.Unit)
}

// detail is what else the figure's runs say, or why the figure failed.
func (r RuntimeResult) detail() string {
	var d string
	switch {
	case r.Figure == FigureComposeFirstBoot && r.UpSeconds > 0:
		d = fmt.Sprintf("docker compose up -d returned after %ss", secs(r.UpSeconds))
	case r.Scenario == RuntimeUp && r.UpSeconds > 0:
		d = fmt.Sprintf("Up --wait returned after %ss", secs(r.UpSeconds))
	case r.Figure == FigureRunning:
		d = "Runtime.Start returned"
	case r.Figure == FigureHealthy:
		d = "ps says healthy"
	case r.Scenario == RuntimeHTTPS || r.Scenario == RuntimePageCache:
		d = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms; %d errors in %d requests", r.P50ms, r.P99ms, r.Errors, r.Requests+r.Errors)
	}
	if r.Failed != "" {
		return "FAILED: " + r.Failed
	}
	return d
}

// writeTable writes one row per figure: median [min-max] in its unit, and
// a detail; then how the figures were measured.
func (rr *RuntimeReport) writeTable(w io.Writer) error {
	warm := passesLabel(rr.Passes) + " after a warm-up"
	if !rr.UpWarmup {
		warm += " (none for up)"
	}
	fmt.Fprintf(w, "RUN TIME: stack %s (%s), images built; median of %s%s\n\n", rr.Stack, strings.Join(rr.Services, ", "), RunsLabel(rr.Repeats, rr.MaxRepeats, rr.MinSeconds), warm)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tMEDIAN [MIN-MAX]\tDETAIL")
	for _, r := range rr.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Scenario, figureLabel(r, rr.StartService), r.cell(), r.detail())
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
		rr.StartService, rr.Concurrency, rr.LoadSeconds, min(rr.LoadSeconds, warmupLoad.Seconds()), 100*maxErrorRate)
	if rr.has(RuntimePageCache) {
		fmt.Fprintf(w, "page-cache: the same load with nginx's page cache on and off in turn (NGINX_PAGE_CACHE; each switch\n"+
			"recreates nginx, an untimed run of each load follows): GET / with no cookie, GET / as a logged-in\n"+
			"user, and GET of a new page per request (404 from WordPress, counted as the answer expected).\n")
	}
	if l := rr.Reference.Line(); l != "" {
		fmt.Fprintln(w, l)
	}
	writePageCache(w, rr.PageCache)
	if failed := rr.Failed(); len(failed) > 0 {
		fmt.Fprintf(w, "\nFAILED figures:\n  %s\n", strings.Join(failed, "\n  "))
	}
	return nil
}

// runtimeColour is one colour per run-time scenario (ColorBrewer Dark2,
// after the variants' colours).
func runtimeColour(sc RuntimeScenario) string {
	switch sc {
	case RuntimeUp:
		return "#e7298a"
	case RuntimeStart:
		return "#66a61e"
	case RuntimeHTTPS:
		return "#e6ab02"
	case RuntimePageCache:
		return "#a6761d"
	}
	return "#666666"
}

// runtimeGroups groups the figures by scenario, in the order measured.
func (rr *RuntimeReport) groups() [][]RuntimeResult {
	var out [][]RuntimeResult
	for _, r := range rr.Results {
		if n := len(out); n > 0 && out[n-1][0].Scenario == r.Scenario {
			out[n-1] = append(out[n-1], r)
			continue
		}
		out = append(out, []RuntimeResult{r})
	}
	return out
}

// svgHeight is the height of the run-time section.
func (rr *RuntimeReport) svgHeight() int {
	h := runtimeHeader
	for _, g := range rr.groups() {
		h += len(g)*(barHeight+barGap) + groupGap
	}
	return h
}

// runtimeHeader is the space above the run-time section's first group.
const runtimeHeader = 44

// writeSVG draws the run-time figures from y down: one group per
// scenario, one bar per figure with its min-max whisker. Every group has
// its own scale (seconds for up and start, requests per second for https).
func (rr *RuntimeReport) writeSVG(b *strings.Builder, y int, m benchstat.Machine) {
	fmt.Fprintf(b, `<text x="12" y="%d" font-size="16" font-weight="bold">inceptionctl bench: run time of stack %s, median of %s runs</text>`+"\n",
		y+18, html.EscapeString(rr.Stack), runsRange(rr.Repeats, rr.MaxRepeats, rr.MinSeconds))
	fmt.Fprintf(b, `<text x="12" y="%d" fill="#555555">%d CPUs, %.0f GiB. up and start in seconds (shorter is better), https in requests per second over %d connections (longer is better).</text>`+"\n",
		y+36, m.CPUs, m.MemoryGiB, rr.Concurrency)
	y += runtimeHeader
	for _, g := range rr.groups() {
		scale := 0.0
		for _, r := range g {
			scale = max(scale, r.Median/0.8)
		}
		for i, r := range g {
			by := y + i*(barHeight+barGap)
			label := html.EscapeString(figureLabel(r, rr.StartService))
			fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end"><tspan font-weight="bold">%s</tspan> %s</text>`+"\n",
				labelWidth-12, by+barHeight-4, html.EscapeString(string(r.Scenario)), html.EscapeString(r.Figure))
			if len(r.Runs) == 0 || scale == 0 {
				fmt.Fprintf(b, `<text x="%d" y="%d" fill="#999999">%s: not measured</text>`+"\n", labelWidth+4, by+barHeight-4, label)
				continue
			}
			px := func(v float64) float64 { return float64(labelWidth) + min(v/scale, 1)*barsWidth }
			fill := runtimeColour(r.Scenario)
			if r.Failed != "" {
				fill = "#bbbbbb"
			}
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: median %s, min %s, max %s %s</title></rect>`+"\n",
				labelWidth, by, max(px(r.Median)-labelWidth, 1), barHeight, fill,
				label, r.value(r.Median), r.value(r.Min), r.value(r.Max), r.Unit)
			mid := by + barHeight/2
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Min), mid, px(r.Max), mid)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Min), mid-4, px(r.Min), mid+4)
			if r.Max <= scale {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Max), mid-4, px(r.Max), mid+4)
			}
			text := r.value(r.Median) + " " + r.Unit
			if r.Failed != "" {
				text += " FAILED"
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`+"\n", max(px(r.Max), px(r.Median))+6, by+barHeight-4, html.EscapeString(text))
		}
		y += len(g)*(barHeight+barGap) + groupGap
	}
}

// has says whether the report has figures of scenario sc.
func (rr *RuntimeReport) has(sc RuntimeScenario) bool {
	for _, r := range rr.Results {
		if r.Scenario == sc {
			return true
		}
	}
	return false
}
