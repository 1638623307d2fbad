package report

import (
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
)

// SecondRunnerReport is what the second-runner scenario measured.
type SecondRunnerReport struct {
	Images   []string `json:"images"`
	Registry string   `json:"registry"` // what the registry was
	Builder  string   `json:"builder"`  // what the fresh builders were
	Output   string   `json:"output"`   // what every build exports
	Repeats  int      `json:"repeats"`
	Passes   int      `json:"passes,omitempty"`
	// PullAndUp says whether pull and pull-and-up were measured (every
	// service built), and on which stack.
	PullAndUp bool                 `json:"pull_and_up"`
	Stack     string               `json:"stack,omitempty"`
	Started   time.Time            `json:"started"`
	Seconds   float64              `json:"seconds"`
	Results   []SecondRunnerResult `json:"results"`
	// Target is with-cache over without-cache, medians of one run of the
	// bench, against the caller's target (the bench sets none).
	Target benchstat.TargetCheck `json:"target"`
}

// SecondRunnerResult is one second-runner figure: every run and their
// statistics, in seconds.
type SecondRunnerResult struct {
	Figure string        `json:"figure"`
	Runs   []Measurement `json:"runs"`
	Median float64       `json:"median_s"`
	Min    float64       `json:"min_s"`
	Max    float64       `json:"max_s"`
	// Vertices and Cached: the builds' counted vertices in the run
	// closest to the median, as Result has them.
	Vertices int `json:"vertices,omitempty"`
	Cached   int `json:"cached,omitempty"`
}
