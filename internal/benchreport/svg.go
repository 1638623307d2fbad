package benchreport

import (
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// runtimeColour is one colour per run-time scenario (ColorBrewer Dark2,
// after the variants' colours).
func runtimeColour(sc report.RuntimeScenario) string {
	switch sc {
	case report.RuntimeUp:
		return "#e7298a"
	case report.RuntimeStart:
		return "#66a61e"
	case report.RuntimeHTTPS:
		return "#e6ab02"
	case report.RuntimePageCache:
		return "#a6761d"
	}
	return "#666666"
}

// runtimeGroups groups the figures by scenario, in the order measured.
func groups(rr *report.RuntimeReport) [][]report.RuntimeResult {
	var out [][]report.RuntimeResult
	for _, r := range rr.Results {
		if n := len(out); n > 0 && out[n-1][0].Scenario == r.Scenario {
			out[n-1] = append(out[n-1], r)
			continue
		}
		out = append(out, []report.RuntimeResult{r})
	}
	return out
}

// svgHeight is the height of the run-time section.
func svgHeight(rr *report.RuntimeReport) int {
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
func writeRuntimeSVG(b *strings.Builder, rr *report.RuntimeReport, y int, m benchstat.Machine) {
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
			label := html.EscapeString(figureLabel(r, rr))
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

// variantColour is one colour per variant, from a palette that stays
// distinct for colour-blind readers (ColorBrewer Dark2).
func variantColour(v report.Variant) string {
	switch v {
	case report.VariantLLB:
		return "#1b9e77"
	case report.VariantLinear:
		return "#7570b3"
	case report.VariantDockerfile:
		return "#d95f02"
	case report.VariantCompose:
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
func WriteSVG(w io.Writer, rep *report.Report) error {
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
func writeBuildSVG(b *strings.Builder, rep *report.Report, rows [][]report.Result, perGroup int) int {
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

func findVariant(row []report.Result, v report.Variant) (report.Result, bool) {
	for _, r := range row {
		if r.Variant == v {
			return r, true
		}
	}
	return report.Result{}, false
}
