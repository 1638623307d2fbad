package bench

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inceptionctl/inception/pkg/bench/report"
)

// loadSpec is one bounded run of the HTTPS load generator: Concurrency
// workers, each with its own keep-alive connection, GET URL back to back
// for Duration. Connections go to Addr whatever URL's host says, so the
// request carries the site's name (SNI and Host) while only the loopback
// address is ever dialled.
type loadSpec struct {
	// URL is the page requested, e.g. https://benchrt.42.fr:43121/.
	URL string
	// Addr is the loopback host:port every connection goes to.
	Addr string
	// Concurrency is the number of workers, each with one request in
	// flight at a time (default 8).
	Concurrency int
	// Duration bounds the run: no request starts after it (default 10 s).
	Duration time.Duration
	// Timeout bounds one request, body included (default 10 s): a run
	// ends at most Timeout after Duration.
	Timeout time.Duration
	// TLS is the client's TLS configuration (default: the site's name in
	// SNI, no certificate check: the stack's certificate is self-signed).
	TLS *tls.Config
	// Header is sent with every request (a logged-in user's cookies).
	Header http.Header
	// Unique, when set, makes every request ask for a page of its own, a
	// path under URL that no request asked for before: URL + Unique + "-"
	// + a counter + "/" (pages a cache cannot have).
	Unique string
	// Query, when set, makes every request ask for a page of its own by
	// its query string: URL + "?" + Query + a counter, e.g. "s=fault-" for
	// a search WordPress renders in full (nginx's page cache stores no
	// page with a query).
	Query string
	// Status is the status a success answers with (default 200).
	Status int

	// stop, when closed, ends the run before Duration: no request starts
	// after it, those under way finish.
	stop <-chan struct{}
	// answered, when set, is called after every request that was not cut
	// by the caller's context, with when it began and ended and its error
	// (nil for a success). The workers call it at the same time.
	answered func(start, end time.Time, err error)
}

// check fills in the defaults and validates the run.
func (l *loadSpec) check() error {
	if l.Concurrency == 0 {
		l.Concurrency = 8
	}
	if l.Duration == 0 {
		l.Duration = 10 * time.Second
	}
	if l.Timeout == 0 {
		l.Timeout = 10 * time.Second
	}
	if l.Status == 0 {
		l.Status = http.StatusOK
	}
	switch {
	case l.Concurrency < 1:
		return fmt.Errorf("load concurrency %d: use at least 1", l.Concurrency)
	case l.Duration < 0 || l.Timeout < 0:
		return fmt.Errorf("load duration %v, timeout %v: give positive durations", l.Duration, l.Timeout)
	}
	u, err := url.Parse(l.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("load URL %q: give an https:// URL", l.URL)
	}
	if l.Unique != "" && (!strings.HasSuffix(l.URL, "/") || strings.ContainsAny(l.Unique, "/?#% ")) {
		return fmt.Errorf("load URL %q with unique pages %q: give a URL ending in / and a name without / ? # %% or spaces", l.URL, l.Unique)
	}
	if l.Query != "" && (l.Unique != "" || strings.ContainsAny(l.URL, "?#") || strings.ContainsAny(l.Query, "/?#&% ")) {
		return fmt.Errorf("load URL %q with unique queries %q: give a URL without a query, no unique pages, and a query such as s=fault- (no / ? # & %% or spaces)", l.URL, l.Query)
	}
	host, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return fmt.Errorf("load address %q: give 127.0.0.1:PORT: %w", l.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: load address %q: give 127.0.0.1:PORT", ErrNotLoopback, l.Addr)
	}
	if l.TLS == nil {
		l.TLS = &tls.Config{
			ServerName: u.Hostname(),
			MinVersion: tls.VersionTLS12,
			// The stack's certificate is self-signed, made by nginx at its
			// first start: there is nothing to verify it against, and the
			// connection never leaves the loopback interface.
			InsecureSkipVerify: true, //nolint:gosec // self-signed, loopback only
		}
	}
	return nil
}

// client is the HTTP client of a load run: keep-alive, at most one idle
// connection per worker, every connection to l.Addr, no redirects
// followed. HTTP/1.1, as wrk speaks it: a custom dialer and TLS config
// leave HTTP/2 off. Compression is left to get, which asks for gzip and
// reads the compressed bytes as they come, as a browser's network does
// and as wrk does: decompressing every page here would take CPU from the
// stack under test on the same machine.
func (l *loadSpec) client() *http.Client {
	d := &net.Dialer{Timeout: l.Timeout}
	return &http.Client{
		Timeout: l.Timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, l.Addr)
			},
			TLSClientConfig:     l.TLS,
			MaxIdleConns:        l.Concurrency,
			MaxIdleConnsPerHost: l.Concurrency,
			MaxConnsPerHost:     l.Concurrency,
			IdleConnTimeout:     l.Timeout,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// runLoad runs l and returns what it measured. It returns an error only
// when l is invalid or ctx ends before the run is over; errors of the
// requests themselves are counted in the result (see report.LoadResult.Failed).
//
//	res, err := bench.runLoad(ctx, bench.loadSpec{URL: "https://benchrt.42.fr:43121/", Addr: "127.0.0.1:43121"})
func runLoad(ctx context.Context, l loadSpec) (report.LoadResult, error) {
	if err := l.check(); err != nil {
		return report.LoadResult{}, err
	}
	c := l.client()
	defer c.CloseIdleConnections()

	type worker struct {
		ok, errs   int
		bytes      int64
		latencies  []time.Duration
		firstError string
		firstAt    time.Time
	}
	workers := make([]worker, l.Concurrency)
	start := time.Now()
	deadline := start.Add(l.Duration)
	var wg sync.WaitGroup
	var next atomic.Int64
	for i := range workers {
		w := &workers[i]
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && !stopped(l.stop) {
				u := l.URL
				switch {
				case l.Unique != "":
					u += l.Unique + "-" + strconv.FormatInt(next.Add(1), 10) + "/"
				case l.Query != "":
					u += "?" + l.Query + strconv.FormatInt(next.Add(1), 10)
				}
				t0 := time.Now()
				n, err := get(ctx, c, u, l.Header, l.Status)
				if ctx.Err() != nil {
					return // cut short by the caller: neither success nor error
				}
				if l.answered != nil {
					l.answered(t0, time.Now(), err)
				}
				if err != nil {
					w.errs++
					if w.firstError == "" {
						w.firstError, w.firstAt = err.Error(), t0
					}
					continue
				}
				w.ok++
				w.bytes += n
				w.latencies = append(w.latencies, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return report.LoadResult{}, fmt.Errorf("load run: %w", err)
	}

	res := report.LoadResult{Seconds: elapsed.Seconds(), Concurrency: l.Concurrency}
	var lat []time.Duration
	var firstAt time.Time
	for _, w := range workers {
		res.Requests += w.ok
		res.Errors += w.errs
		res.Bytes += w.bytes
		lat = append(lat, w.latencies...)
		if w.firstError != "" && (firstAt.IsZero() || w.firstAt.Before(firstAt)) {
			res.FirstError, firstAt = w.firstError, w.firstAt
		}
	}
	if elapsed > 0 {
		res.RPS = float64(res.Requests) / elapsed.Seconds()
	}
	slices.Sort(lat)
	res.P50ms = ms(percentile(lat, 50))
	res.P99ms = ms(percentile(lat, 99))
	return res, nil
}

// stopped reports whether stop is closed; never for a nil stop.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// get requests u once with header h, asking for gzip as browsers do, and
// reads the whole body without decompressing it: the count returned is
// the bytes on the wire. A status other than status is an error.
func get(ctx context.Context, c *http.Client, u string, h http.Header, status int) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		return 0, fmt.Errorf("status %s%s", resp.Status, pageTitle(decoded(resp)))
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, fmt.Errorf("read body: %w", err)
	}
	return n, nil
}

// decoded is resp's body as a reader of plain bytes: gunzipped when the
// server compressed it (the transport leaves that to the caller), else as
// it came. A body that is not the gzip it claims reads as empty.
func decoded(resp *http.Response) io.Reader {
	if !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return resp.Body
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		return strings.NewReader("")
	}
	return zr
}

// pageTitle returns `, page "<title>"` for an HTML error page with a
// title (WordPress's database error page says which error it is), else
// nothing: what an error's status alone does not tell.
func pageTitle(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	s := string(b)
	i := strings.Index(strings.ToLower(s), "<title>")
	if i < 0 {
		return ""
	}
	s = s[i+len("<title>"):]
	j := strings.Index(strings.ToLower(s), "</title>")
	if j < 0 {
		return ""
	}
	t := strings.Join(strings.Fields(s[:j]), " ")
	if t == "" {
		return ""
	}
	if len(t) > 80 {
		t = t[:80]
	}
	return fmt.Sprintf(", page %q", t)
}

// getBody requests u once and returns the body of a 200.
func getBody(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<22))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return string(body), err
}

// percentile is the nearest-rank p-th percentile of sorted; 0 when empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
