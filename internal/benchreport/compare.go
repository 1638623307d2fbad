package benchreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// figures are the report's figures, in the report's order. A build
// figure's key is its case (Name and Changed) and variant, a run-time
// figure's its scenario and figure.
func figures(rep *report.Report) []benchstat.Figure {
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
func Compare(rep, base *report.Report, name string) *benchstat.Comparison {
	c := benchstat.Compare(figures(rep), figures(base))
	c.Baseline, c.Started = name, base.Started
	c.Machine = benchstat.CompareMachine(references(rep), references(base))
	return c
}

// references are the report's machine references: the build figures'
// and the run-time figures'.
func references(rep *report.Report) []*benchstat.Reference {
	refs := []*benchstat.Reference{rep.Reference}
	if rep.Runtime != nil {
		refs = append(refs, rep.Runtime.Reference)
	}
	return refs
}

// writeComparison writes the comparison, when there is one: the verdict,
// then a line per figure outside its band or failed, and the figures not
// in the baseline.
func writeComparison(w io.Writer, rep *report.Report) error {
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
			f = func(v float64) string { return value(report.RuntimeResult{Unit: d.Unit}, v) }
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
