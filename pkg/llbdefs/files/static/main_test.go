package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This test is not embedded in the image: the image builds main.go alone.

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(handler("site"))
	t.Cleanup(srv.Close)

	tests := []struct {
		name     string
		method   string
		path     string
		wantCode int
		wantBody string
		wantType string
	}{
		{name: "home page", method: http.MethodGet, path: "/", wantCode: http.StatusOK, wantBody: `href="style.css"`, wantType: "text/html"},
		{name: "style sheet", method: http.MethodGet, path: "/style.css", wantCode: http.StatusOK, wantType: "text/css"},
		{name: "head", method: http.MethodHead, path: "/", wantCode: http.StatusOK},
		{name: "missing file", method: http.MethodGet, path: "/nope.html", wantCode: http.StatusNotFound},
		{name: "no escape from the root", method: http.MethodGet, path: "/../main.go", wantCode: http.StatusNotFound},
		{name: "post refused", method: http.MethodPost, path: "/", wantCode: http.StatusMethodNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.wantCode, resp.StatusCode)
			assert.Contains(t, string(body), tc.wantBody)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType), resp.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
}

// TestSiteLinksAreRelative: nginx serves the site at /site/ and strips the
// prefix, so a link from the root (/style.css) would miss.
func TestSiteLinksAreRelative(t *testing.T) {
	srv := httptest.NewServer(handler("site"))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, attr := range []string{`href="/`, `src="/`} {
		assert.NotContains(t, string(body), attr)
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(handler("site"))
	t.Cleanup(ok.Close)
	broken := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(broken.Close)
	port := func(s *httptest.Server) string {
		_, p, err := net.SplitHostPort(s.Listener.Addr().String())
		require.NoError(t, err)
		return p
	}

	require.NoError(t, healthcheck(":"+port(ok)))
	assert.ErrorContains(t, healthcheck(":"+port(broken)), "404")
	assert.Error(t, healthcheck("no-port"))

	closed := httptest.NewServer(http.NotFoundHandler())
	p := port(closed)
	closed.Close()
	assert.Error(t, healthcheck(":"+p), "nobody listens")
}
