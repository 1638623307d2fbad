package benchstat

import "time"

// Comparison is a run's figures checked against an earlier run's, the
// baseline: a figure both runs have is reproduced (Inside) when this run's
// median lies in the baseline's min-max band, the three numbers compared as
// the table prints them (see Compare). It sets no exit code.
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

// Figure is one figure of a report, for a comparison.
type Figure struct {
	Key      string // the same figure in two runs has the same key
	Name     string // as Deviation.Figure
	Unit     string
	Printed  func(float64) float64 // the value as the table prints it, read back
	Measured bool                  // it has runs
	Failed   bool
	Median   float64
	Min, Max float64
}

// Compare checks the figures cur against base's, the figures of an
// earlier run: a figure measured in both, and failed in neither, is inside
// when base's min <= this median <= base's max, each of the three rounded
// as the table prints it first, so that two printed tables give the same
// verdict as this: a median printed 0.15 is inside a band printed
// [0.14-0.15]. Figures base lacks (or failed) are Unmatched, cur's failed
// figures Failed; neither is judged. Figures cur has no runs of are left
// out. The first of two figures with one key counts.
func Compare(cur, base []Figure) *Comparison {
	c := &Comparison{Outside: []Deviation{}}
	old := map[string]Figure{}
	for _, f := range base {
		if _, ok := old[f.Key]; !ok {
			old[f.Key] = f
		}
	}
	seen := map[string]bool{}
	for _, f := range cur {
		if seen[f.Key] {
			continue
		}
		seen[f.Key] = true
		switch b, ok := old[f.Key]; {
		case f.Failed:
			c.Failed = append(c.Failed, f.Name)
		case !f.Measured:
		case !ok || !b.Measured || b.Failed:
			c.Unmatched = append(c.Unmatched, f.Name)
		default:
			c.Judged++
			m := f.Printed(f.Median)
			if f.Printed(b.Min) <= m && m <= f.Printed(b.Max) {
				c.Inside++
				continue
			}
			c.Outside = append(c.Outside, Deviation{Figure: f.Name, Median: f.Median, Min: b.Min, Max: b.Max, Unit: f.Unit})
		}
	}
	return c
}
