package daemons

import "errors"

var (
	// ErrNoBinary is returned when a daemon's binary is not installed.
	ErrNoBinary = errors.New("daemon binary not found")

	// ErrNotReady is returned when a daemon exited, or did not answer in
	// time, after it was started.
	ErrNotReady = errors.New("daemon not ready")
)
