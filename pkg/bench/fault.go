package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// FaultLoad is the load a fault is measured under: the load generator of
// the run-time figures (Concurrency workers, a keep-alive connection each,
// requests back to back), every request for a page of its own that
// WordPress renders in full (a search, URL + "?" + Query + a counter:
// nginx's page cache stores no page with a query), and beside it a prober
// that asks for such a page every Poll from the fault on.
type FaultLoad struct {
	// URL is the home page, e.g. https://faults.42.fr:43121/.
	URL string
	// Addr is the loopback host:port every connection goes to.
	Addr string
	// Query is the query of the pages asked for, a counter appended
	// (default "s=fault-").
	Query string
	// Concurrency is the number of workers (default 8).
	Concurrency int
	// Before is how long the load runs before the fault (default 1 s).
	Before time.Duration
	// After is how long it goes on once the site answers again (default
	// 1 s): requests a restart loses late are counted too.
	After time.Duration
	// Poll is the prober's interval (default 20 ms).
	Poll time.Duration
	// Timeout bounds the wait for the first 200 after the fault, and one
	// request (default 30 s).
	Timeout time.Duration
}

// FaultResult is what one fault cost the site's visitors.
type FaultResult struct {
	// Requests and Errors are the load's answers from its start to its
	// end: a 200 read to the end, or anything else (a status, a transport
	// error, a timeout).
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// InFlight is how many of the load's requests were under way when the
	// fault was injected (at most Concurrency).
	InFlight int `json:"in_flight"`
	// Recovery is from the fault to the end of the first 200 to a request
	// the prober sent after it; negative when none came within Timeout.
	Recovery time.Duration `json:"recovery_ns"`
	// Longest is the longest request of the load, answered or not.
	Longest time.Duration `json:"longest_ns"`
	// Typical is the median time of the 200s answered before the fault:
	// what a recovery of one request's time amounts to.
	Typical time.Duration `json:"typical_ns"`
	// FirstError is what the first error was.
	FirstError string `json:"first_error,omitempty"`
}

func (l *FaultLoad) check() error {
	if l.Query == "" {
		l.Query = "s=fault-"
	}
	if l.Concurrency == 0 {
		l.Concurrency = 8
	}
	if l.Before == 0 {
		l.Before = time.Second
	}
	if l.After == 0 {
		l.After = time.Second
	}
	if l.Poll == 0 {
		l.Poll = 20 * time.Millisecond
	}
	if l.Timeout == 0 {
		l.Timeout = 30 * time.Second
	}
	if l.Before < 0 || l.After < 0 || l.Poll < 0 || l.Timeout < 0 {
		return fmt.Errorf("fault load before %v, after %v, poll %v, timeout %v: give positive durations", l.Before, l.After, l.Poll, l.Timeout)
	}
	return nil
}

// MeasureFault runs the load, calls inject after l.Before, then measures
// how long the site takes to answer 200 again and what the load lost.
// inject does the harm (a kill -9, say) and returns once it is done; its
// error ends the measurement. An error is returned only for a bad l, a
// failed inject or an ended ctx: requests that fail are the figure.
//
//	res, err := bench.MeasureFault(ctx, bench.FaultLoad{URL: rs.URL(), Addr: rs.Addr()}, kill)
func MeasureFault(ctx context.Context, l FaultLoad, inject func(context.Context) error) (FaultResult, error) {
	if err := l.check(); err != nil {
		return FaultResult{}, err
	}
	stop := make(chan struct{})
	var (
		mu       sync.Mutex
		faultAt  time.Time
		res      FaultResult
		firstErr time.Time
		before   []time.Duration // successes answered before the fault
	)
	spec := loadSpec{
		URL: l.URL, Addr: l.Addr, Query: l.Query, Concurrency: l.Concurrency, Timeout: l.Timeout,
		// Stopped by stop; the bound is for a prober that never returns.
		Duration: l.Before + 2*l.Timeout + l.After,
		stop:     stop,
		answered: func(start, end time.Time, err error) {
			mu.Lock()
			defer mu.Unlock()
			if !faultAt.IsZero() && start.Before(faultAt) && end.After(faultAt) {
				res.InFlight++
			}
			res.Longest = max(res.Longest, end.Sub(start))
			if err == nil {
				res.Requests++
				if faultAt.IsZero() {
					before = append(before, end.Sub(start))
				}
				return
			}
			res.Errors++
			if res.FirstError == "" || start.Before(firstErr) {
				res.FirstError, firstErr = err.Error(), start
			}
		},
	}
	if err := spec.check(); err != nil {
		return FaultResult{}, err
	}
	type loadDone struct{ err error }
	done := make(chan loadDone, 1)
	go func() {
		_, err := runLoad(ctx, spec)
		done <- loadDone{err}
	}()
	finish := func(err error) (FaultResult, error) {
		close(stop)
		lerr := (<-done).err
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(before)
		res.Typical = percentile(before, 50)
		return res, errors.Join(err, lerr)
	}

	select {
	case <-ctx.Done():
		return finish(ctx.Err())
	case <-time.After(l.Before):
	}
	mu.Lock()
	faultAt = time.Now()
	mu.Unlock()
	if err := inject(ctx); err != nil {
		return finish(fmt.Errorf("inject the fault: %w", err))
	}
	recovery, err := probe(ctx, l, faultAt)
	if err != nil {
		return finish(err)
	}
	mu.Lock()
	res.Recovery = recovery
	mu.Unlock()
	if recovery >= 0 {
		select {
		case <-ctx.Done():
			return finish(ctx.Err())
		case <-time.After(l.After):
		}
	}
	return finish(nil)
}

// probe asks for a new page every l.Poll until one answers 200, and
// returns the time from since to the end of that answer; -1 when none
// came within l.Timeout.
func probe(ctx context.Context, l FaultLoad, since time.Time) (time.Duration, error) {
	spec := loadSpec{URL: l.URL, Addr: l.Addr, Concurrency: 1, Timeout: l.Timeout}
	if err := spec.check(); err != nil {
		return 0, err
	}
	c := spec.client()
	defer c.CloseIdleConnections()
	deadline := since.Add(l.Timeout)
	for n := 1; time.Now().Before(deadline); n++ {
		u := l.URL + "?" + l.Query + "probe-" + strconv.Itoa(n)
		if _, err := get(ctx, c, u, nil, spec.Status); err == nil {
			return time.Since(since), nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(l.Poll):
		}
	}
	return -1, nil
}
