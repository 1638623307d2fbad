package daemons

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/inceptionctl/inception/internal/freeport"
)

// RegistryBinary is where Debian's docker-registry package installs the
// registry.
const RegistryBinary = "/usr/bin/docker-registry"

// RegistryConfig describes one registry.
type RegistryConfig struct {
	// Binary is the registry (default: FindRegistry).
	Binary string
	// Dir holds the instance's config, storage and log; it must exist.
	Dir string
	// TLSCert and TLSKey serve HTTPS with this key pair (default: plain
	// HTTP); RootCAs is what the readiness probe trusts then.
	TLSCert, TLSKey string
	RootCAs         *x509.CertPool
	// Htpasswd asks for HTTP basic authentication against this file.
	Htpasswd string
}

// Registry is one running registry.
type Registry struct {
	Host string // 127.0.0.1:PORT, the registry part of image references
	Dir  string
	Log  string // the registry's output
	tls  bool
	proc *Process
}

// FindRegistry finds docker-registry: Debian's path, else PATH.
func FindRegistry() (string, error) {
	if _, err := os.Stat(RegistryBinary); err == nil {
		return RegistryBinary, nil
	}
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: docker-registry: install Debian's docker-registry package (`scripts/deps.sh packages test`)", ErrNoBinary)
}

// StartRegistry writes the registry's config into c.Dir (storage in
// c.Dir/storage, deletes allowed), starts it on a free port of 127.0.0.1
// and waits until /v2/ answers. Stop it with Stop.
//
//	reg, err := daemons.StartRegistry(ctx, daemons.RegistryConfig{Dir: dir})
func StartRegistry(ctx context.Context, c RegistryConfig) (*Registry, error) {
	if c.Binary == "" {
		bin, err := FindRegistry()
		if err != nil {
			return nil, err
		}
		c.Binary = bin
	}
	if !filepath.IsAbs(c.Dir) {
		return nil, fmt.Errorf("registry directory %q: give an absolute path", c.Dir)
	}
	port, err := freeport.Port()
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: c.Dir, Log: filepath.Join(c.Dir, "registry.log"), tls: c.TLSCert != ""}
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
`, filepath.Join(c.Dir, "storage"), r.Host)
	if r.tls {
		cfg += fmt.Sprintf("  tls:\n    certificate: %q\n    key: %q\n", c.TLSCert, c.TLSKey)
	}
	if c.Htpasswd != "" {
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: inception\n    path: %q\n", c.Htpasswd)
	}
	cfgPath := filepath.Join(c.Dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("registry config: %w", err)
	}
	if r.proc, err = Start(r.Log, c.Binary, "serve", cfgPath); err != nil {
		return nil, err
	}
	if err := r.wait(ctx, c.RootCAs, 30*time.Second); err != nil {
		r.Stop()
		log, _ := os.ReadFile(r.Log)
		return nil, fmt.Errorf("%w: registry on %s: %w\n%s", ErrNotReady, r.Host, err, log)
	}
	return r, nil
}

// URL is the registry's base URL, http:// or https://.
func (r *Registry) URL() string {
	if r.tls {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// Stop stops the registry (SIGTERM, SIGKILL after 10 s). Its files stay.
func (r *Registry) Stop() { r.proc.Stop(10 * time.Second) }

// wait polls /v2/ until the registry answers: 200, or 401 when it asks
// for credentials.
func (r *Registry) wait(ctx context.Context, roots *x509.CertPool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	defer hc.CloseIdleConnections()
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
		case <-r.proc.Exited():
			return fmt.Errorf("the registry exited (last: %w)", last)
		case <-ctx.Done():
			return fmt.Errorf("no answer on /v2/ within %s: %w", timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
