package benchreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// secondRunnerLabel says what a second-runner figure measures.
func secondRunnerLabel(figure string) string {
	switch figure {
	case report.FigurePush:
		return "the engine's builder pushes the images and exports their cache (mode=max)"
	case report.FigureWithCache:
		return "a fresh builder, --cache-from the registry cache, pushes"
	case report.FigureWithoutCache:
		return "the same fresh builder without the cache, pushes"
	case report.FigureWithCacheOCI:
		return "a fresh builder, --cache-from the registry cache, OCI tarballs (every layer fetched)"
	case report.FigurePull:
		return "the engine pulls the images (one after the other, unpacked)"
	case report.FigurePullUp:
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
func writeSecondRunnerTable(w io.Writer, sr *report.SecondRunnerReport) error {
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
