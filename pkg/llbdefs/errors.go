package llbdefs

import "errors"

var (
	// ErrNoDistro is returned when an image is asked for with the zero
	// Distro, which has no base image and no package manager.
	ErrNoDistro = errors.New("no distro")

	// ErrBaseRef is returned for a base image reference that does not parse
	// or that names no fixed version (no tag, or the tag "latest").
	ErrBaseRef = errors.New("invalid base image reference")

	// ErrMissingFile is returned when a file an image embeds is not in the
	// file set it is built from.
	ErrMissingFile = errors.New("missing embedded file")

	// ErrUnknownImage is returned by Files and FromFiles for an image name
	// llbdefs has no constructor for.
	ErrUnknownImage = errors.New("unknown image")

	// ErrNoExtraPackages is returned for WithExtraPackages or
	// WithExtraPackageStep with no package.
	ErrNoExtraPackages = errors.New("empty extra package list")
)
