package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/core/remotes/docker/config"
	"github.com/distribution/reference"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
)

// ErrReference is returned for an image reference that cannot be pushed
// to or pulled from a registry.
var ErrReference = errors.New("invalid registry reference")

type options struct {
	dockerConfig string
	certsDir     string
}

// Option configures NewResolver.
type Option func(*options)

// WithDockerConfig reads credentials from the docker config directory dir
// ("" means DOCKER_CONFIG, else ~/.docker).
func WithDockerConfig(dir string) Option { return func(o *options) { o.dockerConfig = dir } }

// WithCertsDir reads registries' CA certificates and client key pairs from
// dir, one directory per host (Docker's certs.d layout).
func WithCertsDir(dir string) Option { return func(o *options) { o.certsDir = dir } }

// NewResolver returns a resolver that pushes and pulls with the docker
// config's credentials.
func NewResolver(opts ...Option) (remotes.Resolver, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := o.dockerConfig
	if dir == "" {
		dir = dockerconfig.Dir()
	}
	cf, err := dockerconfig.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("registry credentials: read the docker config in %s: %w", dir, err)
	}
	hostOpts := config.HostOptions{Credentials: credentials(cf)}
	if o.certsDir != "" {
		hostOpts.HostDir = config.HostDirFromRoot(o.certsDir)
	}
	return docker.NewResolver(docker.ResolverOptions{Hosts: config.ConfigureHosts(context.Background(), hostOpts)}), nil
}

// credentials looks host up in the docker config, as the docker CLI does
// (Docker Hub under its historical key).
func credentials(cf *configfile.ConfigFile) func(string) (string, string, error) {
	return func(host string) (string, string, error) {
		key := host
		if host == "registry-1.docker.io" || host == "docker.io" {
			key = "https://index.docker.io/v1/"
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", "", fmt.Errorf("credentials for %s: %w", host, err)
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}
}

// CheckRef accepts a reference that names its registry and a tag or digest,
// and returns it in full.
func CheckRef(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrReference, ref, err)
	}
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "", fmt.Errorf("%w %q: name the registry, e.g. registry.example.com/inception/debian:bookworm", ErrReference, ref)
	}
	if reference.IsNameOnly(named) {
		return "", fmt.Errorf("%w %q: give a tag, e.g. %s:bookworm", ErrReference, ref, ref)
	}
	return named.String(), nil
}
