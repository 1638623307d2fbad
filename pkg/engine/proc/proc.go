package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Dir is the proc file system. The functions take it as a parameter, so
// tests can hand them a fake one.
const Dir = "/proc"

// ErrStillRunning is returned by Terminate when a process survives SIGKILL.
var ErrStillRunning = errors.New("process still runs after SIGKILL")

// Args returns the argv of pid. A zombie has none: its memory, and so
// its command line, is already gone.
func Args(proc string, pid int) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil, err
	}
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil, nil
	}
	return strings.Split(string(b), "\x00"), nil
}

// Stat is what this package reads of /proc/<pid>/stat.
type Stat struct {
	Comm  string // the command name, without its parentheses
	State string // "R", "S", "Z", ...
	PPID  int
	PGRP  int // the process group
}

// ReadStat parses /proc/<pid>/stat.
func ReadStat(proc string, pid int) (Stat, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return Stat{}, err
	}
	// pid (comm) state ppid pgrp ...; the command name may itself hold
	// spaces and ')'.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	var f []string
	if open >= 0 && end > open {
		f = strings.Fields(string(b[end+1:]))
	}
	if len(f) < 3 {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: %q", pid, b)
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	if err := errors.Join(err1, err2); err != nil {
		return Stat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return Stat{Comm: string(b[open+1 : end]), State: f[0], PPID: ppid, PGRP: pgrp}, nil
}

// State returns the state letter of pid from /proc/<pid>/stat
// ("R", "S", "Z", ...).
func State(proc string, pid int) (string, error) {
	st, err := ReadStat(proc, pid)
	return st.State, err
}

// Exited reports whether pid has finished exiting: it is gone, or only
// its zombie is left. isDaemonProcess is not enough to wait on: a dying
// daemon's command line reads empty (its main thread released its memory)
// while its other threads still run and its sockets still listen.
func Exited(proc string, pid int) bool {
	state, err := State(proc, pid)
	if err != nil {
		return true
	}
	if state != "Z" && state != "X" {
		return false
	}
	// A zombie main thread with other threads still exiting: the files,
	// sockets included, close with the last of them.
	tasks, err := os.ReadDir(filepath.Join(proc, strconv.Itoa(pid), "task"))
	return err != nil || len(tasks) <= 1
}

// Terminate stops the daemon pid the way containerd stops a task: SIGTERM,
// a grace period, then SIGKILL. Only pid is signalled, never its process
// group, so the containerd shims it started (and their containers) live on.
func Terminate(ctx context.Context, proc string, pid int, grace time.Duration) error {
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{
		{syscall.SIGTERM, grace},
		{syscall.SIGKILL, 5 * time.Second},
	} {
		if err := syscall.Kill(pid, step.sig); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				return nil
			}
			return fmt.Errorf("send %v to %d: %w", step.sig, pid, err)
		}
		gone, err := WaitGone(ctx, proc, pid, step.wait)
		if err != nil || gone {
			return err
		}
	}
	return fmt.Errorf("pid %d: %w", pid, ErrStillRunning)
}

// WaitGone polls until pid has exited or d has passed.
func WaitGone(ctx context.Context, proc string, pid int, d time.Duration) (bool, error) {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if Exited(proc, pid) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-tick.C:
		}
	}
}

// DaemonEnv is the environment of a daemon: ours, minus systemd's hand-over
// variables meant for inceptionctl itself, with the directories of
// defaultPath appended to PATH where missing.
func DaemonEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	var path []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES":
			continue
		case "PATH":
			path = filepath.SplitList(v)
			continue
		}
		out = append(out, kv)
	}
	for _, dir := range defaultPath {
		if !slices.Contains(path, dir) {
			path = append(path, dir)
		}
	}
	return append(out, "PATH="+strings.Join(path, string(filepath.ListSeparator)))
}

// defaultPath holds the directories a daemon needs on PATH: containerd finds
// its shim and runc there, and Debian installs runc in /usr/sbin, which a
// user's PATH may lack.
var defaultPath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// SpawnDetached starts argv as a detached helper of inceptionctl, the way
// the daemons are started: in its own session (no terminal hang-up or
// Ctrl-C reaches it), stdin on /dev/null, stdout and stderr appended to
// logPath, working directory /. The runtime starts its per-stack supervisor
// with it.
//
// A goroutine reaps the process for as long as the caller lives; after that
// it is re-parented to init. The caller decides whether one already runs
// (the runtime's supervisor holds a lock file for its lifetime).
//
//	pid, err := proc.SpawnDetached([]string{exe, "supervise", "--stack", "inception"}, logPath)
func SpawnDetached(argv []string, logPath string) (int, error) {
	if len(argv) == 0 {
		return 0, fmt.Errorf("spawn: empty command line")
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return 0, fmt.Errorf("spawn %s: open log: %w", argv[0], err)
	}
	defer logf.Close() // the child has its own copy
	if _, err := logf.Seek(0, io.SeekEnd); err != nil {
		return 0, fmt.Errorf("spawn %s: open log: %w", argv[0], err)
	}
	fmt.Fprintf(logf, "---- %s inceptionctl: start %q\n", time.Now().Format(time.RFC3339), argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = DaemonEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("spawn %s: %w", argv[0], err)
	}
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}
