package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateStore(t *testing.T) {
	s := stateStore{dir: t.TempDir()}
	st, err := s.read()
	require.NoError(t, err)
	assert.Empty(t, st.Services, "no file: empty state")
	// Concurrent updates from several goroutines (the supervisor's workers)
	// lose nothing: the flock serialises them.
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, s.update(context.Background(), func(st *State) error {
				st.service("a").Restarts++
				return nil
			}))
		}()
	}
	wg.Wait()
	st, err = s.read()
	require.NoError(t, err)
	assert.Equal(t, 20, st.Services["a"].Restarts)
}

func TestRecordStart(t *testing.T) {
	var ss ServiceState
	t0 := time.Unix(100, 0)
	ss.recordStart(10, t0, true, false, 0)
	assert.Equal(t, HealthStarting, ss.Health)
	assert.Equal(t, StatusRunning, ss.Status)
	for i := range 20 {
		ss.recordStart(uint32(11+i), t0.Add(time.Duration(i)*time.Second), false, true, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 20, ss.Restarts)
	assert.Len(t, ss.Starts, maxHistory)
	assert.Len(t, ss.Backoffs, maxHistory)
	assert.Equal(t, 19*time.Millisecond, ss.Backoff)
	assert.Equal(t, HealthNone, ss.Health)
	ss.UserStopped = true
	ss.recordStart(99, t0, false, false, 0)
	assert.Equal(t, 0, ss.Restarts, "a start by the user resets the count")
	assert.False(t, ss.UserStopped)
}
