package stack

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is wrapped by every validation error of a stack.
var ErrInvalid = errors.New("invalid stack")

// Condition is what a service waits for on a dependency before it starts.
type Condition string

// Dependency conditions, as docker compose names them.
const (
	ConditionStarted               Condition = "service_started"
	ConditionHealthy               Condition = "service_healthy"
	ConditionCompletedSuccessfully Condition = "service_completed_successfully"
)

// ParseCondition accepts compose's names and the short forms started,
// healthy and completed_successfully.
func ParseCondition(s string) (Condition, error) {
	switch strings.TrimPrefix(s, "service_") {
	case "started":
		return ConditionStarted, nil
	case "healthy":
		return ConditionHealthy, nil
	case "completed_successfully":
		return ConditionCompletedSuccessfully, nil
	}
	return "", fmt.Errorf("%w: dependency condition %q: use started, healthy or completed_successfully", ErrInvalid, s)
}

// RestartMode is the kind of restart policy.
type RestartMode string

// Restart modes, as docker compose names them.
const (
	RestartNo            RestartMode = "no"
	RestartAlways        RestartMode = "always"
	RestartOnFailure     RestartMode = "on-failure"
	RestartUnlessStopped RestartMode = "unless-stopped"
)

// RestartPolicy says when a service's container is restarted after it exits.
type RestartPolicy struct {
	Mode       RestartMode
	MaxRetries int // on-failure only; 0 means no limit
}

// ParseRestartPolicy parses "no", "always", "on-failure", "on-failure:N"
// and "unless-stopped".
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	mode, n, hasN := strings.Cut(s, ":")
	switch RestartMode(mode) {
	case RestartNo, RestartAlways, RestartUnlessStopped:
		if hasN {
			return RestartPolicy{}, fmt.Errorf("%w: restart policy %q: only on-failure takes a retry count", ErrInvalid, s)
		}
		return RestartPolicy{Mode: RestartMode(mode)}, nil
	case RestartOnFailure:
		p := RestartPolicy{Mode: RestartOnFailure}
		if hasN {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return RestartPolicy{}, fmt.Errorf("%w: restart policy %q: the retry count must be a whole number >= 0", ErrInvalid, s)
			}
			p.MaxRetries = v
		}
		return p, nil
	}
	return RestartPolicy{}, fmt.Errorf("%w: restart policy %q: use no, always, on-failure[:N] or unless-stopped", ErrInvalid, s)
}

func (p RestartPolicy) String() string {
	if p.Mode == RestartOnFailure && p.MaxRetries > 0 {
		return fmt.Sprintf("%s:%d", p.Mode, p.MaxRetries)
	}
	return string(p.Mode)
}

// HealthCheck runs Test in the container every Interval; the service is
// unhealthy after Retries failures in a row, failures during StartPeriod
// do not count. Test follows the image config: ["CMD", args...] or
// ["CMD-SHELL", "command"]; ["NONE"] disables the image's check.
// Zero durations and retries take the image's values, then docker's
// defaults (interval 30 s, timeout 30 s, start interval 5 s, 3 retries).
type HealthCheck struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	// StartInterval is the time between checks during StartPeriod, so a
	// service can be found healthy soon after it starts while the steady
	// Interval stays long.
	StartInterval time.Duration
	Retries       int
}

// Protocol is a published port's protocol.
type Protocol string

// Protocols a port may use.
const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// Port publishes ContainerPort on the host.
type Port struct {
	HostIP        string // empty: the stack's default host address
	HostPort      int
	ContainerPort int
	Protocol      Protocol
}

// MountKind is the kind of a mount.
type MountKind string

// Mount kinds.
const (
	MountVolume MountKind = "volume" // a named volume under the data dir
	MountBind   MountKind = "bind"   // a host path
)

// Mount puts a volume or host path into the container.
type Mount struct {
	Kind     MountKind
	Source   string // volume name, or host path for binds
	Target   string // absolute path in the container
	ReadOnly bool
	// UID and GID own a named volume's directory when it is created (the
	// service user's ids, e.g. 33 for www-data), so the service can write
	// to it without running as root.
	UID, GID int
}

// Limits are cgroup limits; zero means unlimited.
type Limits struct {
	MemoryBytes int64
	CPUs        float64 // CPU quota in cores, e.g. 0.5
	CPUShares   uint64
	Pids        int64
}

// Build is how a service's image is made. The runtime never reads it: it
// runs the image the service names, from the engine's image store; the
// commands that build (inceptionctl build, up --build) follow the recipe.
type Build struct {
	// Recipe names a Go image recipe (an LLB graph) registered with the
	// builder: the Inception stack's services name theirs after
	// themselves ("nginx" is llbdefs.Nginx).
	Recipe string

	// A Dockerfile build, as compose's build: section: the context
	// directory, the Dockerfile in it, build arguments and the stage.
	Context    string
	Dockerfile string
	Args       map[string]string
	Target     string
}

// Service is one service of the stack: the image it runs and how.
type Service struct {
	Name string
	// Image is the reference of the image the service runs, as docker
	// compose's image: "redis:7", "docker.io/library/nginx:bookworm",
	// "registry.example:5000/app@sha256:...". Short names are normalised
	// (NormalizeImage).
	Image string
	// Build, when set, is how Image is made when it is missing (or asked
	// for); nil for an image that is only run.
	Build *Build
	// Entrypoint and Command replace the image's, as compose's entrypoint
	// and command: nil keeps the image's; an Entrypoint without a Command
	// drops the image's command.
	Entrypoint []string
	Command    []string

	Env       map[string]string // added to the image's environment
	Secrets   []string          // files at /run/secrets/<name>, read-only, mode 0400
	Mounts    []Mount
	Ports     []Port
	DependsOn map[string]Condition
	Restart   RestartPolicy
	// Health overrides the image's health check; nil keeps the image's.
	Health *HealthCheck
	// StopGracePeriod is how long stop waits after the stop signal before
	// SIGKILL; zero means 10 s.
	StopGracePeriod time.Duration
	User            string   // overrides the image's user
	CapAdd          []string // capabilities beyond the runtime's reduced default set
	ReadOnlyRoot    bool     // root filesystem read-only (/run and /tmp are tmpfs either way)
	Limits          Limits
	// Disabled services are part of the stack but not started (bonus
	// services switched off).
	Disabled bool

	// What a compose file may set besides; zero values keep the image's
	// or the runtime's default.

	WorkingDir string   // replaces the image's working directory
	CapDrop    []string // capabilities removed from the default set
	Tmpfs      []Tmpfs  // tmpfs mounts besides /run and /tmp
	// Init runs a minimal init as PID 1 that forwards signals to the
	// service's process and reaps zombies (docker's --init).
	Init       bool
	StopSignal string // replaces the image's stop signal, e.g. SIGINT
	Hostname   string // the UTS host name; default the service name
	// ContainerName names the container instead of <stack>-<service>.
	ContainerName string
	ExtraHosts    []Host // added to /etc/hosts
	// IPv4Address fixes the service's address on the stack network instead
	// of the one its position gives.
	IPv4Address string
}

// Tmpfs is a tmpfs mount: Size in bytes (0: the kernel's default, half of
// the memory) and Mode of its root (0: 1777). It is nosuid and nodev;
// NoExec makes it noexec too (nothing on it can be run). A tmpfs on /run
// or /tmp replaces the one the runtime mounts there by default.
type Tmpfs struct {
	Target string
	Size   int64
	Mode   uint32
	NoExec bool `json:",omitempty"`
}

// Host is one extra /etc/hosts entry.
type Host struct {
	Name string
	IP   string
}
