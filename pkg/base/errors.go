package base

import "errors"

var (
	// ErrNoMirror means no Debian mirror was given and none is configured in
	// the host's apt sources.
	ErrNoMirror = errors.New("no Debian mirror: pass --apt-mirror URL (for example the URI in /etc/apt/sources.list.d/debian.sources)")
	// ErrMirrorUnreachable means the mirror did not serve the suite's Release file.
	ErrMirrorUnreachable = errors.New("the Debian mirror did not answer")
	// ErrBootstrap means mmdebstrap could not make the root filesystem.
	ErrBootstrap = errors.New("bootstrap failed")
)
