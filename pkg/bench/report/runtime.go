package report

import (
	"time"

	"github.com/inceptionctl/inception/internal/benchstat"
)

// RuntimeReport is what bench.RunRuntime measured.
type RuntimeReport struct {
	Stack        string               `json:"stack"`
	Services     []string             `json:"services"`
	Repeats      int                  `json:"repeats"`
	Passes       int                  `json:"passes,omitempty"`     // see Report
	MinSeconds   float64              `json:"min_time_s,omitempty"` // see Report
	MaxRepeats   int                  `json:"max_repeats,omitempty"`
	UpWarmup     bool                 `json:"up_warmup"`
	Concurrency  int                  `json:"concurrency"`
	LoadSeconds  float64              `json:"load_s"` // duration of each measured load run
	StartService string               `json:"start_service"`
	Started      time.Time            `json:"started"`
	Seconds      float64              `json:"seconds"` // the whole run, warm-ups and teardown included
	Results      []RuntimeResult      `json:"results"`
	Reference    *benchstat.Reference `json:"reference,omitempty"` // bench.WithMachineReference
	// PageCache sets the page-cache figures against each other (nil
	// without them).
	PageCache *benchstat.PageCacheTargets `json:"page_cache,omitempty"`
	// PageCacheOff is PHP_TUNING on the page-cache figures' off side:
	// PageCacheOffStock, or empty in a report written before the off side
	// was the stack before the PHP tuning (page cache off, PHP tuned).
	PageCacheOff string `json:"page_cache_off,omitempty"`
}

// RuntimeResult is one run-time figure: every measured run and their
// statistics. Unit is "s" for times, "req/s" for the HTTPS figures.
type RuntimeResult struct {
	Scenario RuntimeScenario `json:"scenario"`
	Figure   string          `json:"figure"`
	Unit     string          `json:"unit"`
	Runs     []RuntimeRun    `json:"runs"`
	Median   float64         `json:"median"`
	Min      float64         `json:"min"`
	Max      float64         `json:"max"`
	// UpSeconds is the median time Up --wait took (up figures).
	UpSeconds float64 `json:"up_s,omitempty"`
	// The HTTPS figures: medians of the runs' latency percentiles, and
	// the requests and errors of every run together.
	P50ms    float64 `json:"p50_ms,omitempty"`
	P99ms    float64 `json:"p99_ms,omitempty"`
	Requests int     `json:"requests,omitempty"`
	Errors   int     `json:"errors,omitempty"`
	// Failed says which run could not stand as a figure, and why.
	Failed string `json:"failed,omitempty"`
}

// Name is "scenario/figure", e.g. "https/redis-cache".
func (r RuntimeResult) Name() string { return string(r.Scenario) + "/" + r.Figure }

// RuntimeRun is one measured run: a time in seconds or a rate.
type RuntimeRun struct {
	Value     float64     `json:"value"`
	UpSeconds float64     `json:"up_s,omitempty"` // up: when Up --wait returned
	Pass      int         `json:"pass,omitempty"`
	Load      *LoadResult `json:"load,omitempty"` // https
	Failed    string      `json:"failed,omitempty"`
}

// Failed lists the figures that failed.
func (rr *RuntimeReport) Failed() []string {
	var out []string
	for _, r := range rr.Results {
		if r.Failed != "" {
			out = append(out, r.Name()+": "+r.Failed)
		}
	}
	return out
}

// PageCacheOffStock is RuntimeReport.PageCacheOff for figures whose off
// side is the stack before the page cache and the PHP tuning:
// NGINX_PAGE_CACHE=0 and PHP_TUNING=stock.
const PageCacheOffStock = "stock"
