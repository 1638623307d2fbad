package bench

import "errors"

var (
	// ErrUnknownImage is returned for an image the stack does not have.
	ErrUnknownImage = errors.New("unknown image")

	// ErrEmptyPlan is returned when the images and scenarios asked for
	// leave nothing to measure.
	ErrEmptyPlan = errors.New("nothing to measure")

	// ErrBaseMissing is returned when the base image is gone from the
	// image store after the build cache was pruned: a cold build would
	// then measure the base import too.
	ErrBaseMissing = errors.New("base image missing after prune")

	// ErrNotRestored is returned when the build after a change was undone
	// ran vertices: the next measurement would not start from the same
	// cache state.
	ErrNotRestored = errors.New("cache state not restored")

	// ErrFigureFailed is returned when a run-time figure could not be
	// measured cleanly: an HTTPS run with more than 1% errors.
	ErrFigureFailed = errors.New("run-time figure failed")

	// ErrNoComposePeer is returned when the compose variant is asked for
	// without a private dockerd to build on.
	ErrNoComposePeer = errors.New("compose variant without docker compose")

	// ErrNotLoopback is returned for a load address that is not on the
	// loopback interface: the load generator never leaves the host.
	ErrNotLoopback = errors.New("not a loopback address")
)
