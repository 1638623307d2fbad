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
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	bkclient "github.com/moby/buildkit/client"

	"github.com/inceptionctl/inception/internal/daemons"
	"github.com/inceptionctl/inception/internal/freeport"
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
	port, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after the daemon has stopped.
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	d, err := daemons.StartBuildkitd(t.Context(), daemons.BuildkitdConfig{
		Binary:  bin,
		Dir:     dir,
		Address: "tcp://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		TLS: &daemons.BuildkitdTLS{CA: caFile, ServerCert: srvCert, ServerKey: srvKey,
			ClientCert: cliCert, ClientKey: cliKey},
		RegistryCAs: c.cas,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return &Buildkitd{
		Address: d.Address,
		TLS:     engine.BuildkitTLS{CACert: caFile, Cert: cliCert, Key: cliKey},
		Dir:     dir,
	}
}

// Client connects with the test's client certificate.
func (b *Buildkitd) Client(ctx context.Context) (*bkclient.Client, error) {
	return bkclient.New(ctx, b.Address,
		bkclient.WithServerConfig("127.0.0.1", b.TLS.CACert),
		bkclient.WithCredentials(b.TLS.Cert, b.TLS.Key))
}
