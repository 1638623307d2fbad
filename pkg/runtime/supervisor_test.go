package runtime

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lockFile(t *testing.T, pth paths) *os.File {
	t.Helper()
	f, err := os.OpenFile(pth.supervisorLock(), os.O_CREATE|os.O_RDONLY, 0o600)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// TestSupervisorPIDProbeLeavesStartingSupervisorAlone: up polls for the
// supervisor it spawned; while no pid file names a live process, the poll
// never takes the lock, so the starting supervisor always gets it.
func TestSupervisorPIDProbeLeavesStartingSupervisorAlone(t *testing.T) {
	pth := paths{root: t.TempDir(), runDir: t.TempDir(), stack: "probe"}
	starter := lockFile(t, pth)

	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			assert.Equal(t, 0, supervisorPID(pth))
		}
	}()
	missed := 0
	for range 2000 {
		if err := syscall.Flock(int(starter.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			missed++
			continue
		}
		require.NoError(t, syscall.Flock(int(starter.Fd()), syscall.LOCK_UN))
	}
	stop.Store(true)
	<-done
	assert.Zero(t, missed, "the poll held the lock a starting supervisor needs")
}

// TestSupervisorPID: a live holder of the lock with its pid file is found;
// a stale pid file (no lock held) or a dead pid is not.
func TestSupervisorPID(t *testing.T) {
	pth := paths{root: t.TempDir(), runDir: t.TempDir(), stack: "probe"}
	holder := lockFile(t, pth)
	require.NoError(t, os.WriteFile(pth.supervisorPID(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644))
	assert.Equal(t, 0, supervisorPID(pth), "a pid file without the lock held is stale")

	require.NoError(t, syscall.Flock(int(holder.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	assert.Equal(t, os.Getpid(), supervisorPID(pth))

	require.NoError(t, os.WriteFile(pth.supervisorPID(), []byte("2147483646\n"), 0o644))
	assert.Equal(t, 0, supervisorPID(pth), "a pid that does not run")
}

// TestLockWithin: a new supervisor waits out a short hold of its lock, and
// gives up on one that lasts.
func TestLockWithin(t *testing.T) {
	pth := paths{root: t.TempDir(), runDir: t.TempDir(), stack: "probe"}
	holder, starter := lockFile(t, pth), lockFile(t, pth)
	require.NoError(t, syscall.Flock(int(holder.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	assert.False(t, lockWithin(starter, 50*time.Millisecond), "the lock is held throughout")

	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = syscall.Flock(int(holder.Fd()), syscall.LOCK_UN)
	}()
	assert.True(t, lockWithin(starter, 5*time.Second), "the hold ended")
}

// TestKickCoalescesReconciles: a burst of events for containers the
// supervisor does not know yet leaves at most one reconcile pending.
func TestKickCoalescesReconciles(t *testing.T) {
	s := newSupervisor(nil, paths{stack: "s"})
	var asked atomic.Int32
	s.owns = func(context.Context, string) bool { asked.Add(1); return true }
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.kick(context.Background(), fmt.Sprintf("s-new%d", i))
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1000), asked.Load())
	assert.Len(t, s.pending, 1, "one reconcile pending, whatever the burst")
}

// TestKickIgnoresOtherContainers: an event for a container that is not the
// stack's (a build container in the same namespace) asks for nothing.
func TestKickIgnoresOtherContainers(t *testing.T) {
	s := newSupervisor(nil, paths{stack: "s"})
	var ids []string
	s.owns = func(_ context.Context, id string) bool { ids = append(ids, id); return false }
	for range 100 {
		s.kick(context.Background(), "buildkit-xyz")
	}
	assert.Empty(t, s.pending)
	assert.Len(t, ids, 100)

	// A container with a worker is poked, never looked up.
	w := &worker{id: "s-web", kick: make(chan struct{}, 1)}
	s.workers[w.id] = w
	ids = nil
	s.kick(context.Background(), "s-web")
	assert.Empty(t, ids)
	assert.Len(t, w.kick, 1)
}

// TestSupervisorLoopOneReconcileAtATime: requests made while a reconcile
// runs are served by one more reconcile, run after it, never beside it.
func TestSupervisorLoopOneReconcileAtATime(t *testing.T) {
	s := newSupervisor(nil, paths{stack: "s"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	release := make(chan struct{})
	var runs, running, overlap atomic.Int32
	reconcile := func(context.Context) {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		if runs.Add(1) == 1 {
			<-release
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.loop(ctx, nil, reconcile)
	}()
	require.Eventually(t, func() bool { return runs.Load() == 1 }, 5*time.Second, time.Millisecond)
	for range 500 {
		s.requestReconcile()
	}
	close(release)
	require.Eventually(t, func() bool { return runs.Load() == 2 }, 5*time.Second, time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, int32(2), runs.Load(), "500 requests during one reconcile: one more")
	assert.Zero(t, overlap.Load())
	cancel()
	<-done
}
