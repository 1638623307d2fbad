package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inceptionctl/inception/pkg/engine/proc"
)

// supervisorStartTimeout bounds the wait for a new supervisor to take its
// lock.
const supervisorStartTimeout = 10 * time.Second

// supervisorPID returns the pid of the stack's running supervisor, 0 when
// none runs. The supervisor holds an exclusive lock on its lock file for its
// whole life and writes its pid file only once it holds it, so a lock we can
// take means nobody runs, whatever a stale pid file says. The probe takes
// that lock only when the pid file names a live process: a supervisor that
// is starting while someone polls (up waits for it this way) must never
// find its lock taken by the poll.
func supervisorPID(pth paths) int {
	data, err := os.ReadFile(pth.supervisorPID())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
		return 0
	}
	f, err := os.OpenFile(pth.supervisorLock(), os.O_RDONLY, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		return 0 // released with f
	}
	return pid
}

// ensureSupervisor starts the stack's supervisor unless it runs with the
// same command line (a new inceptionctl binary, or other options, replace
// it).
func (r *Runtime) ensureSupervisor(ctx context.Context, stackName string) error {
	if r.cfg.helper == "" {
		return ErrNoHelper
	}
	pth := r.paths(stackName)
	want := r.supervisorArgs(stackName)
	if pid := supervisorPID(pth); pid != 0 {
		argv, err := proc.Args(proc.Dir, pid)
		if err == nil && slices.Equal(argv, want) && !exeDeleted(pid) {
			return nil
		}
		r.logf("supervisor of %s (pid %d) runs another command line or binary: replacing it", stackName, pid)
		if err := r.stopSupervisor(ctx, stackName); err != nil {
			return err
		}
	}
	if r.cfg.containerdAddress == "" {
		return errors.New("runtime: no containerd address for the supervisor: pass runtime.WithContainerd")
	}
	for _, d := range []string{filepath.Dir(pth.supervisorLog()), r.cfg.runDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("start supervisor: %w", err)
		}
	}
	pid, err := proc.SpawnDetached(want, pth.supervisorLog())
	if err != nil {
		return fmt.Errorf("start supervisor of %s: %w", stackName, err)
	}
	deadline := time.Now().Add(supervisorStartTimeout)
	for time.Now().Before(deadline) {
		if got := supervisorPID(pth); got != 0 {
			return nil
		}
		if proc.Exited(proc.Dir, pid) {
			return fmt.Errorf("supervisor of %s exited while starting; last lines of %s:\n%s", stackName, pth.supervisorLog(), tailText(pth.supervisorLog(), 10))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("supervisor of %s did not start within %v; see %s", stackName, supervisorStartTimeout, pth.supervisorLog())
}

// reviveSupervisor starts the stack's supervisor again when it does not
// run while a service of reps should be looked after. What goes wrong is
// said on the progress log, not returned: the report stands either way.
func (r *Runtime) reviveSupervisor(ctx context.Context, stackName string, reps []ServiceReport) {
	if r.cfg.helper == "" || !needsSupervisor(reps) || supervisorPID(r.paths(stackName)) != 0 {
		return
	}
	r.logf("supervisor of %s was not running: starting it again", stackName)
	if err := r.ensureSupervisor(ctx, stackName); err != nil {
		r.logf("supervisor of %s: %v; run up to start it", stackName, err)
	}
}

// needsSupervisor reports whether a service of reps is one a supervisor
// looks after: running (its restarts, its health checks) or waiting out
// its back-off. Services stopped by the user or exited for good are not.
func needsSupervisor(reps []ServiceReport) bool {
	for _, rep := range reps {
		if rep.State == StatusRunning || rep.State == StatusRestarting {
			return true
		}
	}
	return false
}

// stopSupervisor stops the stack's supervisor (SIGTERM; it leaves the
// containers as they are). Safe to repeat.
func (r *Runtime) stopSupervisor(ctx context.Context, stackName string) error {
	pth := r.paths(stackName)
	pid := supervisorPID(pth)
	if pid == 0 {
		_ = os.Remove(pth.supervisorPID())
		return nil
	}
	if err := proc.Terminate(ctx, proc.Dir, pid, 5*time.Second); err != nil {
		return fmt.Errorf("stop supervisor of %s: %w", stackName, err)
	}
	_ = os.Remove(pth.supervisorPID())
	return nil
}

// exeDeleted reports whether pid runs a binary that was replaced on disk
// (an inceptionctl rebuilt or upgraded since the supervisor started).
func exeDeleted(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && strings.HasSuffix(exe, " (deleted)")
}

// tailText returns the last n lines of a text file, indented.
func tailText(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
