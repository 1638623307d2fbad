package engine

import (
	"context"
	"time"

	"github.com/inceptionctl/inception/pkg/engine/proc"
)

// SpawnDetached starts argv as a detached helper of inceptionctl, the way
// the daemons are started (proc.SpawnDetached).
func SpawnDetached(argv []string, logPath string) (int, error) {
	return proc.SpawnDetached(argv, logPath)
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
