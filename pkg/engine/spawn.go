package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// SpawnDetached starts argv as a detached helper of inceptionctl, the way
// the daemons are started: in its own session (no terminal hang-up or
// Ctrl-C reaches it), stdin on /dev/null, stdout and stderr appended to
// logPath, working directory /. The runtime starts its per-stack supervisor
// with it; keeping process spawning here keeps os/exec in one package.
//
// A goroutine reaps the process for as long as the caller lives; after that
// it is re-parented to init. The caller decides whether one already runs
// (the runtime's supervisor holds a lock file for its lifetime).
//
//	pid, err := engine.SpawnDetached([]string{exe, "supervise", "--stack", "inception"}, logPath)
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
	cmd.Env = daemonEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("spawn %s: %w", argv[0], err)
	}
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

// Terminate stops pid as the engine stops its daemons: SIGTERM, up to grace
// for it to exit, then SIGKILL. A pid that is already gone is not an error.
func Terminate(ctx context.Context, pid int, grace time.Duration) error {
	return terminate(ctx, procDir, pid, grace)
}

// ProcessArgs returns the command line of pid, nil for a zombie.
func ProcessArgs(pid int) ([]string, error) { return processArgs(procDir, pid) }

// RunDir is the directory for sockets, pid files and other runtime state
// that must not survive a reboot.
func (e *Engine) RunDir() string { return e.cfg.runDir }

// ProcessExited reports whether pid is gone or a zombie. A process in the
// middle of exec(2) has an empty command line for a moment: only this says
// for sure that it ended.
func ProcessExited(pid int) bool { return processExited(procDir, pid) }
