package runtime

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/inceptionctl/inception/pkg/stack"
)

func TestNextBackoff(t *testing.T) {
	quick := time.Second
	var got []time.Duration
	d := time.Duration(0)
	for range 12 {
		d = nextBackoff(d, quick)
		got = append(got, d)
	}
	assert.Equal(t, []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond,
		25600 * time.Millisecond, 51200 * time.Millisecond, time.Minute, time.Minute,
	}, got, "doubling from 100 ms, capped at 1 min")
	assert.Equal(t, time.Duration(0), nextBackoff(time.Minute, 10*time.Second), "10 s of running: restarted at once")
	assert.Equal(t, time.Duration(0), nextBackoff(0, time.Hour), "a first crash after a long run: restarted at once")
	assert.Equal(t, minBackoff, nextBackoff(0, 9*time.Second), "the back-off starts again after an immediate restart")
	assert.Equal(t, 2*time.Minute/2, nextBackoff(time.Minute, 9*time.Second))
}

func TestShouldRestart(t *testing.T) {
	p := func(s string) stack.RestartPolicy {
		rp, err := stack.ParseRestartPolicy(s)
		if err != nil {
			t.Fatal(err)
		}
		return rp
	}
	tests := []struct {
		name   string
		policy stack.RestartPolicy
		exit   exitInfo
		want   bool
	}{
		{"no", p("no"), exitInfo{code: 1}, false},
		{"zero policy is no", stack.RestartPolicy{}, exitInfo{code: 1}, false},
		{"always after success", p("always"), exitInfo{code: 0}, true},
		{"always after failure", p("always"), exitInfo{code: 137, restarts: 50}, true},
		{"always but stopped by the user", p("always"), exitInfo{code: 0, userStopped: true}, false},
		{"unless-stopped", p("unless-stopped"), exitInfo{code: 2}, true},
		{"unless-stopped, stopped", p("unless-stopped"), exitInfo{code: 143, userStopped: true}, false},
		{"on-failure after success", p("on-failure"), exitInfo{code: 0}, false},
		{"on-failure without limit", p("on-failure"), exitInfo{code: 1, restarts: 1000}, true},
		{"on-failure:3 below", p("on-failure:3"), exitInfo{code: 1, restarts: 2}, true},
		{"on-failure:3 reached", p("on-failure:3"), exitInfo{code: 1, restarts: 3}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, shouldRestart(tc.policy, tc.exit))
		})
	}
}

func TestCreateInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"the bundle of a create under way", errors.New("failed to start shim: mkdir /run/inception/containerd/io.containerd.runtime.v2.task/inception/inception-adminer: file exists"), true},
		{"the bundle removed under the shim", errors.New("failed to start shim: start failed: io.containerd.runc.v2: getwd: no such file or directory: exit status 1"), true},
		{"another file exists", errors.New("mkdir /var/lib/x: file exists"), false},
		{"another shim error", errors.New("failed to start shim: exec: runc: not found"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, createInterrupted(tc.err))
		})
	}
}
