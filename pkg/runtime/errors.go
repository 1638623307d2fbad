package runtime

import "errors"

// Sentinel errors of the runtime; match them with errors.Is. A stack that
// fails validation also wraps stack.ErrInvalid, and containerd's errdefs
// sentinels are wrapped as they come, never replaced.
var (
	// ErrDependencyCycle is returned when depends_on forms a cycle; the
	// message names the cycle's path.
	ErrDependencyCycle = errors.New("dependency cycle")

	// ErrPortConflict is returned when a published host port is taken, by
	// another service of the stack or by a listener on the host.
	ErrPortConflict = errors.New("port conflict")

	// ErrSecretMissing is returned when a secret's file is not in the
	// secrets directory.
	ErrSecretMissing = errors.New("secret missing")

	// ErrImageMissing is returned when a service's image is not in the
	// engine's image store.
	ErrImageMissing = errors.New("image missing")

	// ErrServiceFailed is returned when a service cannot be started or its
	// dependency condition cannot be met (it exited, it is unhealthy).
	ErrServiceFailed = errors.New("service failed")

	// ErrNotCreated is returned by commands that need a service's container
	// (exec, start, logs) when `up` has not created it.
	ErrNotCreated = errors.New("service has no container: run `inceptionctl up` first")

	// ErrNoHelper is returned by Up, Start and Restart when the runtime has
	// no program to run as its supervisor and log shipper.
	ErrNoHelper = errors.New("no helper program for the runtime's supervisor and log shipper: " +
		"call runtime.HelperMain() first in main, or pass runtime.WithHelper(PATH) naming a program that does")

	// ErrNotRunning is returned by exec when the service's container has no
	// running task.
	ErrNotRunning = errors.New("service is not running")
)
