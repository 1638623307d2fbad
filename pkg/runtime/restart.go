package runtime

import (
	"time"

	"github.com/inceptionctl/inception/pkg/stack"
)

// Restart back-off: a crash after resetAfter or more of running is
// restarted at once (one crash of a service that ran is no loop); a quick
// crash waits minBackoff, each quick crash after it doubles the wait up to
// maxBackoff.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = time.Minute
	resetAfter = 10 * time.Second
)

// nextBackoff is the wait before the next restart, given the previous wait
// (zero when none) and how long the task that just exited ran.
func nextBackoff(prev, ran time.Duration) time.Duration {
	switch {
	case ran >= resetAfter:
		return 0
	case prev <= 0:
		return minBackoff
	}
	return min(prev*2, maxBackoff)
}

// exitInfo is what the supervisor knows when a task has exited.
type exitInfo struct {
	code        uint32
	restarts    int  // restarts since the service was last started by the user
	userStopped bool // the user stopped it (stop, down, a recreate by up)
}

// shouldRestart applies a restart policy to an exit. A service the user
// stopped stays stopped whatever its policy: that is the only difference
// docker makes for unless-stopped while its daemon runs, and inception has
// no daemon restart of its own (`up` starts the stack again).
func shouldRestart(p stack.RestartPolicy, e exitInfo) bool {
	if e.userStopped {
		return false
	}
	switch p.Mode {
	case stack.RestartAlways, stack.RestartUnlessStopped:
		return true
	case stack.RestartOnFailure:
		if e.code == 0 {
			return false
		}
		return p.MaxRetries == 0 || e.restarts < p.MaxRetries
	default:
		return false
	}
}
