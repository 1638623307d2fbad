package base

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostMirror(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		wantErr error
	}{
		{
			name: "deb822 picks the stanza with the suite",
			files: map[string]string{"sources.list.d/debian.sources": `Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main
`},
			want: "http://mirror.example/debian",
		},
		{
			name:  "one-line format with options",
			files: map[string]string{"sources.list": "# x\ndeb-src http://src.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main\n"},
			want:  "http://one.example/debian",
		},
		{
			name:    "disabled stanza is ignored",
			files:   map[string]string{"sources.list.d/d.sources": "Types: deb\nEnabled: no\nURIs: http://x.example/debian\nSuites: bookworm\n"},
			wantErr: ErrNoMirror,
		},
		{
			name:    "nothing configured",
			wantErr: ErrNoMirror,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "sources.list.d"), 0o755))
			for p, data := range tc.files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644))
			}
			got, err := hostMirror(dir, "bookworm")
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestCheckMirror(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debian/dists/bookworm/Release" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	ctx := context.Background()
	assert.NoError(t, checkMirror(ctx, srv.URL+"/debian", "bookworm"))
	err := checkMirror(ctx, srv.URL+"/debian", "nosuchsuite")
	assert.ErrorIs(t, err, ErrMirrorUnreachable)
	assert.Contains(t, err.Error(), "404")
	// A closed port answers at once with a refusal.
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	err = checkMirror(ctx, url, "bookworm")
	assert.True(t, errors.Is(err, ErrMirrorUnreachable), "got %v", err)
	assert.Contains(t, err.Error(), "--apt-mirror")
}
