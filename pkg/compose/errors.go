package compose

import "errors"

// Sentinel errors; callers test them with errors.Is.
var (
	// ErrUnsupported is wrapped by the error for a compose key that the
	// runtime cannot honour.
	ErrUnsupported = errors.New("not supported")
	// ErrInvalid is wrapped by the error for a value the runtime cannot
	// use (a cycle in depends_on, a bad address, a missing file).
	ErrInvalid = errors.New("invalid compose file")
	// ErrNoFile is returned when no compose file was named and none is
	// in the working directory.
	ErrNoFile = errors.New("no compose file")
)
