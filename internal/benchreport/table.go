package benchreport

import (
	"fmt"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
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
func WriteTable(w io.Writer, rep *report.Report) error {
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

func writeBuildTable(w io.Writer, rep *report.Report) error {
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
		"frontend has to read its context to know that nothing changed\n", RunsLabel(rep.Repeats, rep.MaxRepeats, rep.MinSeconds), passesLabel(rep.Passes))
	if slices.Contains(rep.Variants, report.VariantCompose) {
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
func scopeLabel(c report.Case) string {
	if c.Scope == report.ScopeStack && c.Changed != "" {
		return c.Scope + " (" + c.Changed + ")"
	}
	return c.Scope
}

// rows groups the results by case, in the order they were measured.
func rows(rep *report.Report) [][]report.Result {
	var rows [][]report.Result
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
