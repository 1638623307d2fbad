package llbdefs

import (
	"fmt"

	"github.com/distribution/reference"
)

// Option changes how an image is built.
type Option func(*config)

// config is what the options set: validated once by newConfig, then read by
// the image constructors.
type config struct {
	distro Distro
	base   string         // base image reference; the distro's when empty
	extra  *extraPackages // WithExtraPackages, WithExtraPackageStep
}

// WithDistro builds the image on d instead of Debian bookworm.
func WithDistro(d Distro) Option {
	return func(c *config) { c.distro = d }
}

// WithBase takes the base image from ref instead of the distro's default
// reference, e.g. a digest-pinned copy of the same release. The base must
// be of the distro's family: the package manager and paths come from the
// distro, not from the image.
func WithBase(ref string) Option {
	return func(c *config) { c.base = ref }
}

// newConfig applies the defaults, then opts, then checks the result.
func newConfig(opts []Option) (config, error) {
	c := config{distro: DefaultDistro()}
	for _, o := range opts {
		o(&c)
	}
	if c.distro.family == "" {
		return config{}, fmt.Errorf("%w: pass llbdefs.WithDistro(llbdefs.Debian()) or leave the option out", ErrNoDistro)
	}
	if c.extra != nil && len(c.extra.pkgs) == 0 {
		return config{}, fmt.Errorf("%w: name at least one package", ErrNoExtraPackages)
	}
	c.distro.extra = c.extra
	if c.base == "" {
		c.base = c.distro.ref
	}
	ref, err := checkBaseRef(c.base)
	if err != nil {
		return config{}, err
	}
	c.base = ref
	// The image's installs fetch their package lists from the same base.
	c.distro.ref = ref
	return c, nil
}

// BaseRef is the base image an image built with opts starts from, in
// full: the distro's default reference, or WithBase's. A caller that must
// keep the base (a benchmark that prunes the build cache) asks here rather
// than naming it again.
//
//	ref, err := llbdefs.BaseRef(llbdefs.WithDistro(llbdefs.Alpine()))
func BaseRef(opts ...Option) (string, error) {
	c, err := newConfig(opts)
	if err != nil {
		return "", err
	}
	return c.base, nil
}

// checkBaseRef accepts a reference only when it pins a release: a tag other
// than "latest", or a digest. llb.Image would quietly add ":latest" to a bare
// name. It returns the reference in full ("debian:bookworm" becomes
// "docker.io/library/debian:bookworm"), as the source op and the labels
// spell it.
func checkBaseRef(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("%w %q: %w", ErrBaseRef, ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return named.String(), nil
	}
	tagged, ok := named.(reference.Tagged)
	if !ok || tagged.Tag() == "latest" {
		return "", fmt.Errorf("%w %q: name a release tag or a digest, e.g. %s (or run `inceptionctl base`)", ErrBaseRef, ref, DebianRef)
	}
	return named.String(), nil
}
