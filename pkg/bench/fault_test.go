package bench

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeasureFaultCountsWhatTheFaultCost(t *testing.T) {
	var downUntil atomic.Int64 // unix nanoseconds
	var queries atomic.Int64
	s := newSite(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.RawQuery, "s=fault-") {
			queries.Add(1)
		}
		time.Sleep(10 * time.Millisecond)
		if time.Now().UnixNano() < downUntil.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(homePage))
	})
	l := s.load(4, 0)
	fl := FaultLoad{URL: l.URL, Addr: l.Addr, Concurrency: 4, Before: 200 * time.Millisecond, After: 100 * time.Millisecond, Timeout: 5 * time.Second}
	res, err := MeasureFault(t.Context(), fl, func(context.Context) error {
		downUntil.Store(time.Now().Add(300 * time.Millisecond).UnixNano())
		return nil
	})
	require.NoError(t, err)
	assert.Positive(t, res.Requests)
	assert.Positive(t, res.Errors, "502s while the site is down")
	assert.Equal(t, "status 502 Bad Gateway", res.FirstError)
	assert.GreaterOrEqual(t, res.Recovery, 300*time.Millisecond, "no 200 before the site is back")
	assert.Less(t, res.Recovery, 2*time.Second)
	assert.Positive(t, res.InFlight, "four workers, each request 10 ms: some under way at the fault")
	assert.LessOrEqual(t, res.InFlight, 4)
	assert.GreaterOrEqual(t, res.Longest, 10*time.Millisecond)
	assert.GreaterOrEqual(t, res.Typical, 10*time.Millisecond, "a request takes 10 ms")
	assert.LessOrEqual(t, res.Typical, res.Longest)
	assert.EqualValues(t, s.requests.Load(), queries.Load(), "every request a search of its own")
}

func TestMeasureFaultWithoutRecovery(t *testing.T) {
	s := newSite(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})
	l := s.load(2, 0)
	res, err := MeasureFault(t.Context(), FaultLoad{URL: l.URL, Addr: l.Addr, Concurrency: 2, Before: 50 * time.Millisecond, Timeout: 300 * time.Millisecond},
		func(context.Context) error { return nil })
	require.NoError(t, err)
	assert.Negative(t, res.Recovery, "no 200 within the timeout")
	assert.Zero(t, res.Requests)
	assert.Positive(t, res.Errors)
}

func TestMeasureFaultInjectError(t *testing.T) {
	s := newSite(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(homePage)) })
	l := s.load(1, 0)
	_, err := MeasureFault(t.Context(), FaultLoad{URL: l.URL, Addr: l.Addr, Before: 10 * time.Millisecond},
		func(context.Context) error { return errNoSuchProcess })
	require.ErrorIs(t, err, errNoSuchProcess)
}

var errNoSuchProcess = errors.New("no such process")

func TestLoadQueryChecked(t *testing.T) {
	for _, tc := range []struct{ name, url, unique, query string }{
		{"a query in the URL", "https://a.42.fr:1/?x=1", "", "s=x-"},
		{"an & in the query", "https://a.42.fr:1/", "", "s=x&y="},
		{"unique pages too", "https://a.42.fr:1/", "u", "s=x-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := loadSpec{URL: tc.url, Addr: "127.0.0.1:1", Unique: tc.unique, Query: tc.query}
			assert.ErrorContains(t, l.check(), "unique queries")
		})
	}
}
