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
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inceptionctl/inception/internal/testdaemon"
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
const Binary = "/usr/bin/docker-registry"

// Start runs a registry until the test ends. Without the docker-registry
// package it skips the test (fails under CI=true).
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		if p, lerr := exec.LookPath("docker-registry"); lerr == nil {
			bin = p
		} else {
			testutil.Skip(t, "no docker-registry: run `make deps` (Debian package docker-registry)")
		}
	}
	dir := t.TempDir()
	r := &Registry{Dir: dir, User: c.user, Password: c.password}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %q
`, filepath.Join(dir, "storage"), r.Host)
	if c.tls {
		ca, err := NewCA("inception test registry CA")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := ca.Server()
		if err != nil {
			t.Fatal(err)
		}
		cert, key, err := srv.Write(dir, "server")
		if err != nil {
			t.Fatal(err)
		}
		r.CA, r.CAFile = ca, filepath.Join(dir, "ca.crt")
		if err := os.WriteFile(r.CAFile, ca.CertPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("  tls:\n    certificate: %q\n    key: %q\n", cert, key)
	}
	if c.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(c.password), bcrypt.DefaultCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(c.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: inception-test\n    path: %q\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "registry.log")
	exited := testdaemon.Start(t, logPath, 10*time.Second, bin, "serve", cfgPath)
	if err := r.wait(exited, 30*time.Second); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("registry on %s: %v\n%s", r.Host, err, log)
	}
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

// wait polls /v2/ until the registry answers: 200, or 401 when it asks for
// credentials.
func (r *Registry) wait(exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	hc := r.HTTPClient()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL()+"/v2/", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		last = err
		select {
		case <-exited:
			return errors.New("the registry exited")
		case <-ctx.Done():
			return fmt.Errorf("no answer on /v2/ within %s: %w", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
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

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
