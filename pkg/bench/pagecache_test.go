package bench

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
	res, err := runLoad(t.Context(), l)
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
	res, err = runLoad(t.Context(), l)
	require.NoError(t, err)
	assert.Zero(t, res.Requests, "403 is not the status asked for")
	assert.Positive(t, res.Errors)

	bad := s.load(1, time.Millisecond)
	bad.Unique = "a/b"
	_, err = runLoad(t.Context(), bad)
	require.Error(t, err)
}

// TestWarmedUp: the wait for the OPcache warm-up ends with the end of the
// warm-up of WordPress's last start, never of an earlier one.
func TestWarmedUp(t *testing.T) {
	const (
		start  = "wordpress | wordpress-entrypoint: php-fpm: 8 workers at most (2 CPU, 1024 MiB), PHP_TUNING=auto\n"
		warmed = "wordpress | wordpress-entrypoint: OPcache file cache warmed in 2.1 s (2 processes)\n"
		failed = "wordpress | wordpress-entrypoint: OPcache warm-up failed: php-fpm compiles on first use\n"
		other  = "wordpress | [07-Dec-2026 04:33:51] NOTICE: ready to handle connections\n"
	)
	for _, tc := range []struct {
		name string
		logs string
		want bool
	}{
		{"nothing yet", "", false},
		{"started, warming", start + other, false},
		{"warmed", start + other + warmed, true},
		{"warm-up failed", start + failed, true},
		{"warmed, then started again", start + warmed + start + other, false},
		{"started again and warmed", start + warmed + start + warmed, true},
		{"an end without its start", warmed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, warmedUp(tc.logs))
		})
	}
}
