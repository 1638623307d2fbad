package bench

import (
	"fmt"
	"html"
	"io"
	"strings"
)

// variantColour is one colour per variant, from a palette that stays
// distinct for colour-blind readers (ColorBrewer Dark2).
func variantColour(v Variant) string {
	switch v {
	case VariantLLB:
		return "#1b9e77"
	case VariantLinear:
		return "#7570b3"
	case VariantDockerfile:
		return "#d95f02"
	case VariantCompose:
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
func (rep *Report) WriteSVG(w io.Writer) error {
	rows := rep.rows()
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
		height += rep.Runtime.svgHeight()
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	y := 0
	if buildPart {
		y = rep.writeBuildSVG(&b, rows, perGroup)
	}
	if rep.Runtime != nil {
		rep.Runtime.writeSVG(&b, y, rep.Machine)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeBuildSVG draws the build figures and returns where they end.
func (rep *Report) writeBuildSVG(b *strings.Builder, rows [][]Result, perGroup int) int {
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
			labelWidth-12, y+groupH/2+12, html.EscapeString(row[0].scopeLabel()))
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

func findVariant(row []Result, v Variant) (Result, bool) {
	for _, r := range row {
		if r.Variant == v {
			return r, true
		}
	}
	return Result{}, false
}
