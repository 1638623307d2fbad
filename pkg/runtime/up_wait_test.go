package runtime

import (
	"bytes"
	"context"
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
