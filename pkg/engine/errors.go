package engine

import "errors"

// Sentinel errors of the engine; match them with errors.Is. Invalid options
// wrap containerd's errdefs.ErrInvalidArgument instead of a parallel sentinel.
var (
	// ErrNotRunning is returned when a daemon the caller needs is not running
	// and the caller asked not to start it, or when an external daemon does
	// not answer.
	ErrNotRunning = errors.New("engine not running")

	// ErrBinaryNotFound is returned by Ensure when the binary of an embedded
	// daemon cannot be found.
	ErrBinaryNotFound = errors.New("daemon binary not found")

	// ErrStartFailed is returned by Ensure when an embedded daemon exits
	// while starting or does not answer before the start timeout.
	ErrStartFailed = errors.New("daemon did not start")

	// ErrConfigChanged is returned by Ensure when an embedded daemon runs
	// with another configuration than the engine's options ask for (another
	// namespace, say): it is not restarted behind the caller's back.
	ErrConfigChanged = errors.New("daemon configuration changed")

	// ErrStopFailed is returned by Stop when a daemon survives SIGKILL.
	ErrStopFailed = errors.New("daemon did not stop")
)
