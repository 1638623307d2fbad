package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/errdefs"
)

// killTimeout bounds the wait for a task to exit after SIGKILL.
const killTimeout = 10 * time.Second

// taskIO sends the task's output to the logging binary, which writes the
// service's rotated JSON log.
func (r *Runtime) taskIO(logPath string) cio.Creator {
	return cio.BinaryIO(r.cfg.helper, loggerArgs(logPath))
}

// startTask creates and starts c's task, in containerd's order: Wait is
// asked before Start, so not even an immediate exit can be missed. A task
// left behind (exited, or created and never started by a crashed
// inceptionctl) is deleted first. It returns the task's pid.
func (r *Runtime) startTask(ctx context.Context, c containerd.Container, logPath string) (uint32, error) {
	if r.cfg.helper == "" {
		return 0, ErrNoHelper
	}
	deadline := time.Now().Add(interruptedCreateWait)
	var task containerd.Task
	for {
		if t, err := c.Task(ctx, nil); err == nil {
			st, err := t.Status(ctx)
			if err != nil && !errdefs.IsNotFound(err) {
				return 0, fmt.Errorf("task of %s: %w", c.ID(), err)
			}
			if st.Status == containerd.Running || st.Status == containerd.Paused || st.Status == containerd.Pausing {
				return t.Pid(), nil
			}
			if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
				return 0, fmt.Errorf("delete old task of %s: %w", c.ID(), err)
			}
		} else if !errdefs.IsNotFound(err) {
			return 0, fmt.Errorf("task of %s: %w", c.ID(), err)
		}
		var err error
		task, err = c.NewTask(ctx, r.taskIO(logPath))
		if err == nil {
			break
		}
		if !createInterrupted(err) || time.Now().After(deadline) {
			return 0, fmt.Errorf("create task of %s: %w", c.ID(), err)
		}
		// A command killed while it created this task (kill -9 of up):
		// containerd goes on with that create, then keeps or undoes it.
		// Wait for it, then take what it left.
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("create task of %s: %w", c.ID(), ctx.Err())
		case <-time.After(interruptedCreatePoll):
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := task.Wait(wctx); err != nil {
		return 0, errors.Join(fmt.Errorf("wait on task of %s: %w", c.ID(), err), deleteFailedTask(ctx, task))
	}
	if err := task.Start(ctx); err != nil {
		return 0, errors.Join(fmt.Errorf("start task of %s: %w", c.ID(), err), deleteFailedTask(ctx, task))
	}
	return task.Pid(), nil
}

// How long startTask waits for a task create that an interrupted command
// left running in containerd, and how often it looks.
const (
	interruptedCreateWait = 15 * time.Second
	interruptedCreatePoll = 100 * time.Millisecond
)

// createInterrupted reports whether a task create failed because another
// create of the same task was still under way in containerd, which does
// not keep two apart: the shim's bundle directory existed already, or the
// other create's clean-up removed it under the new shim. containerd says
// so only in words (no errdefs class).
func createInterrupted(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return (strings.Contains(msg, "io.containerd.runtime.v2.task") && strings.Contains(msg, "file exists")) ||
		(strings.Contains(msg, "failed to start shim") && strings.Contains(msg, "getwd: no such file or directory"))
}

// deleteFailedTask removes a task that could not be started; what it
// cannot remove, the next start of the container removes first.
func deleteFailedTask(ctx context.Context, task containerd.Task) error {
	if _, err := task.Delete(context.WithoutCancel(ctx), containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove the task that did not start (the next start retries): %w", err)
	}
	return nil
}

// stopResult is how a stopped task ended.
type stopResult struct {
	running  bool // there was a running task to stop
	exitCode uint32
	exitedAt time.Time
	killed   bool // the grace period ran out: SIGKILL
}

// stopTask stops c's task like containerd stops one: the image's stop signal
// (a container label, SIGTERM by default) to the main process, up to grace
// for it to exit by itself, then SIGKILL to every process of the container.
// The exited task is deleted. Safe to repeat: no task is not an error.
func stopTask(ctx context.Context, c containerd.Container, grace time.Duration) (stopResult, error) {
	var res stopResult
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("task of %s: %w", c.ID(), err)
	}
	st, err := task.Status(ctx)
	if err != nil && !errdefs.IsNotFound(err) {
		return res, fmt.Errorf("task of %s: %w", c.ID(), err)
	}
	switch st.Status {
	case containerd.Running, containerd.Paused:
		res.running = true
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		exited, err := task.Wait(wctx)
		if err != nil {
			return res, fmt.Errorf("wait on task of %s: %w", c.ID(), err)
		}
		sig, err := containerd.GetStopSignal(ctx, c, syscall.SIGTERM)
		if err != nil {
			sig = syscall.SIGTERM
		}
		if err := task.Kill(ctx, sig); err != nil && !errdefs.IsNotFound(err) {
			return res, fmt.Errorf("signal %s: %w", c.ID(), err)
		}
		var es containerd.ExitStatus
		select {
		case es = <-exited:
		case <-time.After(grace):
			res.killed = true
			if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
				return res, fmt.Errorf("kill %s: %w", c.ID(), err)
			}
			select {
			case es = <-exited:
			case <-time.After(killTimeout):
				return res, fmt.Errorf("%s did not exit %v after SIGKILL", c.ID(), killTimeout)
			case <-ctx.Done():
				return res, ctx.Err()
			}
		case <-ctx.Done():
			return res, ctx.Err()
		}
		res.exitCode, res.exitedAt = es.ExitCode(), es.ExitTime()
	case containerd.Stopped:
		res.exitCode, res.exitedAt = st.ExitStatus, st.ExitTime
	}
	if _, err := task.Delete(ctx); err != nil && !errdefs.IsNotFound(err) {
		if _, err2 := task.Delete(ctx, containerd.WithProcessKill); err2 != nil && !errdefs.IsNotFound(err2) {
			return res, fmt.Errorf("delete task of %s: %w", c.ID(), errors.Join(err, err2))
		}
	}
	return res, nil
}

// taskState returns the status of c's task; no task is containerd.Unknown.
func taskState(ctx context.Context, c containerd.Container) (containerd.Status, containerd.Task, error) {
	task, err := c.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return containerd.Status{Status: containerd.Unknown}, nil, nil
	}
	if err != nil {
		return containerd.Status{}, nil, err
	}
	st, err := task.Status(ctx)
	if errdefs.IsNotFound(err) {
		return containerd.Status{Status: containerd.Unknown}, nil, nil
	}
	return st, task, err
}
