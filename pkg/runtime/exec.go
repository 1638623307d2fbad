package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
)

var execSeq atomic.Uint64

// execID is unique per process and call: containerd refuses a second exec
// with the id of one that still exists.
func execID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d-%d", prefix, os.Getpid(), time.Now().UnixNano(), execSeq.Add(1))
}

// execCapture runs args in the task, as the container's user, and returns
// its exit code and output (stdout and stderr together). The output goes
// to a file the shim writes, read after the exit (the integration tests saw
// FIFO streams lose the output of short execs on Debian's containerd 1.6
// shim); the shim may still be writing its last bytes then, which only
// shortens the diagnostic kept in the state file, never the exit code. A
// run longer than timeout is killed and reported as an error.
func (r *Runtime) execCapture(ctx context.Context, c containerd.Container, task containerd.Task, args []string, timeout time.Duration, dir string) (int, string, error) {
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, "", err
	}
	if spec.Process == nil {
		return -1, "", errors.New("container spec has no process")
	}
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return -1, "", err
	}
	id := execID("probe")
	outPath := filepath.Join(dir, id+".out")
	defer os.Remove(outPath)
	p, err := task.Exec(ctx, id, &pspec, cio.LogFile(outPath))
	if err != nil {
		return -1, "", fmt.Errorf("exec: %w", err)
	}
	defer p.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) //nolint:errcheck // best effort, the exec is done
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, err := p.Wait(wctx)
	if err != nil {
		return -1, "", fmt.Errorf("exec: %w", err)
	}
	if err := p.Start(ctx); err != nil {
		return -1, "", fmt.Errorf("exec %q: %w", args[0], err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case es := <-exited:
		if _, err := p.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
			return -1, "", err
		}
		out, _ := os.ReadFile(outPath)
		return int(es.ExitCode()), string(out), nil
	case <-timer.C:
		_ = p.Kill(ctx, syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(killTimeout):
		}
		return -1, "", fmt.Errorf("health check timed out after %v", timeout)
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return -1, "", ctx.Err()
	}
}

// TermSize is a terminal's size in characters.
type TermSize struct{ Width, Height uint16 }

// ExecOptions is a command to run in a service's container.
type ExecOptions struct {
	Args []string
	// TTY gives the process a terminal; Stdout then gets everything.
	TTY    bool
	Stdin  io.Reader // nil: no input
	Stdout io.Writer
	Stderr io.Writer
	// Resize receives the terminal's size, first and on every change.
	Resize <-chan TermSize
	Env    []string // added to the container's environment
	User   string   // empty: the container's user (numeric uid[:gid] only)
}

// Exec runs a command in a running service's container, like docker
// exec, and returns its exit code.
func (r *Runtime) Exec(ctx context.Context, stackName, service string, o ExecOptions) (int, error) {
	if len(o.Args) == 0 {
		return -1, fmt.Errorf("%w: exec: no command", errdefs.ErrInvalidArgument)
	}
	c, err := r.serviceContainer(ctx, stackName, service)
	if errdefs.IsNotFound(err) {
		return -1, fmt.Errorf("%s: %w", service, ErrNotCreated)
	}
	if err != nil {
		return -1, err
	}
	st, task, err := taskState(ctx, c)
	if err != nil {
		return -1, err
	}
	if st.Status != containerd.Running {
		return -1, fmt.Errorf("%s: %w (run `inceptionctl start %s`)", service, ErrNotRunning, service)
	}
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, err
	}
	pspec := *spec.Process
	pspec.Args = o.Args
	pspec.Terminal = o.TTY
	pspec.Env = append(append([]string(nil), pspec.Env...), o.Env...)
	if o.User != "" {
		uid, gid, err := parseNumericUser(o.User)
		if err != nil {
			return -1, err
		}
		pspec.User.UID, pspec.User.GID = uid, gid
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	opts := []cio.Opt{cio.WithStreams(o.Stdin, stdout, stderr)}
	if o.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	p, err := task.Exec(ctx, execID("exec"), &pspec, cio.NewCreator(opts...))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", service, err)
	}
	defer p.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill) //nolint:errcheck // best effort
	exited, err := p.Wait(ctx)
	if err != nil {
		return -1, err
	}
	if err := p.Start(ctx); err != nil {
		return -1, fmt.Errorf("exec %q in %s: %w", o.Args[0], service, err)
	}
	if o.Resize != nil {
		go func() {
			for sz := range o.Resize {
				_ = p.Resize(ctx, uint32(sz.Width), uint32(sz.Height))
			}
		}()
	}
	select {
	case es := <-exited:
		// Delete cancels the copy of the output: let it finish first.
		if pio := p.IO(); pio != nil {
			done := make(chan struct{})
			go func() { pio.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
		code, _, err := es.Result()
		return int(code), err
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		return -1, ctx.Err()
	}
}

func parseNumericUser(u string) (uint32, uint32, error) {
	us, gs, hasG := strings.Cut(u, ":")
	uid, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: exec user %q: give uid[:gid] as numbers", errdefs.ErrInvalidArgument, u)
	}
	gid := uid
	if hasG {
		if gid, err = strconv.ParseUint(gs, 10, 32); err != nil {
			return 0, 0, fmt.Errorf("%w: exec user %q: give uid[:gid] as numbers", errdefs.ErrInvalidArgument, u)
		}
	}
	return uint32(uid), uint32(gid), nil
}
