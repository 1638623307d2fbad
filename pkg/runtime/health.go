package runtime

import (
	"fmt"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/inceptionctl/inception/pkg/stack"
)

// Docker's health check defaults, used when neither the service nor the
// image sets a value.
const (
	defaultHealthInterval      = 30 * time.Second
	defaultHealthTimeout       = 30 * time.Second
	defaultHealthStartInterval = 5 * time.Second
	defaultHealthRetries       = 3
	// healthOutputMax bounds the probe output kept in the state file.
	healthOutputMax = 4096
)

// HealthStatus is a service's health as the supervisor last found it.
type HealthStatus string

// Health states, as docker names them.
const (
	HealthNone      HealthStatus = "none" // no health check
	HealthStarting  HealthStatus = "starting"
	HealthHealthy   HealthStatus = "healthy"
	HealthUnhealthy HealthStatus = "unhealthy"
)

// healthCheck is a parsed, complete health check: Args is the exec command
// line ("CMD-SHELL" already turned into /bin/sh -c) and every duration is set.
type healthCheck struct {
	Args          []string      `json:"args"`
	Interval      time.Duration `json:"interval"`
	Timeout       time.Duration `json:"timeout"`
	StartPeriod   time.Duration `json:"startPeriod,omitempty"`
	StartInterval time.Duration `json:"startInterval"`
	Retries       int           `json:"retries"`
}

// resolveHealth merges the service's health check over the image's, the way
// docker merges a container's over its image's: an empty test, a zero
// duration or zero retries inherit. It returns nil when there is no check
// (none anywhere, or the test is ["NONE"]).
func resolveHealth(svc *stack.HealthCheck, img *dockerspec.HealthcheckConfig) (*healthCheck, error) {
	var test []string
	var m stack.HealthCheck
	if img != nil {
		test = img.Test
		m = stack.HealthCheck{Interval: img.Interval, Timeout: img.Timeout, StartPeriod: img.StartPeriod, StartInterval: img.StartInterval, Retries: img.Retries}
	}
	if svc != nil {
		if len(svc.Test) > 0 {
			test = svc.Test
		}
		m.Interval = firstNonZero(svc.Interval, m.Interval)
		m.Timeout = firstNonZero(svc.Timeout, m.Timeout)
		m.StartPeriod = firstNonZero(svc.StartPeriod, m.StartPeriod)
		m.StartInterval = firstNonZero(svc.StartInterval, m.StartInterval)
		if svc.Retries != 0 {
			m.Retries = svc.Retries
		}
	}
	if len(test) == 0 {
		return nil, nil
	}
	args, err := parseHealthTest(test)
	if err != nil || args == nil {
		return nil, err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", m.Interval}, {"timeout", m.Timeout}, {"start period", m.StartPeriod}, {"start interval", m.StartInterval}} {
		if d.v < 0 {
			return nil, fmt.Errorf("%w: health check %s %v is negative", stack.ErrInvalid, d.name, d.v)
		}
	}
	if m.Retries < 0 {
		return nil, fmt.Errorf("%w: health check retries %d is negative", stack.ErrInvalid, m.Retries)
	}
	hc := &healthCheck{
		Args:          args,
		Interval:      firstNonZero(m.Interval, defaultHealthInterval),
		Timeout:       firstNonZero(m.Timeout, defaultHealthTimeout),
		StartPeriod:   m.StartPeriod,
		StartInterval: firstNonZero(m.StartInterval, defaultHealthStartInterval),
		Retries:       m.Retries,
	}
	if hc.Retries == 0 {
		hc.Retries = defaultHealthRetries
	}
	return hc, nil
}

// parseHealthTest turns an image-config style test into exec arguments; nil
// arguments and no error mean "NONE".
func parseHealthTest(test []string) ([]string, error) {
	switch test[0] {
	case "NONE":
		if len(test) != 1 {
			return nil, fmt.Errorf("%w: health check %q: NONE takes no arguments", stack.ErrInvalid, test)
		}
		return nil, nil
	case "CMD":
		if len(test) < 2 || test[1] == "" {
			return nil, fmt.Errorf("%w: health check %q: CMD needs a command", stack.ErrInvalid, test)
		}
		return append([]string(nil), test[1:]...), nil
	case "CMD-SHELL":
		if len(test) != 2 || test[1] == "" {
			return nil, fmt.Errorf("%w: health check %q: CMD-SHELL takes exactly one command string", stack.ErrInvalid, test)
		}
		return []string{"/bin/sh", "-c", test[1]}, nil
	}
	return nil, fmt.Errorf("%w: health check %q: start the test with CMD, CMD-SHELL or NONE", stack.ErrInvalid, test)
}

func firstNonZero(ds ...time.Duration) time.Duration {
	for _, d := range ds {
		if d != 0 {
			return d
		}
	}
	return 0
}

// healthTracker is docker's health state machine for one task: starting
// until the first success, healthy after a success, unhealthy after Retries
// failures in a row; failures while starting and inside the start period do
// not count.
type healthTracker struct {
	hc      healthCheck
	started time.Time
	status  HealthStatus
	streak  int // failures in a row that counted
}

func newHealthTracker(hc healthCheck, started time.Time) *healthTracker {
	return &healthTracker{hc: hc, started: started, status: HealthStarting}
}

// record takes the result of a probe that finished at `at`.
func (t *healthTracker) record(at time.Time, ok bool) HealthStatus {
	if ok {
		t.streak = 0
		t.status = HealthHealthy
		return t.status
	}
	if t.status == HealthStarting && at.Sub(t.started) < t.hc.StartPeriod {
		return t.status
	}
	t.streak++
	if t.streak >= t.hc.Retries {
		t.status = HealthUnhealthy
	}
	return t.status
}

// nextDelay is the wait before the next probe: the start interval while the
// task is starting and inside its start period, the interval otherwise.
func (t *healthTracker) nextDelay(now time.Time) time.Duration {
	if t.status == HealthStarting && now.Sub(t.started) < t.hc.StartPeriod {
		return min(t.hc.StartInterval, t.hc.Interval)
	}
	return t.hc.Interval
}
