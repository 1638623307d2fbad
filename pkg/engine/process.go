package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inceptionctl/inception/pkg/engine/proc"
)

// procDir is the proc file system. The helpers below take it as a
// parameter, so tests can hand them a fake one.
const procDir = "/proc"

// readPIDFile returns the pid recorded in path. A missing file is reported
// as fs.ErrNotExist so the caller can tell "never started" from "stale".
func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: %q is not a pid", path, bytes.TrimSpace(b))
	}
	return pid, nil
}

// writePIDFile records pid in path, atomically.
func writePIDFile(path string, pid int) error {
	return writeFileAtomic(path, []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

// matchArgs reports whether argv is that of the daemon started with
// configPath. The config path, not the binary, identifies a daemon: it is
// unique to one engine root, it survives a change of binary, and it tells our
// containerd from the host's.
func matchArgs(argv []string, configPath string) bool {
	if len(argv) < 2 {
		return false
	}
	for i, a := range argv[1:] {
		if (a == "--config" || a == "-c") && i+2 < len(argv) && argv[i+2] == configPath {
			return true
		}
		if a == "--config="+configPath {
			return true
		}
	}
	return false
}

// isDaemonProcess reports whether pid is alive (not a zombie) and runs the
// daemon started with configPath. It guards against pid reuse after a crash
// or a reboot: a pid file can outlive its process.
func isDaemonProcess(proc string, pid int, configPath string) bool {
	if pid <= 0 {
		return false
	}
	state, err := processState(proc, pid)
	if err != nil || state == "Z" || state == "X" {
		return false
	}
	argv, err := processArgs(proc, pid)
	if err != nil {
		return false
	}
	return matchArgs(argv, configPath)
}

// findDaemonProcess scans proc for the daemon started with configPath, for
// when its pid file is gone or wrong. It returns 0 when there is none.
func findDaemonProcess(proc, configPath string) int {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return 0
	}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if isDaemonProcess(proc, pid, configPath) {
			return pid
		}
	}
	return 0
}

// socketState says whether a unix socket file exists and has a listener.
type socketState int

const (
	socketMissing   socketState = iota // no file
	socketStale                        // a file nobody listens on: left by a killed daemon
	socketListening                    // something accepts connections
)

func (s socketState) String() string {
	switch s {
	case socketMissing:
		return "missing"
	case socketStale:
		return "stale"
	case socketListening:
		return "listening"
	}
	return "socketState(" + strconv.Itoa(int(s)) + ")"
}

// socketStateOf probes the unix socket at path. Only a refused connection
// marks a socket stale; any other dial error (a slow accept queue, say)
// counts as listening, so a busy daemon's socket is never removed.
func socketStateOf(path string) socketState {
	if _, err := os.Lstat(path); err != nil {
		return socketMissing
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return socketListening
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOTSOCK) || errors.Is(err, fs.ErrNotExist) {
		return socketStale
	}
	return socketListening
}

// removeIfExists removes path; a missing file is not an error, so cleanup
// can run any number of times.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// watchProcess reports on the returned channel when pid stops running the
// daemon. It is how Ensure notices the early death of a daemon that another
// inceptionctl started (so it cannot Wait on it). It stops with ctx.
func watchProcess(ctx context.Context, proc string, pid int, configPath string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !isDaemonProcess(proc, pid, configPath) {
					ch <- fmt.Errorf("process %d exited", pid)
					return
				}
			}
		}
	}()
	return ch
}

// tailFile returns the last n lines of path from offset on, indented, or a
// note saying why there are none. Reading from the offset of this start
// keeps an earlier run's lines out of the excerpt.
func tailFile(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("    (no log: %v)", err)
	}
	defer f.Close()
	const maxRead = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("    (no log: %v)", err)
	}
	start := max(offset, fi.Size()-maxRead, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, start, fi.Size()-start))
	if err != nil {
		return fmt.Sprintf("    (read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return "    (log is empty)"
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// lockRunDir takes an exclusive lock on <runDir>/engine.lock so that two
// inceptionctl processes never start the same daemon twice. The lock file is
// never removed: removing a lock file others may hold is a race. The lock dies
// with the process, and Go opens files close-on-exec, so daemons do not
// inherit it.
func lockRunDir(ctx context.Context, runDir string) (unlock func(), err error) {
	if err := os.MkdirAll(runDir, 0o711); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	path := filepath.Join(runDir, "engine.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
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
			return nil, fmt.Errorf("wait for lock %s (another inceptionctl is starting or stopping the engine): %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// The process helpers live in package proc, which the runtime shares
// without the rest of the engine (and its BuildKit client).
func processArgs(dir string, pid int) ([]string, error) { return proc.Args(dir, pid) }

func processState(dir string, pid int) (string, error) { return proc.State(dir, pid) }

func processExited(dir string, pid int) bool { return proc.Exited(dir, pid) }

func daemonEnv(env []string) []string { return proc.DaemonEnv(env) }

// terminate stops pid: SIGTERM, grace, SIGKILL (proc.Terminate).
func terminate(ctx context.Context, dir string, pid int, grace time.Duration) error {
	if err := proc.Terminate(ctx, dir, pid, grace); err != nil {
		if errors.Is(err, proc.ErrStillRunning) {
			return fmt.Errorf("%w: %w", ErrStopFailed, err)
		}
		return err
	}
	return nil
}
