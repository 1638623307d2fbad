package llbdefs

import "time"

// The health checks' timing the stack's services share (vsftpd, whose
// every check is a logged FTP session, has its own). Each probe is a
// command run in the container (containerd, its shim, `runc exec`): on the
// 2-core development machine about 90 ms of CPU. Every 5 s for six
// services that was 7-8 % of the two CPUs on an idle stack, and as much
// taken from PHP under load; every 30 s (Docker's default interval) it is
// about 1.5 %. A service found unhealthy takes longer to show it (three
// failures in a row: 90 s); nothing restarts on health, and `up --wait`
// uses the start interval, not this one.
const (
	healthInterval = 30 * time.Second
	// healthStartInterval is the checks' pace while a service starts, so
	// that `up --wait` finds it healthy soon after it is.
	healthStartInterval = 200 * time.Millisecond
	// healthSlowStartInterval is that pace for the services whose start
	// takes seconds (MariaDB's first start initialises the database;
	// WordPress waits for MariaDB, then sets itself up) and for PHP's:
	// every 200 ms their probes took a large share of a CPU-bound boot.
	// Nothing in the stack waits for these checks.
	healthSlowStartInterval = time.Second
	// healthStartPeriod is the start period of the services that start in
	// a moment (nginx, redis, static): long enough that a slow start on a
	// loaded machine is still probed at its start interval rather than
	// every 30 s.
	healthStartPeriod = 30 * time.Second
)
