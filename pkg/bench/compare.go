package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Comparison is a run's figures checked against an earlier run's, the
// baseline: a figure both runs have is reproduced (Inside) when this run's
// median lies in the baseline's min-max band, the three numbers compared as
// the table prints them (see Report.Compare). It sets no exit code.
type Comparison struct {
	// Baseline names the baseline, its file; Started is when its run
	// started.
	Baseline string    `json:"baseline"`
	Started  time.Time `json:"baseline_started"`
	// Judged counts the figures of this run that the baseline has too,
	// neither failed; Inside those whose median is in the band.
	Judged int `json:"judged"`
	Inside int `json:"inside"`
	// Outside lists the judged figures whose median is not in the band.
	Outside []Deviation `json:"outside"`
	// Failed lists this run's run-time figures that failed: not judged.
	Failed []string `json:"failed,omitempty"`
	// Unmatched lists this run's figures that the baseline has not
	// measured, or whose run-time figure failed in it: not judged.
	Unmatched []string `json:"unmatched,omitempty"`
	// Machine compares the machine references, when both runs have one:
	// how far the machine's own speed moved between the runs.
	Machine *MachineChange `json:"machine,omitempty"`
}

// Deviation is a figure whose median is outside the baseline's band. The
// values are as measured; the verdict compared them as printed.
type Deviation struct {
	// Figure is "scenario/scope variant" for a build figure (e.g.
	// "config-change/stack (nginx) llb"), "scenario/figure" for a run-time
	// figure (e.g. "https/redis-cache").
	Figure string  `json:"figure"`
	Median float64 `json:"median"`       // this run's
	Min    float64 `json:"baseline_min"` // the baseline's band
	Max    float64 `json:"baseline_max"`
	Unit   string  `json:"unit"` // "s" or "req/s"
}

// figure is one figure of a report, for a comparison.
type figure struct {
	name     string // as Deviation.Figure
	unit     string
	format   func(float64) string // as the table prints its values
	measured bool                 // it has runs
	failed   bool
	median   float64
	min, max float64
}

// figures are the report's figures by key, and the keys in the report's
// order. A build figure's key is its case (Name and Changed) and variant,
// a run-time figure's its scenario and figure; the first of two figures
// with one key counts.
func (rep *Report) figures() (map[string]figure, []string) {
	byKey := map[string]figure{}
	var keys []string
	add := func(k string, f figure) {
		if _, ok := byKey[k]; !ok {
			byKey[k] = f
			keys = append(keys, k)
		}
	}
	for _, r := range rep.Results {
		add("build\x00"+r.Name()+"\x00"+r.Changed+"\x00"+string(r.Variant), figure{
			name: string(r.Scenario) + "/" + r.scopeLabel() + " " + string(r.Variant), unit: "s", format: secs,
			measured: len(r.Runs) > 0, median: r.Median, min: r.Min, max: r.Max,
		})
	}
	if rep.Runtime != nil {
		for _, r := range rep.Runtime.Results {
			add("runtime\x00"+r.Name(), figure{
				name: r.Name(), unit: r.Unit, format: r.value,
				measured: len(r.Runs) > 0, failed: r.Failed != "", median: r.Median, min: r.Min, max: r.Max,
			})
		}
	}
	return byKey, keys
}

// printed is v as the table prints it, read back: 0.154 s is 0.15, 0.145 s
// (0.14499999999999999 in binary) is 0.14, 0.125 s (exact) is 0.12
// (strconv rounds a tie to even), 10.04 s is 10.
func printed(v float64, format func(float64) string) float64 {
	p, err := strconv.ParseFloat(format(v), 64)
	if err != nil {
		return v
	}
	return p
}

// Compare checks this report's figures against base's, the report of an
// earlier run named name (its file). A figure measured in both, and failed
// in neither, is inside when base's min <= this median <= base's max, each
// of the three rounded as the table prints it first, so that two printed
// tables give the same verdict as this: a median printed 0.15 is inside a
// band printed [0.14-0.15]. Figures base lacks (or failed) are Unmatched,
// this run's failed run-time figures Failed; neither is judged. Figures
// this run has no runs of are left out.
func (rep *Report) Compare(base *Report, name string) *Comparison {
	c := &Comparison{Baseline: name, Started: base.Started, Outside: []Deviation{}, Machine: rep.compareMachine(base)}
	cur, keys := rep.figures()
	old, _ := base.figures()
	for _, k := range keys {
		f := cur[k]
		switch b, ok := old[k]; {
		case f.failed:
			c.Failed = append(c.Failed, f.name)
		case !f.measured:
		case !ok || !b.measured || b.failed:
			c.Unmatched = append(c.Unmatched, f.name)
		default:
			c.Judged++
			m := printed(f.median, f.format)
			if printed(b.min, f.format) <= m && m <= printed(b.max, f.format) {
				c.Inside++
				continue
			}
			c.Outside = append(c.Outside, Deviation{Figure: f.name, Median: f.median, Min: b.min, Max: b.max, Unit: f.unit})
		}
	}
	return c
}

// writeComparison writes the comparison, when there is one: the verdict,
// then a line per figure outside its band or failed, and the figures not
// in the baseline.
func (rep *Report) writeComparison(w io.Writer) error {
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
			f = RuntimeResult{Unit: d.Unit}.value
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
		fmt.Fprintln(w, c.Machine.line())
	}
	fmt.Fprintln(w, "inside: baseline min <= median <= baseline max, as printed; the comparison sets no exit code")
	return nil
}

// ReadReport reads a report that WriteJSON wrote (bench --format json or
// --export-json), to compare a run with. A file that is not one JSON
// object of a report with build or run-time figures is ErrNotReport.
func ReadReport(path string) (*Report, error) {
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
