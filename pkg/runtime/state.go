package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ServiceStatus is a service's run state as ps shows it.
type ServiceStatus string

// Run states.
const (
	StatusCreated    ServiceStatus = "created"    // container, no task yet
	StatusRunning    ServiceStatus = "running"    // task running
	StatusRestarting ServiceStatus = "restarting" // exited, waiting out the back-off
	StatusExited     ServiceStatus = "exited"     // exited, not restarted by its policy
	StatusStopped    ServiceStatus = "stopped"    // stopped by the user
)

// maxHistory bounds the start times and back-offs kept per service.
const maxHistory = 16

// ServiceState is what the runtime and the supervisor record about one
// service. The supervisor writes health and exits, the commands write
// starts and stops; both under the state file's lock.
type ServiceState struct {
	Container string        `json:"container"`
	Status    ServiceStatus `json:"status"`
	// UserStopped is set by stop (and by down and a recreating up) before
	// the task is signalled, so the supervisor never restarts it.
	UserStopped   bool          `json:"userStopped"`
	PID           uint32        `json:"pid,omitempty"`
	StartedAt     time.Time     `json:"startedAt,omitzero"`
	FinishedAt    time.Time     `json:"finishedAt,omitzero"`
	ExitCode      *uint32       `json:"exitCode,omitempty"`
	Restarts      int           `json:"restarts"`
	Backoff       time.Duration `json:"backoff,omitempty"` // the last back-off waited
	Health        HealthStatus  `json:"health"`
	FailingStreak int           `json:"failingStreak,omitempty"`
	HealthOutput  string        `json:"healthOutput,omitempty"` // the last probe's output, truncated
	HealthAt      time.Time     `json:"healthAt,omitzero"`      // when the last probe finished
	// Starts and Backoffs are the latest task starts by the supervisor's
	// restarts and the back-off waited before each: the record the crash
	// loop tests read instead of timing anything themselves.
	Starts   []time.Time     `json:"starts,omitempty"`
	Backoffs []time.Duration `json:"backoffs,omitempty"`
}

// State is the state file of one stack.
type State struct {
	Services map[string]*ServiceState `json:"services"`
}

// service returns the state of name, creating it.
func (s *State) service(name string) *ServiceState {
	if s.Services == nil {
		s.Services = map[string]*ServiceState{}
	}
	ss := s.Services[name]
	if ss == nil {
		ss = &ServiceState{Health: HealthNone}
		s.Services[name] = ss
	}
	return ss
}

// recordStart notes a task start. restart is true for the supervisor's
// restarts, false for a start by a command (which resets the count).
func (ss *ServiceState) recordStart(pid uint32, at time.Time, health bool, restart bool, backoff time.Duration) {
	ss.Status = StatusRunning
	ss.UserStopped = false
	ss.PID = pid
	ss.StartedAt = at
	ss.Health = HealthNone
	if health {
		ss.Health = HealthStarting
	}
	ss.FailingStreak = 0
	ss.HealthOutput = ""
	if restart {
		ss.Restarts++
		ss.Starts = appendBounded(ss.Starts, at)
		ss.Backoffs = appendBounded(ss.Backoffs, backoff)
		ss.Backoff = backoff
		return
	}
	ss.Restarts = 0
	ss.Backoff = 0
	ss.Starts = []time.Time{at}
	ss.Backoffs = nil
}

func appendBounded[T any](xs []T, x T) []T {
	xs = append(xs, x)
	if len(xs) > maxHistory {
		xs = xs[len(xs)-maxHistory:]
	}
	return xs
}

// stateStore is the state file of a stack and its lock. Readers need no
// lock (writes are atomic renames); read-modify-write goes through update.
// Task starts, and the user's stop flag, are serialised per service by a
// lock of their own (lockService), so that the commands and the supervisor
// never start one service twice while other services start at the same
// time. The service lock is always taken before the state lock, never
// while holding it.
type stateStore struct {
	dir string // <root>/runtime/<stack>
}

func (s stateStore) path() string     { return filepath.Join(s.dir, "state.json") }
func (s stateStore) lockPath() string { return filepath.Join(s.dir, "state.lock") }

func (s stateStore) serviceLockPath(name string) string {
	return filepath.Join(s.dir, "start-"+name+".lock")
}

// read returns the state; a missing file is an empty state.
func (s stateStore) read() (*State, error) {
	st := &State{Services: map[string]*ServiceState{}}
	data, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("read state %s: %w", s.path(), err)
	}
	if st.Services == nil {
		st.Services = map[string]*ServiceState{}
	}
	return st, nil
}

// update runs fn on the state under the lock and writes the result
// atomically; an error from fn writes nothing. Never call update from fn:
// flock locks are per open file, so a nested update waits for itself.
func (s stateStore) update(ctx context.Context, fn func(*State) error) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.read()
	if err != nil {
		return err
	}
	if err := fn(st); err != nil {
		return err
	}
	return s.write(st)
}

func (s stateStore) write(st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(s.path(), data, 0o644)
}

// lock takes the stack's lock, waiting for it as long as ctx allows.
func (s stateStore) lock(ctx context.Context) (func(), error) {
	return s.lockFile(ctx, s.lockPath())
}

// lockService takes the lock that serialises starting service name (and
// flagging it stopped by the user), waiting for it as long as ctx allows.
func (s stateStore) lockService(ctx context.Context, name string) (func(), error) {
	return s.lockFile(ctx, s.serviceLockPath(name))
}

func (s stateStore) lockFile(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it over path, so readers see the old or the new content, never a part.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
