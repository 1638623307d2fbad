package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
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
