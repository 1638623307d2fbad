// Package testregistry runs Debian's docker-registry (distribution 2.8, the
// registry BuildKit's own integration tests use) on 127.0.0.1 for one test:
// storage in a temporary directory, a free port, plain HTTP or TLS with a CA
// the test makes, optionally with htpasswd authentication. scripts/deps.sh
// installs the package; the instance stops when the test ends.
//
//	reg := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithAuth("ci", "secret"))
//	ref := reg.Host + "/inception/nginx:bookworm"
package testregistry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inceptionctl/inception/internal/daemons"
	"github.com/inceptionctl/inception/internal/testutil"
)

// Registry is one running registry.
type Registry struct {
	Host     string // 127.0.0.1:PORT, the registry part of image references
	Dir      string // the instance's files: config, storage, certificates, log
	CA       *CA    // the CA that signed the server certificate (TLS only)
	CAFile   string // CA certificate, PEM (TLS only)
	User     string // htpasswd user (WithAuth only)
	Password string
}

type config struct {
	tls            bool
	user, password string
}

// Option configures Start.
type Option func(*config)

// WithTLS serves HTTPS with a server certificate signed by a fresh CA
// (Registry.CA, Registry.CAFile).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithAuth asks for HTTP basic authentication as user with password
// (htpasswd, bcrypt).
func WithAuth(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// Binary is where Debian's package installs the registry.
const Binary = daemons.RegistryBinary

// Start runs a registry until the test ends (internal/daemons'
// StartRegistry, tied to the test). Without the docker-registry package it
// skips the test (fails under CI=true).
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	bin, err := daemons.FindRegistry()
	if err != nil {
		testutil.Skip(t, "no docker-registry: run `make deps` (Debian package docker-registry)")
	}
	dir := t.TempDir()
	r := &Registry{Dir: dir, User: c.user, Password: c.password}
	dc := daemons.RegistryConfig{Binary: bin, Dir: dir}
	if c.tls {
		ca, err := NewCA("inception test registry CA")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := ca.Server()
		if err != nil {
			t.Fatal(err)
		}
		if dc.TLSCert, dc.TLSKey, err = srv.Write(dir, "server"); err != nil {
			t.Fatal(err)
		}
		r.CA, r.CAFile = ca, filepath.Join(dir, "ca.crt")
		if err := os.WriteFile(r.CAFile, ca.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		dc.RootCAs = x509.NewCertPool()
		dc.RootCAs.AddCert(ca.Cert)
	}
	if c.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(c.password), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		dc.Htpasswd = filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(dc.Htpasswd, []byte(c.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := daemons.StartRegistry(t.Context(), dc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	r.Host = d.Host
	return r
}

// URL is the registry's base URL (http:// or https://).
func (r *Registry) URL() string {
	if r.CA != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// HTTPClient trusts the registry's CA.
func (r *Registry) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if r.CA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(r.CA.Cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// DockerConfig writes a docker config directory (what DOCKER_CONFIG names)
// holding user and password for this registry, and returns it.
func (r *Registry) DockerConfig(t testing.TB, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	dt, err := json.Marshal(map[string]any{"auths": map[string]any{r.Host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), dt, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
