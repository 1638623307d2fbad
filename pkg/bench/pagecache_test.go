package bench

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPageCacheTargets(t *testing.T) {
	fig := func(f string, median, p99 float64) RuntimeResult {
		return RuntimeResult{Scenario: RuntimePageCache, Figure: f, Unit: "req/s", Median: median, P99ms: p99, Runs: []RuntimeRun{{Value: median}}}
	}
	tests := []struct {
		name    string
		results []RuntimeResult
		want    *PageCacheTargets
	}{
		{
			name: "all met",
			results: []RuntimeResult{
				fig(FigureAnonymous, 2000, 12), fig(FigureLoggedIn, 36, 400), fig(FigureMiss, 25, 500),
				fig(FigureAnonymousOff, 40, 300), fig(FigureLoggedInOff, 30, 450), fig(FigureMissOff, 25, 480),
			},
			want: &PageCacheTargets{HitRatio: 50, HitRatioOK: true, LoggedInRatio: 1.2, LoggedInRatioOK: true, MissRatio: 1,
				HitP99ms: 12, HitP99OK: true, LoggedInVsRender: 0.9},
		},
		{
			name: "all missed",
			results: []RuntimeResult{
				fig(FigureAnonymous, 400, 25), fig(FigureLoggedIn, 30, 400),
				fig(FigureAnonymousOff, 40, 300), fig(FigureLoggedInOff, 30, 450),
			},
			want: &PageCacheTargets{HitRatio: 10, LoggedInRatio: 1, HitP99ms: 25, LoggedInVsRender: 0.75},
		},
		{
			name:    "no figure with the cache off",
			results: []RuntimeResult{fig(FigureAnonymous, 400, 25), fig(FigureLoggedIn, 30, 400)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pageCacheTargets(tc.results)
			if tc.want == nil {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.InDelta(t, tc.want.HitRatio, got.HitRatio, 1e-9)
			assert.InDelta(t, tc.want.LoggedInRatio, got.LoggedInRatio, 1e-9)
			assert.InDelta(t, tc.want.MissRatio, got.MissRatio, 1e-9)
			assert.InDelta(t, tc.want.LoggedInVsRender, got.LoggedInVsRender, 1e-9)
			assert.Equal(t, tc.want.HitRatioOK, got.HitRatioOK)
			assert.Equal(t, tc.want.LoggedInRatioOK, got.LoggedInRatioOK)
			assert.Equal(t, tc.want.HitP99OK, got.HitP99OK)
			var b bytes.Buffer
			got.write(&b)
			assert.Contains(t, b.String(), "page cache, one run:")
			assert.Equal(t, !tc.want.HitRatioOK, strings.Contains(b.String(), "MISS"))
		})
	}
}

// TestRunLoadUniqueHeaderStatus: every request of a Unique load asks for a
// path of its own, with the load's header, and the load's status counts as
// the success.
func TestRunLoadUniqueHeaderStatus(t *testing.T) {
	var mu sync.Mutex
	paths := map[string]int{}
	s := newSite(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		if r.Header.Get("Cookie") != "a=b" {
			http.Error(w, "no cookie", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	})
	l := s.load(3, 200*time.Millisecond)
	l.Unique, l.Status, l.Header = "miss-1", http.StatusNotFound, http.Header{"Cookie": {"a=b"}}
	res, err := RunLoad(t.Context(), l)
	require.NoError(t, err)
	assert.Positive(t, res.Requests)
	assert.Zero(t, res.Errors, res.FirstError)
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, paths, res.Requests, "one path per request")
	for p, n := range paths {
		assert.True(t, strings.HasPrefix(p, "/miss-1-") && strings.HasSuffix(p, "/"), p)
		assert.Equal(t, 1, n, p)
	}

	l.Header = nil
	res, err = RunLoad(t.Context(), l)
	require.NoError(t, err)
	assert.Zero(t, res.Requests, "403 is not the status asked for")
	assert.Positive(t, res.Errors)

	bad := s.load(1, time.Millisecond)
	bad.Unique = "a/b"
	_, err = RunLoad(t.Context(), bad)
	require.Error(t, err)
}
