package report

import "fmt"

// LoadResult is what one HTTPS load run measured. A response is a success
// when its status is 200 and its body was read to the end; anything else
// (another status, a redirect, a transport error, a timeout) is an error.
// Requests cut by the caller's context are counted as neither.
type LoadResult struct {
	Requests    int     `json:"requests"` // successes
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"` // from the first request to the last answer
	RPS         float64 `json:"rps"`     // successes per second
	P50ms       float64 `json:"p50_ms"`  // latency of successes, nearest rank
	P99ms       float64 `json:"p99_ms"`
	Bytes       int64   `json:"bytes"`                 // response bodies of successes, as sent (gzip when the server compressed them)
	FirstError  string  `json:"first_error,omitempty"` // what the first error was
	Concurrency int     `json:"concurrency"`
}

// maxErrorRate is the share of errors above which a load run is a failed
// figure.
const maxErrorRate = 0.01

// ErrorRate is the share of requests that were errors.
func (r LoadResult) ErrorRate() float64 {
	if n := r.Requests + r.Errors; n > 0 {
		return float64(r.Errors) / float64(n)
	}
	return 0
}

// Failed says why the run cannot stand as a figure: no success at all, or
// more than 1% errors (maxErrorRate). Empty when it can.
func (r LoadResult) Failed() string {
	switch {
	case r.Requests == 0 && r.Errors == 0:
		return "no request completed"
	case r.Requests == 0 || r.ErrorRate() > maxErrorRate:
		msg := fmt.Sprintf("%d errors in %d requests (%.1f%% > %.0f%%)", r.Errors, r.Requests+r.Errors, 100*r.ErrorRate(), 100*maxErrorRate)
		if r.FirstError != "" {
			msg += "; first: " + r.FirstError
		}
		return msg
	}
	return ""
}
