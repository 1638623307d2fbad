package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/build"
)

// Report is what a Run measured.
type Report struct {
	Command string            `json:"command,omitempty"` // the command line, set by the caller
	Machine benchstat.Machine `json:"machine"`
	Repeats int               `json:"repeats"`
	// A figure whose runs add up to less than MinSeconds is measured
	// again, up to MaxRepeats runs (WithMinTime).
	MinSeconds float64 `json:"min_time_s,omitempty"`
	MaxRepeats int     `json:"max_repeats,omitempty"`
	// Passes: every figure's runs are spread over this many passes
	// (WithPasses).
	Passes   int                     `json:"passes,omitempty"`
	Variants []Variant               `json:"variants"`
	Started  time.Time               `json:"started"`
	Seconds  float64                 `json:"seconds"` // the build figures' run, warm-ups and restores included
	Results  []Result                `json:"results"`
	Targets  []benchstat.TargetCheck `json:"targets"`
	// Reference times the machine itself (WithMachineReference).
	Reference *benchstat.Reference `json:"reference,omitempty"`
	// Runtime holds the run-time figures (RunRuntime), when measured.
	Runtime *RuntimeReport `json:"runtime,omitempty"`
	// SecondRunner holds the second-runner figures, when measured.
	SecondRunner *SecondRunnerReport `json:"second_runner,omitempty"`
	// Comparison checks the figures against an earlier run's (Compare).
	Comparison *benchstat.Comparison `json:"comparison,omitempty"`
}

// NewReport is an empty report of this machine, started now: what Run
// fills with build figures, or what a caller that measures run-time
// figures only puts them in.
func NewReport() *Report {
	return &Report{Machine: benchstat.ThisMachine(), Variants: []Variant{}, Started: time.Now().UTC(), Results: []Result{}, Targets: []benchstat.TargetCheck{}}
}

// Result is one case in one variant: every measured run and their
// statistics.
type Result struct {
	Case
	Variant Variant       `json:"variant"`
	Runs    []Measurement `json:"runs"`
	Median  float64       `json:"median_s"`
	Min     float64       `json:"min_s"`
	Max     float64       `json:"max_s"`
	// Vertices and Cached sum the images' counted vertices in the median
	// run; Ran lists, per image, every vertex that ran in any run.
	Vertices int                 `json:"vertices"`
	Cached   int                 `json:"cached"`
	Ran      map[string][]string `json:"ran"`
}

// Measurement is one measured build.
type Measurement struct {
	Seconds float64    `json:"seconds"` // wall time of the build, export included
	Pass    int        `json:"pass,omitempty"`
	Images  []ImageRun `json:"images"`
}

// ImageRun is one image of a measured build.
type ImageRun struct {
	Image    string       `json:"image"`
	Seconds  float64      `json:"seconds"`
	Vertices int          `json:"vertices"` // vertices that can be cached
	Cached   int          `json:"cached"`
	Ran      []build.Step `json:"ran"` // the vertices that ran, with their durations
	// UpToDate: the image was not solved, its graph, config and base being
	// those it was built from (build.WithImageStore).
	UpToDate bool `json:"up_to_date,omitempty"`
}

func (r Measurement) summary() string {
	v, c := 0, 0
	for _, img := range r.Images {
		v += img.Vertices
		c += img.Cached
	}
	return fmt.Sprintf("%7.2fs  ran %d/%d", r.Seconds, v-c, v)
}

// summarise computes the statistics of the runs.
func (res *Result) summarise() {
	if len(res.Runs) == 0 {
		return
	}
	secs := make([]float64, len(res.Runs))
	for i, r := range res.Runs {
		secs[i] = r.Seconds
	}
	res.Median = benchstat.Median(secs)
	res.Min, res.Max = slices.Min(secs), slices.Max(secs)
	// The run closest to the median gives the vertex counts.
	best := 0
	for i, s := range secs {
		if math.Abs(s-res.Median) < math.Abs(secs[best]-res.Median) {
			best = i
		}
	}
	res.Vertices, res.Cached = 0, 0
	for _, img := range res.Runs[best].Images {
		res.Vertices += img.Vertices
		res.Cached += img.Cached
	}
	res.Ran = map[string][]string{}
	for _, r := range res.Runs {
		for _, img := range r.Images {
			if _, ok := res.Ran[img.Image]; !ok {
				res.Ran[img.Image] = []string{}
			}
			for _, s := range img.Ran {
				if !slices.Contains(res.Ran[img.Image], s.Name) {
					res.Ran[img.Image] = append(res.Ran[img.Image], s.Name)
				}
			}
		}
	}
	for _, names := range res.Ran {
		slices.Sort(names)
	}
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes one row per case: for each variant the median, the
// min-max band and the vertices that ran out of those counted, then the
// target ratios, each PASS or MISS; then the run-time figures, when
// measured, in a section of their own; then the comparison with an
// earlier run, when made.
func (rep *Report) WriteTable(w io.Writer) error {
	if len(rep.Results) > 0 || rep.Runtime == nil && rep.SecondRunner == nil {
		if err := rep.writeBuildTable(w); err != nil {
			return err
		}
	}
	if rep.Runtime != nil {
		if len(rep.Results) > 0 {
			fmt.Fprintln(w)
		}
		if err := rep.Runtime.writeTable(w); err != nil {
			return err
		}
	}
	if rep.SecondRunner != nil {
		if len(rep.Results) > 0 || rep.Runtime != nil {
			fmt.Fprintln(w)
		}
		if err := rep.SecondRunner.writeTable(w); err != nil {
			return err
		}
	}
	return rep.writeComparison(w)
}

func (rep *Report) writeBuildTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := []string{"SCENARIO", "SCOPE"}
	for _, v := range rep.Variants {
		head = append(head, strings.ToUpper(string(v))+" s [min-max] ran")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range rep.rows() {
		cells := []string{string(row[0].Scenario), row[0].scopeLabel()}
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
	if slices.Contains(rep.Variants, VariantCompose) {
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
func (c Case) scopeLabel() string {
	if c.Scope == Stack && c.Changed != "" {
		return c.Scope + " (" + c.Changed + ")"
	}
	return c.Scope
}

// rows groups the results by case, in the order they were measured.
func (rep *Report) rows() [][]Result {
	var rows [][]Result
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
