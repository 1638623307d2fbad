package benchreport

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench"
)

// What pkg/bench does, as the tables say it: the longest untimed load
// run after a switch of the stack, and the share of errors that fails an
// HTTPS run (pkg/bench's warmupLoad and maxErrorRate).
const (
	warmupLoadSeconds = 2.0
	maxErrorRate      = 0.01
)

// WriteTable writes one row per case: for each variant the median, the
// min-max band and the vertices that ran out of those counted, then the
// target ratios, each PASS or MISS; then the run-time figures, when
// measured, in a section of their own; then the comparison with an
// earlier run, when made.
func WriteTable(w io.Writer, rep *bench.Report) error {
	if len(rep.Results) > 0 || rep.Runtime == nil && rep.SecondRunner == nil {
		if err := writeBuildTable(w, rep); err != nil {
			return err
		}
	}
	if rep.Runtime != nil {
		if len(rep.Results) > 0 {
			fmt.Fprintln(w)
		}
		if err := writeRuntimeTable(w, rep.Runtime); err != nil {
			return err
		}
	}
	if rep.SecondRunner != nil {
		if len(rep.Results) > 0 || rep.Runtime != nil {
			fmt.Fprintln(w)
		}
		if err := writeSecondRunnerTable(w, rep.SecondRunner); err != nil {
			return err
		}
	}
	return writeComparison(w, rep)
}

func writeBuildTable(w io.Writer, rep *bench.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"SCENARIO", "SCOPE"}
	for _, v := range rep.Variants {
		head = append(head, strings.ToUpper(string(v))+" s [min-max] ran")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range rows(rep) {
		cells := []string{string(row[0].Scenario), scopeLabel(row[0].Case)}
		for _, v := range rep.Variants {
			cell := "-"
			for _, res := range row {
				if res.Variant == v && len(res.Runs) > 0 {
					cell = fmt.Sprintf("%s [%s-%s] %d/%d", secs(res.Median), secs(res.Min), secs(res.Max), res.Vertices-res.Cached, res.Vertices)
				}
			}
			cells = append(cells, cell)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmedian of %s%s after a warm-up (cold: none), variants alternated; s = seconds of wall time\n"+
		"(build + export into the image store); ran = vertices that ran / vertices that can be cached\n"+
		"(--format json: which, and how long). llb and linear build as `inceptionctl build` does: an image\n"+
		"whose graph, config and base are unchanged is not solved (json: up_to_date); the Dockerfile\n"+
		"frontend has to read its context to know\n", RunsLabel(rep.Repeats, rep.MaxRepeats, rep.MinSeconds), passesLabel(rep.Passes))
	if slices.Contains(rep.Variants, bench.VariantCompose) {
		fmt.Fprint(w, composeNote)
	}
	if l := rep.Reference.Line(); l != "" {
		fmt.Fprintln(w, l)
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
	}
	for _, t := range rep.Targets {
		switch {
		case t.Missing:
			fmt.Fprintf(w, "target %-42s <= %.2f  n/a (not measured)\n", t.Name, t.Limit)
		case t.Pass:
			fmt.Fprintf(w, "target %-42s <= %.2f  %.2f PASS\n", t.Name, t.Limit, t.Ratio)
		default:
			fmt.Fprintf(w, "target %-42s <= %.2f  %.2f MISS\n", t.Name, t.Limit, t.Ratio)
		}
	}
	return nil
}

// scopeLabel is the scope, with the image changed in a stack case.
func scopeLabel(c bench.Case) string {
	if c.Scope == bench.Stack && c.Changed != "" {
		return c.Scope + " (" + c.Changed + ")"
	}
	return c.Scope
}

// rows groups the results by case, in the order they were measured.
func rows(rep *bench.Report) [][]bench.Result {
	var rows [][]bench.Result
	idx := map[string]int{}
	for _, res := range rep.Results {
		k := res.Name()
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, nil)
		}
		rows[i] = append(rows[i], res)
	}
	return rows
}

func secs(s float64) string {
	switch {
	case s >= 100:
		return strconv.FormatFloat(s, 'f', 0, 64)
	case s >= 10:
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return strconv.FormatFloat(s, 'f', 2, 64)
}

// value formats a figure's value in its unit.
func value(r bench.RuntimeResult, v float64) string {
	if r.Unit == "s" {
		return secs(v)
	}
	return fmt.Sprintf("%.1f", v)
}

// cell is "median [min-max] unit".
func cell(r bench.RuntimeResult) string {
	if len(r.Runs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%s [%s-%s] %s", value(r, r.Median), value(r, r.Min), value(r, r.Max), r.Unit)
}

// detail is what else the figure's runs say, or why the figure failed.
func detail(r bench.RuntimeResult) string {
	var d string
	switch {
	case r.Figure == bench.FigureComposeFirstBoot && r.UpSeconds > 0:
		d = fmt.Sprintf("docker compose up -d returned after %ss", secs(r.UpSeconds))
	case r.Scenario == bench.RuntimeUp && r.UpSeconds > 0:
		d = fmt.Sprintf("Up --wait returned after %ss", secs(r.UpSeconds))
	case r.Figure == bench.FigureRunning:
		d = "Runtime.Start returned"
	case r.Figure == bench.FigureHealthy:
		d = "ps says healthy"
	case r.Scenario == bench.RuntimeHTTPS || r.Scenario == bench.RuntimePageCache:
		d = fmt.Sprintf("p50 %.0f ms, p99 %.0f ms; %d errors in %d requests", r.P50ms, r.P99ms, r.Errors, r.Requests+r.Errors)
	}
	if r.Failed != "" {
		return "FAILED: " + r.Failed
	}
	return d
}

// writeTable writes one row per figure: median [min-max] in its unit, and
// a detail; then how the figures were measured.
func writeRuntimeTable(w io.Writer, rr *bench.RuntimeReport) error {
	warm := passesLabel(rr.Passes) + " after a warm-up"
	if !rr.UpWarmup {
		warm += " (none for up)"
	}
	fmt.Fprintf(w, "RUN TIME: stack %s (%s), images built; median of %s%s\n\n", rr.Stack, strings.Join(rr.Services, ", "), RunsLabel(rr.Repeats, rr.MaxRepeats, rr.MinSeconds), warm)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIGURE\tMEDIAN [MIN-MAX]\tDETAIL")
	for _, r := range rr.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Scenario, figureLabel(r, rr.StartService), cell(r), detail(r))
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
	if has(rr, bench.RuntimePageCache) {
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
func runtimeColour(sc bench.RuntimeScenario) string {
	switch sc {
	case bench.RuntimeUp:
		return "#e7298a"
	case bench.RuntimeStart:
		return "#66a61e"
	case bench.RuntimeHTTPS:
		return "#e6ab02"
	case bench.RuntimePageCache:
		return "#a6761d"
	}
	return "#666666"
}

// runtimeGroups groups the figures by scenario, in the order measured.
func groups(rr *bench.RuntimeReport) [][]bench.RuntimeResult {
	var out [][]bench.RuntimeResult
	for _, r := range rr.Results {
		if n := len(out); n > 0 && out[n-1][0].Scenario == r.Scenario {
			out[n-1] = append(out[n-1], r)
			continue
		}
		out = append(out, []bench.RuntimeResult{r})
	}
	return out
}

// svgHeight is the height of the run-time section.
func svgHeight(rr *bench.RuntimeReport) int {
	h := runtimeHeader
	for _, g := range groups(rr) {
		h += len(g)*(barHeight+barGap) + groupGap
	}
	return h
}

// runtimeHeader is the space above the run-time section's first group.
const runtimeHeader = 44

// writeSVG draws the run-time figures from y down: one group per
// scenario, one bar per figure with its min-max whisker. Every group has
// its own scale (seconds for up and start, requests per second for https).
func writeRuntimeSVG(b *strings.Builder, rr *bench.RuntimeReport, y int, m benchstat.Machine) {
	fmt.Fprintf(b, `<text x="12" y="%d" font-size="16" font-weight="bold">inceptionctl bench: run time of stack %s, median of %s runs</text>`+"\n",
		y+18, html.EscapeString(rr.Stack), runsRange(rr.Repeats, rr.MaxRepeats, rr.MinSeconds))
	fmt.Fprintf(b, `<text x="12" y="%d" fill="#555555">%d CPUs, %.0f GiB. up and start in seconds (shorter is better), https in requests per second over %d connections (longer is better).</text>`+"\n",
		y+36, m.CPUs, m.MemoryGiB, rr.Concurrency)
	y += runtimeHeader
	for _, g := range groups(rr) {
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
				label, value(r, r.Median), value(r, r.Min), value(r, r.Max), r.Unit)
			mid := by + barHeight/2
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Min), mid, px(r.Max), mid)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Min), mid-4, px(r.Min), mid+4)
			if r.Max <= scale {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(r.Max), mid-4, px(r.Max), mid+4)
			}
			text := value(r, r.Median) + " " + r.Unit
			if r.Failed != "" {
				text += " FAILED"
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%d">%s</text>`+"\n", max(px(r.Max), px(r.Median))+6, by+barHeight-4, html.EscapeString(text))
		}
		y += len(g)*(barHeight+barGap) + groupGap
	}
}

// has says whether the report has figures of scenario sc.
func has(rr *bench.RuntimeReport, sc bench.RuntimeScenario) bool {
	for _, r := range rr.Results {
		if r.Scenario == sc {
			return true
		}
	}
	return false
}

// secondRunnerLabel says what a second-runner figure measures.
func secondRunnerLabel(figure string) string {
	switch figure {
	case bench.FigurePush:
		return "the engine's builder pushes the images and exports their cache (mode=max)"
	case bench.FigureWithCache:
		return "a fresh builder, --cache-from the registry cache, pushes"
	case bench.FigureWithoutCache:
		return "the same fresh builder without the cache, pushes"
	case bench.FigureWithCacheOCI:
		return "a fresh builder, --cache-from the registry cache, OCI tarballs (every layer fetched)"
	case bench.FigurePull:
		return "the engine pulls the images (one after the other, unpacked)"
	case bench.FigurePullUp:
		return "pull, then up --wait to the home page answering 200 (first boot)"
	}
	return figure
}

// targetCheckLine is the target as the tables print it.
func targetCheckLine(t benchstat.TargetCheck) string {
	switch {
	case t.Missing:
		return fmt.Sprintf("target %-42s <= %.2f  n/a (not measured)", t.Name, t.Limit)
	case t.Pass:
		return fmt.Sprintf("target %-42s <= %.2f  %.2f PASS", t.Name, t.Limit, t.Ratio)
	}
	return fmt.Sprintf("target %-42s <= %.2f  %.2f MISS", t.Name, t.Limit, t.Ratio)
}

// writeTable writes one row per figure: median [min-max] in seconds and,
// for builds, the vertices that ran; then how they were measured and the
// target.
func writeSecondRunnerTable(w io.Writer, sr *bench.SecondRunnerReport) error {
	fmt.Fprintf(w, "SECOND RUNNER: %s; median of %d runs%s, each round from an empty registry\n\n",
		strings.Join(sr.Images, ", "), sr.Repeats, passesLabel(sr.Passes))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tWHAT\tMEDIAN [MIN-MAX]\tRAN")
	for _, r := range sr.Results {
		ran := "-"
		if r.Vertices > 0 {
			ran = fmt.Sprintf("%d/%d", r.Vertices-r.Cached, r.Vertices)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s [%s-%s] s\t%s\n", r.Figure, secondRunnerLabel(r.Figure), secs(r.Median), secs(r.Min), secs(r.Max), ran)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ns = seconds of wall time; ran = vertices that ran / vertices that can be cached (--format json: which).\n"+
		"registry: %s.\nbuilders: %s; its start is not timed.\noutput: %s.\n",
		sr.Registry, sr.Builder, sr.Output)
	if sr.PullAndUp {
		fmt.Fprintf(w, "pull: the images the builder without the cache pushed, into the engine's store (their package\n"+
			"layers are new to it; a layer it holds byte for byte, as its base, is not fetched again); up: stack\n"+
			"%s, empty volumes; stack and images removed after each run.\n", sr.Stack)
	} else {
		fmt.Fprintln(w, "pull and pull-and-up: not measured (they need every service's image: leave --images out).")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, targetCheckLine(sr.Target))
	return nil
}

// variantColour is one colour per variant, from a palette that stays
// distinct for colour-blind readers (ColorBrewer Dark2).
func variantColour(v bench.Variant) string {
	switch v {
	case bench.VariantLLB:
		return "#1b9e77"
	case bench.VariantLinear:
		return "#7570b3"
	case bench.VariantDockerfile:
		return "#d95f02"
	case bench.VariantCompose:
		return "#e7298a"
	}
	return "#666666"
}

// Chart geometry, in SVG user units (pixels).
const (
	chartWidth  = 960
	labelWidth  = 230 // case names on the left
	barsWidth   = 600
	barHeight   = 16
	barGap      = 3
	groupGap    = 18
	headerSpace = 86
	targetLine  = 18
)

// WriteSVG draws the report as a bar chart: one group of bars per case,
// one bar per variant in its colour, each labelled with its median and
// drawn with a whisker from min to max. Every group has its own scale (its
// slowest median fills 80% of the width): the figures to compare are
// within a group, and a cold build would otherwise flatten every other bar.
//
// The run-time figures, when measured, follow in a section of their own.
func WriteSVG(w io.Writer, rep *bench.Report) error {
	rows := rows(rep)
	perGroup := len(rep.Variants)*(barHeight+barGap) + groupGap
	buildPart := len(rows) > 0 || rep.Runtime == nil
	height := 16
	if buildPart {
		height += headerSpace + len(rows)*perGroup
		for _, t := range rep.Targets {
			if !t.Missing {
				height += targetLine
			}
		}
	}
	if rep.Runtime != nil {
		height += svgHeight(rep.Runtime)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	y := 0
	if buildPart {
		y = writeBuildSVG(&b, rep, rows, perGroup)
	}
	if rep.Runtime != nil {
		writeRuntimeSVG(&b, rep.Runtime, y, rep.Machine)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeBuildSVG draws the build figures and returns where they end.
func writeBuildSVG(b *strings.Builder, rep *bench.Report, rows [][]bench.Result, perGroup int) int {
	fmt.Fprintf(b, `<text x="12" y="24" font-size="16" font-weight="bold">inceptionctl bench: rebuild time, median of %s runs (seconds)</text>`+"\n", runsRange(rep.Repeats, rep.MaxRepeats, rep.MinSeconds))
	fmt.Fprintf(b, `<text x="12" y="44" fill="#555555">%d CPUs, %.0f GiB. Whiskers: min to max (cut at the edge). Each case has its own scale: compare bars within a case.</text>`+"\n",
		rep.Machine.CPUs, rep.Machine.MemoryGiB)
	x := 12
	for _, v := range rep.Variants {
		fmt.Fprintf(b, `<rect x="%d" y="56" width="14" height="14" fill="%s"/><text x="%d" y="68">%s</text>`+"\n", x, variantColour(v), x+20, html.EscapeString(string(v)))
		x += 40 + 8*len(v)
	}

	y := headerSpace
	for _, row := range rows {
		// The slowest median fills 80% of the width; a whisker that goes
		// further is cut at the edge.
		scale := 0.0
		for _, res := range row {
			scale = max(scale, res.Median/0.8)
		}
		groupH := len(rep.Variants)*(barHeight+barGap) - barGap
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end" font-weight="bold">%s</text>`+"\n",
			labelWidth-12, y+groupH/2-2, html.EscapeString(string(row[0].Scenario)))
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end" fill="#555555">%s</text>`+"\n",
			labelWidth-12, y+groupH/2+12, html.EscapeString(scopeLabel(row[0].Case)))
		for i, v := range rep.Variants {
			by := y + i*(barHeight+barGap)
			res, ok := findVariant(row, v)
			if !ok || len(res.Runs) == 0 || scale == 0 {
				fmt.Fprintf(b, `<text x="%d" y="%d" fill="#999999">not measured</text>`+"\n", labelWidth+4, by+barHeight-4)
				continue
			}
			px := func(s float64) float64 { return float64(labelWidth) + min(s/scale, 1)*barsWidth }
			fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: median %.3fs, min %.3fs, max %.3fs, ran %d/%d</title></rect>`+"\n",
				labelWidth, by, max(px(res.Median)-labelWidth, 1), barHeight, variantColour(v),
				html.EscapeString(res.Name()), v, res.Median, res.Min, res.Max, res.Vertices-res.Cached, res.Vertices)
			mid := by + barHeight/2
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(res.Min), mid, px(res.Max), mid)
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(res.Min), mid-4, px(res.Min), mid+4)
			if res.Max <= scale {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333333"/>`+"\n", px(res.Max), mid-4, px(res.Max), mid+4)
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%d">%ss</text>`+"\n", max(px(res.Max), px(res.Median))+6, by+barHeight-4, secs(res.Median))
		}
		y += perGroup
	}
	for _, t := range rep.Targets {
		var note string
		switch {
		case t.Missing:
			continue
		case t.Pass:
			note = fmt.Sprintf("target %s: %.2f ≤ %.2f PASS", t.Name, t.Ratio, t.Limit)
		default:
			note = fmt.Sprintf("target %s: %.2f > %.2f MISS", t.Name, t.Ratio, t.Limit)
		}
		fmt.Fprintf(b, `<text x="12" y="%d" fill="#333333">%s</text>`+"\n", y+4, html.EscapeString(note))
		y += targetLine
	}
	return y
}

func findVariant(row []bench.Result, v bench.Variant) (bench.Result, bool) {
	for _, r := range row {
		if r.Variant == v {
			return r, true
		}
	}
	return bench.Result{}, false
}

// figures are the report's figures, in the report's order. A build
// figure's key is its case (Name and Changed) and variant, a run-time
// figure's its scenario and figure.
func figures(rep *bench.Report) []benchstat.Figure {
	var out []benchstat.Figure
	for _, r := range rep.Results {
		out = append(out, benchstat.Figure{
			Key:  "build\x00" + r.Name() + "\x00" + r.Changed + "\x00" + string(r.Variant),
			Name: string(r.Scenario) + "/" + scopeLabel(r.Case) + " " + string(r.Variant), Unit: "s", Printed: printed(secs),
			Measured: len(r.Runs) > 0, Median: r.Median, Min: r.Min, Max: r.Max,
		})
	}
	if rep.Runtime != nil {
		for _, r := range rep.Runtime.Results {
			out = append(out, benchstat.Figure{
				Key: "runtime\x00" + r.Name(), Name: r.Name(), Unit: r.Unit, Printed: printed(func(v float64) string { return value(r, v) }),
				Measured: len(r.Runs) > 0, Failed: r.Failed != "", Median: r.Median, Min: r.Min, Max: r.Max,
			})
		}
	}
	return out
}

// printed is a value as format prints it, read back: 0.154 s is 0.15,
// 0.145 s (0.14499999999999999 in binary) is 0.14, 0.125 s (exact) is
// 0.12 (strconv rounds a tie to even), 10.04 s is 10.
func printed(format func(float64) string) func(float64) float64 {
	return func(v float64) float64 {
		p, err := strconv.ParseFloat(format(v), 64)
		if err != nil {
			return v
		}
		return p
	}
}

// Compare checks this report's figures against base's, the report of an
// earlier run named name (its file), as benchstat.Compare does: a median
// inside the baseline's min-max band, the three compared as the table
// prints them, is reproduced. It compares the machine references too.
func Compare(rep, base *bench.Report, name string) *benchstat.Comparison {
	c := benchstat.Compare(figures(rep), figures(base))
	c.Baseline, c.Started = name, base.Started
	c.Machine = benchstat.CompareMachine(references(rep), references(base))
	return c
}

// references are the report's machine references: the build figures'
// and the run-time figures'.
func references(rep *bench.Report) []*benchstat.Reference {
	refs := []*benchstat.Reference{rep.Reference}
	if rep.Runtime != nil {
		refs = append(refs, rep.Runtime.Reference)
	}
	return refs
}

// writeComparison writes the comparison, when there is one: the verdict,
// then a line per figure outside its band or failed, and the figures not
// in the baseline.
func writeComparison(w io.Writer, rep *bench.Report) error {
	c := rep.Comparison
	if c == nil {
		return nil
	}
	against := "against " + c.Baseline
	if !c.Started.IsZero() {
		against += " (run of " + c.Started.UTC().Format("2006-01-02 15:04 MST") + ")"
	}
	fmt.Fprintln(w)
	switch {
	case c.Judged == 0:
		fmt.Fprintf(w, "NOT COMPARED %s: no figure of this run is in the baseline\n", against)
	case len(c.Outside) == 0:
		fmt.Fprintf(w, "REPRODUCED %s: %d of %d medians inside the baseline's min-max band\n", against, c.Inside, c.Judged)
	default:
		fmt.Fprintf(w, "NOT REPRODUCED %s: %d of %d medians inside the baseline's min-max band\n", against, c.Inside, c.Judged)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, d := range c.Outside {
		f := secs
		if d.Unit != "s" {
			f = func(v float64) string { return value(bench.RuntimeResult{Unit: d.Unit}, v) }
		}
		fmt.Fprintf(tw, "  outside\t%s\t%s %s, baseline [%s-%s]\n", d.Figure, f(d.Median), d.Unit, f(d.Min), f(d.Max))
	}
	for _, name := range c.Failed {
		fmt.Fprintf(tw, "  failed\t%s\tnot judged\n", name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Unmatched) > 0 {
		fmt.Fprintf(w, "  not in the baseline (or failed in it), not judged: %s\n", strings.Join(c.Unmatched, ", "))
	}
	if c.Machine != nil {
		fmt.Fprintln(w, c.Machine.Line())
	}
	fmt.Fprintln(w, "inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code")
	return nil
}

// writePageCache prints the page cache's targets as PASS or MISS.
func writePageCache(w io.Writer, t *benchstat.PageCacheTargets) {
	if t == nil {
		return
	}
	mark := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	fmt.Fprintf(w, "\npage cache, one run: anonymous home page %.1f x its figure with the cache off (target >= %g x) %s;\n",
		t.HitRatio, t.HitRatioTarget, mark(t.HitRatioOK))
	fmt.Fprintf(w, "logged in %.2f x with the cache off (target >= %g x) %s, %.2f x the anonymous page rendered;\n",
		t.LoggedInRatio, t.LoggedInRatioTarget, mark(t.LoggedInRatioOK), t.LoggedInVsRender)
	fmt.Fprintf(w, "p99 of the hits %.1f ms (target < %g ms) %s; a miss %.2f x a render with the cache off.\n",
		t.HitP99ms, t.HitP99msTarget, mark(t.HitP99OK), t.MissRatio)
}

// RunsLabel says how many runs a figure has: "5 runs", or "5 to 15 runs
// (more while they add up to less than 30s)".
func RunsLabel(repeats, max int, minSeconds float64) string {
	if minSeconds <= 0 || max <= repeats {
		return fmt.Sprintf("%d runs", repeats)
	}
	return fmt.Sprintf("%d to %d runs (more while they add up to less than %s)", repeats, max, time.Duration(minSeconds*float64(time.Second)))
}

// passesLabel is "" for one pass, ", in 2 passes, each" for more: the
// words between the runs and "after a warm-up".
func passesLabel(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(", in %d passes, each", n)
}

// runsRange is "5", or "5-15" when short figures get more runs.
func runsRange(repeats, max int, minSeconds float64) string {
	if minSeconds <= 0 || max <= repeats {
		return fmt.Sprint(repeats)
	}
	return fmt.Sprintf("%d-%d", repeats, max)
}

// composeNote is the report's word on the compose variant.
const composeNote = "compose: `docker compose build` of the exported tree (inceptionctl export compose) on a private\n" +
	"dockerd (Debian's docker.io 20.10, docker compose v2); ran = its Dockerfile steps that ran / all but FROM;\n" +
	"cold prunes dockerd's build cache but its cache mounts; the base image stays in dockerd's image store\n"

// figureLabel says what a figure measures, for tables and charts.
func figureLabel(r bench.RuntimeResult, startService string) string {
	switch r.Figure {
	case bench.FigureFirstBoot:
		return "up to home page 200, first boot (empty volumes)"
	case bench.FigureSecondBoot:
		return "up to home page 200, second boot (data kept)"
	case bench.FigureComposeFirstBoot:
		return "docker compose up -d to home page 200, first boot"
	case bench.FigureRunning:
		return "start " + startService + ": task running"
	case bench.FigureHealthy:
		return "start " + startService + ": health check passed"
	case bench.FigureRedisCache:
		return "home page, object cache, page cache off"
	case bench.FigureNoCache:
		return "home page, no object cache, page cache off"
	case bench.FigureAnonymous:
		return "home page, anonymous, page cache on (hit)"
	case bench.FigureLoggedIn:
		return "home page, logged in, page cache on (bypass)"
	case bench.FigureMiss:
		return "a new page per request, page cache on (miss, 404)"
	case bench.FigureAnonymousOff:
		return "home page, anonymous, page cache off"
	case bench.FigureLoggedInOff:
		return "home page, logged in, page cache off"
	case bench.FigureMissOff:
		return "a new page per request, page cache off (404)"
	}
	return strings.ReplaceAll(r.Figure, "-", " ")
}
