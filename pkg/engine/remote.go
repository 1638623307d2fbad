package engine

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/errdefs"
	bkclient "github.com/moby/buildkit/client"
	// Connection helpers for the builder addresses buildx and CI set-ups
	// make: a buildkitd in a container (docker buildx create, CI actions)
	// and one in a Kubernetes pod (the usual build farm). Registered by
	// import, as buildctl does.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
)

// BuildkitTLS is how to reach a buildkitd over tcp:// with TLS, with
// buildctl's flags: the CA that signed the daemon's certificate, the
// client certificate and key for mutual TLS, the name to check the daemon's
// certificate against, or a directory holding ca.pem, cert.pem and key.pem
// (or ca.crt, tls.crt and tls.key).
type BuildkitTLS struct {
	ServerName string
	CACert     string
	Cert       string
	Key        string
	Dir        string
}

// WithBuildkitTLS sets the TLS files for an external tcp:// buildkitd.
func WithBuildkitTLS(t BuildkitTLS) Option { return func(c *config) { c.buildkitTLS = t } }

func (t BuildkitTLS) empty() bool { return t == BuildkitTLS{} }

// resolve fills CACert, Cert and Key from Dir the way buildctl does.
func (t BuildkitTLS) resolve() (BuildkitTLS, error) {
	if t.Dir == "" {
		return t, nil
	}
	for _, names := range [][3]string{{"ca.pem", "cert.pem", "key.pem"}, {"ca.crt", "tls.crt", "tls.key"}} {
		if _, err := os.Stat(filepath.Join(t.Dir, names[0])); err != nil {
			continue
		}
		set := func(dst *string, name string) {
			if *dst == "" {
				if _, err := os.Stat(filepath.Join(t.Dir, name)); err == nil {
					*dst = filepath.Join(t.Dir, name)
				}
			}
		}
		set(&t.CACert, names[0])
		set(&t.Cert, names[1])
		set(&t.Key, names[2])
		return t, nil
	}
	return t, fmt.Errorf("buildkit TLS directory %s holds neither ca.pem nor ca.crt: %w", t.Dir, errdefs.ErrInvalidArgument)
}

// CheckBuildkitAddress accepts the builder addresses BuildKit's client
// reaches: unix:///path, tcp://host:port (TLS with BuildkitTLS),
// docker-container://NAME and kube-pod://POD[?namespace=NS&context=CTX&container=C].
func CheckBuildkitAddress(addr string) error {
	bad := func(why string) error {
		return fmt.Errorf("buildkit address %q: %s; use unix:///path, tcp://host:port, docker-container://NAME or kube-pod://POD: %w",
			addr, why, errdefs.ErrInvalidArgument)
	}
	u, err := url.Parse(addr)
	if err != nil {
		return bad(err.Error())
	}
	switch u.Scheme {
	case "unix":
		p := u.Path
		if u.Host != "" {
			p = u.Host + u.Path // unix://relative/path
		}
		if !filepath.IsAbs(p) {
			return bad("the socket path is not absolute")
		}
	case "tcp":
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" {
			return bad("give a host and a port")
		}
		if u.Path != "" && u.Path != "/" {
			return bad("a tcp address has no path")
		}
	case "docker-container":
		if u.Host == "" {
			return bad("name the container")
		}
	case "kube-pod":
		if u.Host == "" {
			return bad("name the pod")
		}
		for k := range u.Query() {
			if k != "namespace" && k != "context" && k != "container" {
				return bad(fmt.Sprintf("unknown parameter %q (namespace, context, container)", k))
			}
		}
	case "":
		return bad("no scheme")
	default:
		return bad(fmt.Sprintf("scheme %q is not supported", u.Scheme))
	}
	return nil
}

// BuildkitClient connects to the engine's buildkitd, embedded or external,
// with the TLS files of WithBuildkitTLS.
//
//	bk, err := e.BuildkitClient(ctx)
func (e *Engine) BuildkitClient(ctx context.Context) (*bkclient.Client, error) {
	opts, err := e.buildkitClientOpts()
	if err != nil {
		return nil, err
	}
	c, err := bkclient.New(ctx, e.BuildkitAddress(), opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to buildkitd at %s: %w", e.BuildkitAddress(), err)
	}
	return c, nil
}

func (e *Engine) buildkitClientOpts() ([]bkclient.ClientOpt, error) {
	t, err := e.cfg.buildkitTLS.resolve()
	if err != nil {
		return nil, err
	}
	var opts []bkclient.ClientOpt
	if t.CACert != "" || t.ServerName != "" {
		name := t.ServerName
		if name == "" {
			if u, err := url.Parse(e.BuildkitAddress()); err == nil {
				name = u.Hostname()
			}
		}
		if t.CACert != "" {
			opts = append(opts, bkclient.WithServerConfig(name, t.CACert))
		} else {
			opts = append(opts, bkclient.WithServerConfigSystem(name))
		}
	}
	if t.Cert != "" || t.Key != "" {
		if t.Cert == "" || t.Key == "" {
			return nil, fmt.Errorf("buildkit TLS: a client certificate needs both --tlscert and --tlskey: %w", errdefs.ErrInvalidArgument)
		}
		opts = append(opts, bkclient.WithCredentials(t.Cert, t.Key))
	}
	return opts, nil
}

// validateRemote checks the external buildkit address and its TLS files.
func (c *config) validateRemote() error {
	if c.buildkitAddress == "" {
		if !c.buildkitTLS.empty() {
			return fmt.Errorf("buildkit TLS files given without an external buildkitd: pass --buildkit-addr tcp://HOST:PORT too: %w", errdefs.ErrInvalidArgument)
		}
		return nil
	}
	if err := CheckBuildkitAddress(c.buildkitAddress); err != nil {
		return err
	}
	if !c.buildkitTLS.empty() && !strings.HasPrefix(c.buildkitAddress, "tcp://") {
		return fmt.Errorf("buildkit TLS files apply to tcp:// addresses only, not %q: %w", c.buildkitAddress, errdefs.ErrInvalidArgument)
	}
	t, err := c.buildkitTLS.resolve()
	if err != nil {
		return err
	}
	for _, f := range []string{t.CACert, t.Cert, t.Key} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("buildkit TLS file: %w: %w", err, errdefs.ErrInvalidArgument)
		}
	}
	if (t.Cert == "") != (t.Key == "") {
		return fmt.Errorf("buildkit TLS: a client certificate needs both --tlscert and --tlskey: %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// externalBuildkitVersion asks the external buildkitd for its version.
func (e *Engine) externalBuildkitVersion(ctx context.Context, address string) (string, error) {
	if err := socketExists(address); err != nil {
		return "", err
	}
	c, err := e.BuildkitClient(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return infoVersion(ctx, c)
}

// SharesStore reports whether the engine's buildkitd exports into the
// engine's image store: the embedded one always does, an external one when
// it has a containerd worker in the engine's namespace (on this machine's
// containerd). A builder that does not (an OCI worker, a pod) builds for a
// registry only.
func (e *Engine) SharesStore(ctx context.Context, c *bkclient.Client) (bool, error) {
	if !e.buildkitExternal() {
		return true, nil
	}
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return false, fmt.Errorf("list the workers of buildkitd at %s: %w", e.BuildkitAddress(), err)
	}
	err = checkWorkers(workers, e.cfg.namespace)
	return err == nil, nil
}
