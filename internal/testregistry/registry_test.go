package testregistry

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

// The registry starts in both forms and asks for credentials only when told.
func TestStart(t *testing.T) {
	testutil.Integration(t)
	for _, tc := range []struct {
		name   string
		opts   []Option
		scheme string
		status int
	}{
		{"plain", nil, "http://", http.StatusOK},
		{"tls and auth", []Option{WithTLS(), WithAuth("ci", "s3cret")}, "https://", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Start(t, tc.opts...)
			assert.Equal(t, tc.scheme+r.Host, r.URL())
			resp, err := r.HTTPClient().Get(r.URL() + "/v2/")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			if r.User == "" {
				return
			}
			req, err := http.NewRequest(http.MethodGet, r.URL()+"/v2/", nil)
			require.NoError(t, err)
			req.SetBasicAuth(r.User, r.Password)
			resp, err = r.HTTPClient().Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}
