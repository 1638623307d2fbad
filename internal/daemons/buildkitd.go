package daemons

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bkclient "github.com/moby/buildkit/client"
)

// BuildkitdConfig describes one buildkitd with the OCI worker: a builder
// that shares nothing with the engine (no containerd), as a CI runner's
// or a builder pod's. Base images and results travel through registries.
type BuildkitdConfig struct {
	// Binary is buildkitd; it must be set (the engine's is
	// engine.Engine.BuildkitdBinary).
	Binary string
	// Dir holds the state (Dir/root), config and log; it must exist, on a
	// file system overlayfs works on (not tmpfs).
	Dir string
	// Address is where it listens: unix://PATH (default:
	// unix://Dir/buildkitd.sock) or tcp://127.0.0.1:PORT with TLS.
	Address string
	// TLS, for a tcp:// address: the server's key pair and the CA its
	// clients' certificates are checked against; ClientCert and ClientKey
	// are the readiness probe's (and Client's) key pair.
	TLS *BuildkitdTLS
	// RegistryCAs makes the builder trust a CA file per registry host.
	RegistryCAs map[string]string
}

// BuildkitdTLS is a tcp:// buildkitd's mutual TLS: the CA, the server's and
// a client's key pair, as files.
type BuildkitdTLS struct {
	CA                    string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// Buildkitd is one running builder.
type Buildkitd struct {
	Address string
	Dir     string
	Log     string
	tls     *BuildkitdTLS
	proc    *Process
}

// maxSocketPath is the longest unix socket path Linux takes.
const maxSocketPath = 107

// StartBuildkitd writes the builder's config into c.Dir, starts it and
// waits until it lists its OCI worker. Stop it with Stop; its state stays
// in c.Dir until the caller removes it.
//
//	bk, err := daemons.StartBuildkitd(ctx, daemons.BuildkitdConfig{Binary: bin, Dir: dir})
func StartBuildkitd(ctx context.Context, c BuildkitdConfig) (*Buildkitd, error) {
	switch {
	case c.Binary == "":
		return nil, fmt.Errorf("%w: buildkitd: run `make deps`, or give its path", ErrNoBinary)
	case !filepath.IsAbs(c.Dir):
		return nil, fmt.Errorf("buildkitd directory %q: give an absolute path", c.Dir)
	}
	if c.Address == "" {
		c.Address = "unix://" + filepath.Join(c.Dir, "buildkitd.sock")
	}
	switch {
	case strings.HasPrefix(c.Address, "unix://"):
		if p := strings.TrimPrefix(c.Address, "unix://"); len(p) > maxSocketPath {
			return nil, fmt.Errorf("buildkitd socket %s is longer than %d bytes: use a shorter directory", p, maxSocketPath)
		}
	case strings.HasPrefix(c.Address, "tcp://"):
		if c.TLS == nil {
			return nil, errors.New("buildkitd on tcp:// without TLS: give BuildkitdConfig.TLS, or a unix:// address")
		}
	default:
		return nil, fmt.Errorf("buildkitd address %q: use unix://PATH or tcp://HOST:PORT", c.Address)
	}
	b := &Buildkitd{Address: c.Address, Dir: c.Dir, Log: filepath.Join(c.Dir, "buildkitd.log"), tls: c.TLS}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "root = %q\n\n[grpc]\n  address = [%q]\n", filepath.Join(c.Dir, "root"), c.Address)
	if c.TLS != nil {
		fmt.Fprintf(&cfg, "  [grpc.tls]\n    cert = %q\n    key = %q\n    ca = %q\n", c.TLS.ServerCert, c.TLS.ServerKey, c.TLS.CA)
	}
	fmt.Fprintf(&cfg, "\n[otel]\n  socketPath = %q\n\n", filepath.Join(c.Dir, "otel.sock"))
	// No garbage collection: a run must not lose what it just built.
	cfg.WriteString("[worker.oci]\n  enabled = true\n  snapshotter = \"overlayfs\"\n  networkMode = \"host\"\n  gc = false\n\n[worker.containerd]\n  enabled = false\n")
	for _, host := range slices.Sorted(maps.Keys(c.RegistryCAs)) {
		fmt.Fprintf(&cfg, "\n[registry.%q]\n  ca = [%q]\n", host, c.RegistryCAs[host])
	}
	cfgPath := filepath.Join(c.Dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return nil, fmt.Errorf("buildkitd config: %w", err)
	}
	var err error
	if b.proc, err = Start(b.Log, c.Binary, "--config", cfgPath); err != nil {
		return nil, err
	}
	if err := b.wait(ctx, 60*time.Second); err != nil {
		b.Stop()
		log, _ := os.ReadFile(b.Log)
		return nil, fmt.Errorf("%w: buildkitd on %s: %w\n%s", ErrNotReady, b.Address, err, log)
	}
	return b, nil
}

// Client connects to the builder (with the client key pair over TCP).
func (b *Buildkitd) Client(ctx context.Context) (*bkclient.Client, error) {
	var opts []bkclient.ClientOpt
	if b.tls != nil {
		opts = append(opts, bkclient.WithServerConfig("127.0.0.1", b.tls.CA), bkclient.WithCredentials(b.tls.ClientCert, b.tls.ClientKey))
	}
	return bkclient.New(ctx, b.Address, opts...)
}

// Stop stops the builder: SIGTERM, SIGKILL after 30 s.
func (b *Buildkitd) Stop() { b.proc.Stop(30 * time.Second) }

// wait polls until the builder lists a worker.
func (b *Buildkitd) wait(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
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
				return errors.New("no workers yet")
			}
			return nil
		}()
		if last == nil {
			return nil
		}
		select {
		case <-b.proc.Exited():
			return fmt.Errorf("buildkitd exited (last: %w)", last)
		case <-ctx.Done():
			return fmt.Errorf("not ready within %s: %w", timeout, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
