package runtime

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWaitReadyLogsEachService: up --wait says when each service became
// ready, once, counted from the start of up; a job as completed.
func TestWaitReadyLogsEachService(t *testing.T) {
	var log bytes.Buffer
	r := &Runtime{cfg: config{root: t.TempDir(), runDir: t.TempDir(), log: &log}}
	pth := r.paths("st")
	store := pth.store()
	zero := uint32(0)
	set := func(fn func(s *State)) {
		require.NoError(t, store.update(context.Background(), func(s *State) error { fn(s); return nil }))
	}
	set(func(s *State) {
		s.service("db").recordStart(1, time.Now(), true, false, 0)
		s.service("web").recordStart(2, time.Now(), false, false, 0)
		job := s.service("migrate")
		job.Status, job.ExitCode = StatusExited, &zero
	})
	go func() {
		time.Sleep(150 * time.Millisecond)
		set(func(s *State) { s.service("db").Health = HealthHealthy })
	}()
	began := time.Now().Add(-time.Second)
	err := r.waitReady(t.Context(), pth, []string{"db", "web", "migrate"}, map[string]bool{"migrate": true}, 5*time.Second, began)
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	require.Len(t, lines, 3, "one line per service: %q", log.String())
	assert.Regexp(t, `^web: running, [1-9]\.\d\ds after up began$`, lines[0])
	assert.Regexp(t, `^migrate: completed, [1-9]\.\d\ds after up began$`, lines[1])
	assert.Regexp(t, `^db: healthy, [1-9]\.\d\ds after up began$`, lines[2], "logged when its check passed, after the others")
}

// TestRetryFor: f is called again until it succeeds, and its last error
// comes back when the time is up or the context ends.
func TestRetryFor(t *testing.T) {
	busy := errors.New("CHAIN_DEL failed (Device or resource busy)")
	t.Run("succeeds on the third call", func(t *testing.T) {
		calls := 0
		err := retryFor(context.Background(), time.Minute, time.Millisecond, func() error {
			calls++
			if calls < 3 {
				return busy
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, calls)
	})
	t.Run("time up: the last error", func(t *testing.T) {
		calls := 0
		err := retryFor(context.Background(), 20*time.Millisecond, 5*time.Millisecond, func() error {
			calls++
			return busy
		})
		require.ErrorIs(t, err, busy)
		assert.Greater(t, calls, 1, "tried again before giving up")
	})
	t.Run("context ended: both errors", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := retryFor(ctx, time.Minute, time.Second, func() error { return busy })
		require.ErrorIs(t, err, busy)
		require.ErrorIs(t, err, context.Canceled)
	})
}
