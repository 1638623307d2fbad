package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// site is a TLS test server that answers as the site would, with what it
// saw: requests, connections, the names asked for.
type site struct {
	srv      *httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
	mu       sync.Mutex
	hosts    map[string]bool // Host headers
	snis     map[string]bool // TLS server names
}

func newSite(t *testing.T, handle func(n int64, w http.ResponseWriter, r *http.Request)) *site {
	t.Helper()
	s := &site{hosts: map[string]bool{}, snis: map[string]bool{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1)
		s.mu.Lock()
		s.hosts[r.Host] = true
		s.snis[r.TLS.ServerName] = true
		s.mu.Unlock()
		handle(n, w, r)
	}))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// load is a Load of the test site under the name a stack would have.
func (s *site) load(concurrency int, d time.Duration) loadSpec {
	addr := s.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	return loadSpec{URL: "https://benchrt.42.fr:" + port + "/", Addr: addr, Concurrency: concurrency, Duration: d}
}

const homePage = "<html><title>inceptionctl bench</title></html>"

func TestRunLoadCounts(t *testing.T) {
	s := newSite(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(homePage))
	})
	l := s.load(4, 300*time.Millisecond)
	res, err := runLoad(t.Context(), l)
	require.NoError(t, err)

	assert.Positive(t, res.Requests)
	assert.Zero(t, res.Errors)
	assert.Empty(t, res.FirstError)
	assert.Empty(t, res.Failed())
	assert.EqualValues(t, s.requests.Load(), res.Requests, "every request the server answered is counted once")
	assert.EqualValues(t, int64(res.Requests)*int64(len(homePage)), res.Bytes, "bodies read to the end")
	assert.LessOrEqual(t, s.conns.Load(), int64(4), "keep-alive: one connection per worker")
	assert.Equal(t, map[string]bool{strings.TrimPrefix(strings.TrimSuffix(l.URL, "/"), "https://"): true}, s.hosts,
		"the site's name and port in Host")
	assert.Equal(t, map[string]bool{"benchrt.42.fr": true}, s.snis, "the site's name in SNI")
	assert.GreaterOrEqual(t, res.Seconds, 0.3, "no request starts after Duration, and it is waited out")
	assert.InDelta(t, float64(res.Requests)/res.Seconds, res.RPS, 1e-9)
	assert.Positive(t, res.P50ms)
	assert.LessOrEqual(t, res.P50ms, res.P99ms)
	assert.Equal(t, 4, res.Concurrency)
}

func TestRunLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		handle func(n int64, w http.ResponseWriter, r *http.Request)
		first  string
		failed bool
	}{
		{"every 10th request a 502", func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n%10 == 0 {
				http.Error(w, "php-fpm is gone", http.StatusBadGateway)
				return
			}
			_, _ = w.Write([]byte(homePage))
		}, "status 502 Bad Gateway", true},
		{"redirects are not followed and count as errors", func(_ int64, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/", http.StatusMovedPermanently)
		}, "status 301 Moved Permanently", true},
		{"one 500 in all", func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 3 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			_, _ = w.Write([]byte(homePage))
		}, "status 500 Internal Server Error", false},
		{"an error page's title is part of the error", func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 2 {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte("<html><head><TITLE>Database\n  Error</title></head><body>Error establishing a database connection</body></html>"))
				return
			}
			_, _ = w.Write([]byte(homePage))
		}, `status 500 Internal Server Error, page "Database Error"`, false},
		{"a gzipped error page's title is read through the gzip", func(n int64, w http.ResponseWriter, _ *http.Request) {
			if n == 2 {
				w.Header().Set("Content-Encoding", "gzip")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write(gzipped(t, "<html><title>Database Error</title></html>"))
				return
			}
			_, _ = w.Write([]byte(homePage))
		}, `status 500 Internal Server Error, page "Database Error"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t, tc.handle)
			res, err := runLoad(t.Context(), s.load(2, 300*time.Millisecond))
			require.NoError(t, err, "errors of requests are counted, not returned")
			assert.EqualValues(t, s.requests.Load(), res.Requests+res.Errors)
			assert.Positive(t, res.Errors)
			assert.Equal(t, tc.first, res.FirstError)
			if tc.failed {
				assert.Contains(t, res.Failed(), "errors in")
				assert.Contains(t, res.Failed(), tc.first)
			} else {
				assert.Equal(t, 1, res.Errors)
				// Failed or not by the share of that one error alone (the
				// threshold itself: TestLoadResultFailed).
				assert.Equal(t, res.ErrorRate() > 0.01, res.Failed() != "", "%d requests", res.Requests+res.Errors)
			}
		})
	}
}

// TestRunLoadGzip: every request asks for gzip, as a browser does, and
// the bytes counted are the compressed ones the server sent: the body is
// read, not decompressed.
func TestRunLoadGzip(t *testing.T) {
	page := strings.Repeat(homePage, 50)
	zpage := gzipped(t, page)
	var plain atomic.Int64
	s := newSite(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			plain.Add(1)
			_, _ = w.Write([]byte(page))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(zpage)
	})
	res, err := runLoad(t.Context(), s.load(2, 200*time.Millisecond))
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	assert.Zero(t, plain.Load(), "every request asks for gzip")
	assert.Zero(t, res.Errors)
	assert.Less(t, len(zpage), len(page))
	assert.EqualValues(t, int64(res.Requests)*int64(len(zpage)), res.Bytes, "the compressed bytes, read to the end")
}

// gzipped is s compressed with gzip.
func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

// TestRunLoadBounded: a server that never answers cannot hold a run past
// its duration and one request timeout; the requests it swallowed are
// errors.
func TestRunLoadBounded(t *testing.T) {
	s := newSite(t, func(_ int64, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	l := s.load(3, 200*time.Millisecond)
	l.Timeout = 300 * time.Millisecond
	start := time.Now()
	res, err := runLoad(t.Context(), l)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 10*time.Second, "bounded by Duration + Timeout, not by the server")
	assert.Zero(t, res.Requests)
	assert.GreaterOrEqual(t, res.Errors, 3, "every worker's request timed out")
	assert.Contains(t, res.Failed(), "100.0%")
	assert.Zero(t, res.RPS)
}

func TestRunLoadCancelled(t *testing.T) {
	s := newSite(t, func(_ int64, w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(homePage))
	})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := runLoad(ctx, s.load(2, time.Minute))
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 30*time.Second)
}

func TestLoadCheck(t *testing.T) {
	tests := []struct {
		name string
		l    loadSpec
		want string
		is   error
	}{
		{"not loopback", loadSpec{URL: "https://benchrt.42.fr/", Addr: "10.0.0.1:443"}, "loopback", ErrNotLoopback},
		{"a name, not an address", loadSpec{URL: "https://benchrt.42.fr/", Addr: "benchrt.42.fr:443"}, "loopback", ErrNotLoopback},
		{"no port", loadSpec{URL: "https://benchrt.42.fr/", Addr: "127.0.0.1"}, "127.0.0.1:PORT", nil},
		{"plain http", loadSpec{URL: "http://benchrt.42.fr/", Addr: "127.0.0.1:80"}, "https://", nil},
		{"no workers", loadSpec{URL: "https://benchrt.42.fr/", Addr: "127.0.0.1:443", Concurrency: -1}, "concurrency", nil},
		{"negative duration", loadSpec{URL: "https://benchrt.42.fr/", Addr: "127.0.0.1:443", Duration: -time.Second}, "positive", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runLoad(t.Context(), tc.l)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
		})
	}
	l := loadSpec{URL: "https://benchrt.42.fr:8443/", Addr: "[::1]:8443"}
	require.NoError(t, l.check(), "IPv6 loopback is loopback")
	assert.Equal(t, 8, l.Concurrency)
	assert.Equal(t, 10*time.Second, l.Duration)
	assert.Equal(t, "benchrt.42.fr", l.TLS.ServerName)
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, percentile(ds, 50))
	assert.Equal(t, 99*time.Millisecond, percentile(ds, 99))
	assert.Equal(t, 100*time.Millisecond, percentile(ds, 100))
	assert.Equal(t, time.Millisecond, percentile(ds[:1], 99))
	assert.Zero(t, percentile(nil, 50))
}
