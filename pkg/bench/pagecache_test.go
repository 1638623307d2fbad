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
