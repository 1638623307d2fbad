// Package testbuildkitd runs a second buildkitd for one test: a builder
// that shares nothing with the engine, as a CI service container or a
// builder pod would: the OCI worker (no containerd), its own state
// directory, reached over TCP on 127.0.0.1 with mutual TLS, certificates
// made by the test. Base images and results travel through registries only.
//
//	bk := testbuildkitd.Start(t, testbuildkitd.WithRegistryCA(reg.Host, reg.CAFile))
//	e, _ := engine.New(engine.WithBuildkitAddress(bk.Address), engine.WithBuildkitTLS(bk.TLS))
package testbuildkitd

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"

	"github.com/inceptionctl/inception/internal/testdaemon"
	"github.com/inceptionctl/inception/internal/testregistry"
	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/engine"
)

// Buildkitd is one running builder.
type Buildkitd struct {
	Address string             // tcp://127.0.0.1:PORT
	TLS     engine.BuildkitTLS // the client's CA, certificate and key
	Dir     string
}

type config struct {
	cas map[string]string // registry host -> CA file
}

// Option configures Start.
type Option func(*config)

// WithRegistryCA makes the builder trust caFile for the registry at host.
func WithRegistryCA(host, caFile string) Option {
	return func(c *config) { c.cas[host] = caFile }
}

// Start runs buildkitd (the binary INCEPTION_BUILDKITD names, else
// buildkitd on PATH) until the test ends.
func Start(t testing.TB, opts ...Option) *Buildkitd {
	t.Helper()
	c := config{cas: map[string]string{}}
	for _, o := range opts {
		o(&c)
	}
	bin := os.Getenv("INCEPTION_BUILDKITD")
	if bin == "" {
		p, err := exec.LookPath("buildkitd")
		if err != nil {
			testutil.Skip(t, "no buildkitd: run `make deps` and set INCEPTION_BUILDKITD (make test does)")
		}
		bin = p
	}
	// Under /var/lib, not /tmp: the OCI worker's overlayfs snapshots want
	// a real file system.
	dir, err := os.MkdirTemp("/var/lib", "inception-testbuildkitd-")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := testregistry.NewCA("inception test buildkitd CA")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Server()
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.Client()
	if err != nil {
		t.Fatal(err)
	}
	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(certs, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	srvCert, srvKey, err := srv.Write(certs, "server")
	if err != nil {
		t.Fatal(err)
	}
	cliCert, cliKey, err := cli.Write(certs, "client")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	b := &Buildkitd{
		Address: "tcp://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		TLS:     engine.BuildkitTLS{CACert: caFile, Cert: cliCert, Key: cliKey},
		Dir:     dir,
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "root = %q\n\n[grpc]\n  address = [%q]\n  [grpc.tls]\n    cert = %q\n    key = %q\n    ca = %q\n\n",
		filepath.Join(dir, "root"), b.Address, srvCert, srvKey, caFile)
	fmt.Fprintf(&cfg, "[otel]\n  socketPath = %q\n\n", filepath.Join(dir, "otel.sock"))
	cfg.WriteString("[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n  networkMode = \"host\"\n  gc = false\n\n[worker.containerd]\n  enabled = false\n")
	for host, f := range c.cas {
		fmt.Fprintf(&cfg, "\n[registry.%q]\n  ca = [%q]\n", host, f)
	}
	cfgPath := filepath.Join(dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after the daemon has stopped.
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	logPath := filepath.Join(dir, "buildkitd.log")
	exited := testdaemon.Start(t, logPath, 30*time.Second, bin, "--config", cfgPath)
	if err := b.wait(exited, 60*time.Second); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("buildkitd on %s: %v\n%s", b.Address, err, log)
	}
	return b
}

// Client connects with the test's client certificate.
func (b *Buildkitd) Client(ctx context.Context) (*bkclient.Client, error) {
	return bkclient.New(ctx, b.Address,
		bkclient.WithServerConfig("127.0.0.1", b.TLS.CACert),
		bkclient.WithCredentials(b.TLS.Cert, b.TLS.Key))
}

// wait polls until the builder lists its OCI worker.
func (b *Buildkitd) wait(exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		last = func() error {
			c, err := b.Client(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			qctx, qcancel := context.WithTimeout(ctx, 2*time.Second)
			defer qcancel()
			ws, err := c.ListWorkers(qctx)
			if err != nil {
				return err
			}
			if len(ws) == 0 {
				return fmt.Errorf("no workers yet")
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("buildkitd exited")
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
