package runtime

import (
	"os"
	"strconv"
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
