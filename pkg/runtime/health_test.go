package runtime

import (
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

func TestResolveHealth(t *testing.T) {
	img := &dockerspec.HealthcheckConfig{Test: []string{"CMD", "curl", "-f", "http://localhost/"}, Interval: 5 * time.Second, Retries: 5}
	tests := []struct {
		name string
		svc  *stack.HealthCheck
		img  *dockerspec.HealthcheckConfig
		want *healthCheck
		err  string
	}{
		{name: "none anywhere"},
		{
			name: "image's, docker's defaults for the rest",
			img:  img,
			want: &healthCheck{Args: []string{"curl", "-f", "http://localhost/"}, Interval: 5 * time.Second, Timeout: 30 * time.Second, StartInterval: 5 * time.Second, Retries: 5},
		},
		{
			name: "service's test, image's interval",
			svc:  &stack.HealthCheck{Test: []string{"CMD-SHELL", "test -f /ready"}, StartPeriod: time.Minute, StartInterval: 100 * time.Millisecond},
			img:  img,
			want: &healthCheck{Args: []string{"/bin/sh", "-c", "test -f /ready"}, Interval: 5 * time.Second, Timeout: 30 * time.Second,
				StartPeriod: time.Minute, StartInterval: 100 * time.Millisecond, Retries: 5},
		},
		{name: "NONE disables the image's", svc: &stack.HealthCheck{Test: []string{"NONE"}}, img: img},
		{name: "no prefix", svc: &stack.HealthCheck{Test: []string{"curl", "x"}}, err: "start the test with CMD"},
		{name: "empty CMD", svc: &stack.HealthCheck{Test: []string{"CMD"}}, err: "CMD needs a command"},
		{name: "CMD-SHELL with two strings", svc: &stack.HealthCheck{Test: []string{"CMD-SHELL", "a", "b"}}, err: "exactly one"},
		{name: "negative", svc: &stack.HealthCheck{Test: []string{"CMD", "x"}, Interval: -time.Second}, err: "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveHealth(tc.svc, tc.img)
			if tc.err != "" {
				require.ErrorIs(t, err, stack.ErrInvalid)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestHealthTracker(t *testing.T) {
	t0 := time.Unix(1000, 0)
	hc := healthCheck{Interval: 10 * time.Second, StartPeriod: 30 * time.Second, StartInterval: time.Second, Retries: 3}
	tr := newHealthTracker(hc, t0)
	assert.Equal(t, time.Second, tr.nextDelay(t0), "start interval inside the start period")
	for i := range 5 {
		assert.Equal(t, HealthStarting, tr.record(t0.Add(time.Duration(i+1)*time.Second), false), "failures in the start period do not count")
	}
	assert.Equal(t, 0, tr.streak)
	assert.Equal(t, HealthHealthy, tr.record(t0.Add(6*time.Second), true))
	assert.Equal(t, 10*time.Second, tr.nextDelay(t0.Add(7*time.Second)), "healthy: the steady interval, even inside the start period")
	assert.Equal(t, HealthHealthy, tr.record(t0.Add(16*time.Second), false), "once healthy, failures count at once")
	assert.Equal(t, HealthHealthy, tr.record(t0.Add(26*time.Second), false))
	assert.Equal(t, HealthUnhealthy, tr.record(t0.Add(36*time.Second), false), "third failure in a row")
	assert.Equal(t, 3, tr.streak)
	assert.Equal(t, HealthHealthy, tr.record(t0.Add(46*time.Second), true), "a success heals")
	assert.Equal(t, 0, tr.streak)

	late := newHealthTracker(hc, t0)
	for i, want := range []HealthStatus{HealthStarting, HealthStarting, HealthUnhealthy} {
		assert.Equal(t, want, late.record(t0.Add(time.Minute+time.Duration(i)*time.Second), false), "after the start period failures count")
	}
}
