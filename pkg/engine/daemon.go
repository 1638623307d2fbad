package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

const (
	defaultReadyTimeout = 30 * time.Second // start until the daemon answers
	defaultStopTimeout  = 10 * time.Second // SIGTERM until SIGKILL
	probeTimeout        = 3 * time.Second  // one question to a daemon
	logTailLines        = 20
)

// daemon is one embedded daemon: its files, and how to tell that it is
// ready. containerd.go and buildkitd.go fill it in.
type daemon struct {
	name       string // "containerd" or "buildkitd", also the binary's name
	binary     string // explicit binary; empty: next to the executable, then $PATH
	hint       string // what to do when the binary is missing
	configPath string
	config     func() ([]byte, error)
	dirs       []string // created before the start
	pidFile    string
	socket     string   // the socket probed for liveness
	sockets    []string // every socket file the daemon creates, socket first
	logPath    string
	// ready asks the daemon whether it can serve the engine and returns its
	// version. A nil error means ready.
	ready func(ctx context.Context) (version string, err error)
}

// pidFileState says what a daemon's pid file tells.
type pidFileState int

const (
	pidFileMissing pidFileState = iota
	pidFileCurrent              // names the running daemon
	pidFileStale                // unreadable, or names a dead process or another program
)

// daemonState is what the files of a daemon and /proc say, before any
// question to the daemon itself.
type daemonState struct {
	pid     int // the running daemon, 0 when none
	pidFile pidFileState
	socket  socketState
}

// inspect reads the pid file, checks its process and probes the socket. A pid
// file whose process is gone, or now runs another program, is stale; a lost
// pid file is made up for by a scan of /proc for our config path.
func (d *daemon) inspect(proc string) daemonState {
	var st daemonState
	pid, err := readPIDFile(d.pidFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		st.pidFile = pidFileMissing
	case err == nil && isDaemonProcess(proc, pid, d.configPath):
		st.pidFile = pidFileCurrent
		st.pid = pid
	default:
		st.pidFile = pidFileStale
	}
	if st.pid == 0 {
		st.pid = findDaemonProcess(proc, d.configPath)
	}
	st.socket = socketStateOf(d.socket)
	return st
}

// removeStale removes what a dead daemon left behind: its pid file when
// stale, and its socket files when nobody listens on them.
func (d *daemon) removeStale(st daemonState) error {
	var errs []error
	if st.pidFile == pidFileStale {
		errs = append(errs, removeIfExists(d.pidFile))
	}
	for _, s := range d.sockets {
		if socketStateOf(s) == socketStale {
			errs = append(errs, removeIfExists(s))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove stale files of %s: %w", d.name, err)
	}
	return nil
}

// started is a daemon this process started.
type started struct {
	pid       int
	exited    <-chan error // receives cmd.Wait's result
	logOffset int64        // size of the log before the start
}

// start writes the config and starts the daemon detached: in its own session
// (Setsid), so that neither a terminal hang-up nor the Ctrl-C meant for
// inceptionctl reaches it, with its output appended to its log and stdin on
// /dev/null. exec.Command, not CommandContext: the daemon must outlive ctx.
//
// We do not double-fork. A goroutine Waits on the daemon for as long as this
// process lives, so an early exit is seen at once and reaped; when
// inceptionctl exits, the daemon is re-parented to init. Whatever adopts it
// may not reap it, so liveness checks treat a zombie as dead.
func (d *daemon) start() (*started, error) {
	bin, err := findBinary(d.name, d.binary)
	if err != nil {
		return nil, fmt.Errorf("%w; %s", err, d.hint)
	}
	for _, dir := range d.dirs {
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return nil, fmt.Errorf("start %s: %w", d.name, err)
		}
	}
	cfg, err := d.config()
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(d.configPath, cfg, 0o644); err != nil {
		return nil, fmt.Errorf("write %s config: %w", d.name, err)
	}
	logf, err := os.OpenFile(d.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", d.name, err)
	}
	defer logf.Close() // the daemon has its own copy of the descriptor
	offset, err := logf.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", d.name, err)
	}
	fmt.Fprintf(logf, "---- %s inceptionctl: start %s --config %s\n", time.Now().Format(time.RFC3339), bin, d.configPath)

	cmd := exec.Command(bin, "--config", d.configPath)
	cmd.Dir = "/"
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.Env = daemonEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", d.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := writePIDFile(d.pidFile, cmd.Process.Pid); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("start %s: write pid file: %w", d.name, err)
	}
	return &started{pid: cmd.Process.Pid, exited: exited, logOffset: offset}, nil
}

// waitReady asks d whether it is ready until it is, until exited reports
// that the process is gone, or until timeout. Errors carry the last lines
// of the daemon's log, because that is where the reason is.
func (d *daemon) waitReady(ctx context.Context, exited <-chan error, logOffset int64, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		actx, acancel := context.WithTimeout(wctx, probeTimeout)
		_, err := d.ready(actx)
		acancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case exitErr := <-exited:
			_ = removeIfExists(d.pidFile)
			return d.startError(fmt.Sprintf("exited while starting (%v)", exitErr), logOffset)
		case <-wctx.Done():
			if ctx.Err() != nil {
				return fmt.Errorf("wait for %s: %w", d.name, ctx.Err())
			}
			return d.startError(fmt.Sprintf("did not answer within %v (last answer: %v); it is left running, `inceptionctl engine stop` stops it", timeout, lastErr), logOffset)
		case <-tick.C:
		}
	}
}

func (d *daemon) startError(what string, logOffset int64) error {
	return fmt.Errorf("start %s: %s: %w\nlast lines of %s:\n%s",
		d.name, what, ErrStartFailed, d.logPath, tailFile(d.logPath, logOffset, logTailLines))
}

// ensure makes d run and answer: a running daemon is left alone (same pid),
// a dead one's leftovers are removed and it is started again.
func (d *daemon) ensure(ctx context.Context, proc string, timeout time.Duration) error {
	st := d.inspect(proc)
	if st.pid != 0 {
		if err := d.checkConfig(); err != nil {
			return fmt.Errorf("%s (pid %d): %w", d.name, st.pid, err)
		}
		if st.pidFile != pidFileCurrent {
			if err := writePIDFile(d.pidFile, st.pid); err != nil {
				return fmt.Errorf("repair %s pid file: %w", d.name, err)
			}
		}
		// It may still be starting: another inceptionctl started it a moment ago.
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		return d.waitReady(wctx, watchProcess(wctx, proc, st.pid, d.configPath), -1, timeout)
	}
	if st.socket == socketListening {
		// No process of this engine, yet something listens on our socket.
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		if _, err := d.ready(pctx); err != nil {
			return fmt.Errorf("%s: %s listens but is not a %s of this engine (%w); stop what listens there or pick another --run-dir: %w",
				d.name, d.socket, d.name, err, ErrStartFailed)
		}
		return nil
	}
	if err := d.removeStale(st); err != nil {
		return err
	}
	s, err := d.start()
	if err != nil {
		return err
	}
	return d.waitReady(ctx, s.exited, s.logOffset, timeout)
}

// checkConfig compares the config a running daemon was started with to the
// one the engine would write now.
func (d *daemon) checkConfig() error {
	want, err := d.config()
	if err != nil {
		return err
	}
	have, err := os.ReadFile(d.configPath)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	if !bytes.Equal(have, want) {
		return fmt.Errorf("runs with %s, which differs from the options given; run `inceptionctl engine stop`, then start again: %w",
			d.configPath, ErrConfigChanged)
	}
	return nil
}

// stop terminates d if it runs and removes its pid file and sockets.
// Stopping a stopped daemon is not an error.
func (d *daemon) stop(ctx context.Context, proc string, grace time.Duration) error {
	st := d.inspect(proc)
	if st.pid != 0 {
		if err := terminate(ctx, proc, st.pid, grace); err != nil {
			return fmt.Errorf("stop %s (pid %d): %w", d.name, st.pid, err)
		}
	}
	errs := []error{removeIfExists(d.pidFile)}
	for _, s := range d.sockets {
		if socketStateOf(s) == socketListening {
			errs = append(errs, fmt.Errorf("%s still has a listener after %s stopped; left in place", s, d.name))
			continue
		}
		errs = append(errs, removeIfExists(s))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop %s: %w", d.name, err)
	}
	return nil
}

// status reports d without changing anything.
func (d *daemon) status(ctx context.Context, proc, address string) DaemonStatus {
	st := d.inspect(proc)
	ds := DaemonStatus{Address: address, PID: st.pid, Log: d.logPath}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	v, err := d.ready(pctx)
	switch {
	case err == nil:
		ds.Running, ds.Version = true, v
	case st.pid != 0:
		ds.Error = fmt.Sprintf("process %d is not ready on %s: %v (see %s)", st.pid, d.socket, err, d.logPath)
	case st.pidFile == pidFileStale || st.socket == socketStale:
		ds.Error = "not running (stale pid file or socket left behind; `inceptionctl engine start` cleans up)"
	default:
		ds.Error = "not running"
	}
	return ds
}

// findBinary finds a daemon's binary: the explicit path, else next to the
// running executable (where `make deps` puts buildkitd), else $PATH.
func findBinary(name, explicit string) (string, error) {
	if explicit != "" {
		if isExecutable(explicit) {
			return filepath.Abs(explicit)
		}
		return "", fmt.Errorf("%s %s is not an executable file: %w", name, explicit, ErrBinaryNotFound)
	}
	where := "$PATH"
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if isExecutable(p) {
			return p, nil
		}
		where = filepath.Dir(exe) + " or " + where
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("%s not in %s: %w", name, where, ErrBinaryNotFound)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
