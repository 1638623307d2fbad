package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/build"
)

// Report is what a bench run measured: the build figures (bench.Run), and
// the run-time and second-runner figures when measured.
type Report struct {
	Command string            `json:"command,omitempty"` // the command line, set by the caller
	Machine benchstat.Machine `json:"machine"`
	Repeats int               `json:"repeats"`
	// A figure whose runs add up to less than MinSeconds is measured
	// again, up to MaxRepeats runs (bench.WithMinTime).
	MinSeconds float64 `json:"min_time_s,omitempty"`
	MaxRepeats int     `json:"max_repeats,omitempty"`
	// Passes: every figure's runs are spread over this many passes
	// (bench.WithPasses).
	Passes   int                     `json:"passes,omitempty"`
	Variants []Variant               `json:"variants"`
	Started  time.Time               `json:"started"`
	Seconds  float64                 `json:"seconds"` // the build figures' run, warm-ups and restores included
	Results  []Result                `json:"results"`
	Targets  []benchstat.TargetCheck `json:"targets"`
	// Reference times the machine itself (bench.WithMachineReference).
	Reference *benchstat.Reference `json:"reference,omitempty"`
	// Runtime holds the run-time figures (bench.RunRuntime), when measured.
	Runtime *RuntimeReport `json:"runtime,omitempty"`
	// SecondRunner holds the second-runner figures, when measured.
	SecondRunner *SecondRunnerReport `json:"second_runner,omitempty"`
	// Comparison checks the figures against an earlier run's.
	Comparison *benchstat.Comparison `json:"comparison,omitempty"`
}

// New is an empty report of this machine, started now: what bench.Run
// fills with build figures, or what a caller that measures run-time
// figures only puts them in.
func New() *Report {
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
	// those it was built from (bench.WithImageStore).
	UpToDate bool `json:"up_to_date,omitempty"`
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// Read reads a report that WriteJSON wrote (bench --format json or
// --export-json), to compare a run with. A file that is not one JSON
// object of a report with build or run-time figures is ErrNotReport.
func Read(path string) (*Report, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(dt)) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty", path, ErrNotReport)
	}
	dec := json.NewDecoder(bytes.NewReader(dt))
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrNotReport, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w: more after the JSON object", path, ErrNotReport)
	}
	if len(rep.Results) == 0 && (rep.Runtime == nil || len(rep.Runtime.Results) == 0) {
		return nil, fmt.Errorf("%s: %w: no build figures (results) and no run-time figures (runtime)", path, ErrNotReport)
	}
	for i, r := range rep.Results {
		if r.Scenario == "" || r.Scope == "" || r.Variant == "" {
			return nil, fmt.Errorf("%s: %w: result %d has no scenario, scope or variant", path, ErrNotReport, i+1)
		}
	}
	if rep.Runtime != nil {
		for i, r := range rep.Runtime.Results {
			if r.Scenario == "" || r.Figure == "" {
				return nil, fmt.Errorf("%s: %w: run-time result %d has no scenario or figure", path, ErrNotReport, i+1)
			}
		}
	}
	return &rep, nil
}

// WriteJSONFile writes the report as WriteJSON does into path, atomically:
// into a temporary file in path's directory, renamed to path once written.
func (rep *Report) WriteJSONFile(path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = rep.WriteJSON(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
