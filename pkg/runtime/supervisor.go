package runtime

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
)

// reconcileInterval is how often the supervisor looks at every container
// even without an event: events are lost while containerd restarts.
const reconcileInterval = 2 * time.Second

// Supervise runs the supervisor of a stack until ctx ends: it restarts
// exited tasks by their policy, with back-off, and runs health checks,
// recording both in the state file. It is what `inceptionctl supervise`
// runs, detached; only one runs per stack (it holds a lock for its life), a
// second one returns at once.
func (r *Runtime) Supervise(ctx context.Context, stackName string) error {
	pth := r.paths(stackName)
	if err := os.MkdirAll(r.cfg.runDir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(pth.supervisorLock(), os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("supervisor lock: %w", err)
	}
	defer lock.Close()
	if !lockWithin(lock, supervisorLockWait) {
		log.Printf("supervisor of %s already runs (pid %d)", stackName, supervisorPID(pth))
		return nil
	}
	if err := writeFileAtomic(pth.supervisorPID(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pth.supervisorPID())
	log.Printf("supervisor of %s: started (pid %d)", stackName, os.Getpid())
	s := newSupervisor(r, pth)
	go s.watchEvents(ctx)
	tick := time.NewTicker(reconcileInterval)
	defer tick.Stop()
	s.loop(ctx, tick.C, s.reconcile)
	s.stopAll()
	log.Printf("supervisor of %s: stopped", stackName)
	return nil
}

// loop runs reconcile now, then on every tick and whenever one is asked
// for (requestReconcile), one at a time, until ctx ends.
func (s *supervisor) loop(ctx context.Context, tick <-chan time.Time, reconcile func(context.Context)) {
	for {
		reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-s.pending:
		}
	}
}

// supervisorLockWait is how long a new supervisor tries for its lock before
// it concludes that another one runs: a probe of a stopping supervisor
// (stopSupervisor, a replaced binary) may hold it for a moment.
const supervisorLockWait = 500 * time.Millisecond

// lockWithin takes an exclusive lock on f, trying until wait has passed.
func lockWithin(f *os.File, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return true
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type supervisor struct {
	r       *Runtime
	pth     paths
	mu      sync.Mutex
	workers map[string]*worker // by container id
	wg      sync.WaitGroup
	// pending holds at most one asked-for reconcile: a burst of events
	// for containers it does not know yet (BuildKit's build containers
	// share the namespace) costs one reconcile, never one each.
	pending chan struct{}
	// owns reports whether a container it has no worker for is the
	// stack's (ownsContainer; a seam for tests).
	owns func(ctx context.Context, id string) bool
}

func newSupervisor(r *Runtime, pth paths) *supervisor {
	s := &supervisor{r: r, pth: pth, workers: map[string]*worker{}, pending: make(chan struct{}, 1)}
	s.owns = s.ownsContainer
	return s
}

// requestReconcile asks the loop for a reconcile, unless one is pending.
func (s *supervisor) requestReconcile() {
	select {
	case s.pending <- struct{}{}:
	default:
	}
}

// ownsContainer reports whether container id carries the stack's label. A
// container that is gone is not; when containerd cannot say, it counts as
// the stack's, since a reconcile too many costs less than a missed one.
func (s *supervisor) ownsContainer(ctx context.Context, id string) bool {
	c, err := s.r.cd.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		return true
	}
	l, err := c.Labels(ctx)
	if errdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		return true
	}
	return l[LabelStack] == s.pth.stack
}

// reconcile makes one worker per container of the stack.
func (s *supervisor) reconcile(ctx context.Context) {
	cs, err := s.r.listContainers(ctx, s.pth.stack)
	if err != nil {
		if ctx.Err() == nil {
			log.Printf("list containers: %v", err)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for name, sc := range cs {
		id := sc.c.ID()
		seen[id] = true
		w := s.workers[id]
		if w == nil {
			wctx, cancel := context.WithCancel(ctx)
			w = &worker{s: s, id: id, name: name, kick: make(chan struct{}, 1), cancel: cancel}
			s.workers[id] = w
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				w.run(wctx)
			}()
		}
		w.poke()
	}
	for id, w := range s.workers {
		if !seen[id] {
			w.poke() // it finds its container gone and ends
		}
	}
}

func (s *supervisor) kick(ctx context.Context, containerID string) {
	s.mu.Lock()
	w := s.workers[containerID]
	s.mu.Unlock()
	if w != nil {
		w.poke()
		return
	}
	// A container we do not know yet: when it is the stack's, the next
	// reconcile finds it. Any other container (a build's, another
	// stack's) is none of the supervisor's business.
	if s.owns(ctx, containerID) {
		s.requestReconcile()
	}
}

func (s *supervisor) remove(w *worker) {
	s.mu.Lock()
	if s.workers[w.id] == w {
		delete(s.workers, w.id)
	}
	s.mu.Unlock()
}

func (s *supervisor) stopAll() {
	s.mu.Lock()
	for _, w := range s.workers {
		w.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// watchEvents pokes the worker of every container a task event names. The
// subscription is made again whenever it breaks (containerd restarts).
func (s *supervisor) watchEvents(ctx context.Context) {
	ns := s.r.cfg.namespace
	filters := []string{}
	for _, topic := range []string{"/tasks/start", "/tasks/exit", "/tasks/delete", "/tasks/oom", "/containers/create", "/containers/delete"} {
		filters = append(filters, fmt.Sprintf(`namespace==%s,topic==%q`, ns, topic))
	}
	for ctx.Err() == nil {
		ch, errs := s.r.cd.EventService().Subscribe(ctx, filters...)
	loop:
		for {
			select {
			case env := <-ch:
				if env == nil || env.Event == nil {
					continue
				}
				ev, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					log.Printf("event %s: %v", env.Topic, err)
					continue
				}
				switch e := ev.(type) {
				case *apievents.TaskExit:
					// The exit of an exec (a health check) is not the task's.
					if e.ID == e.ContainerID {
						s.kick(ctx, e.ContainerID)
					}
				case *apievents.TaskStart:
					s.kick(ctx, e.ContainerID)
				case *apievents.TaskDelete:
					s.kick(ctx, e.ContainerID)
				case *apievents.TaskOOM:
					s.kick(ctx, e.ContainerID)
				case *apievents.ContainerCreate:
					s.kick(ctx, e.ID)
				case *apievents.ContainerDelete:
					s.kick(ctx, e.ID)
				}
			case err := <-errs:
				if ctx.Err() == nil && err != nil && !errors.Is(err, context.Canceled) {
					log.Printf("events: %v (subscribing again)", err)
				}
				break loop
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			s.requestReconcile() // catch up on what happened meanwhile
		}
	}
}

// worker supervises one container: one goroutine, so its restarts and its
// health checker never race each other.
type worker struct {
	s      *supervisor
	id     string
	name   string
	kick   chan struct{}
	cancel context.CancelFunc

	probePID    uint32 // task the health checker runs for
	probeCancel context.CancelFunc
}

func (w *worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	defer w.stopProbe()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		}
		if gone := w.reconcile(ctx); gone {
			w.s.remove(w)
			return
		}
	}
}

// reconcile looks at the container's task and acts: a health checker for a
// running task, the restart policy for an exited one. It reports whether the
// container is gone.
func (w *worker) reconcile(ctx context.Context) bool {
	c, err := w.s.r.cd.LoadContainer(ctx, w.id)
	if errdefs.IsNotFound(err) {
		return true
	}
	if err != nil {
		return false
	}
	l, err := c.Labels(ctx)
	if err != nil {
		return errdefs.IsNotFound(err)
	}
	info, err := parseServiceInfo(l)
	if err != nil {
		log.Printf("%s: %v", w.name, err)
		return false
	}
	st, task, err := taskState(ctx, c)
	if err != nil {
		return false
	}
	switch st.Status {
	case containerd.Running:
		if w.probePID != task.Pid() {
			w.stopProbe()
			if info.health != nil {
				w.startProbe(ctx, c, task, *info.health)
			}
		}
	case containerd.Stopped:
		w.stopProbe()
		w.handleExit(ctx, c, info, task, st)
	default:
		w.stopProbe()
	}
	return false
}

// handleExit records an exit and applies the restart policy: wait out the
// back-off, then start a new task, unless the user stopped the service
// meanwhile or someone else started it.
func (w *worker) handleExit(ctx context.Context, c containerd.Container, info serviceInfo, task containerd.Task, st containerd.Status) {
	store := w.s.pth.store()
	var restart bool
	var delay time.Duration
	// The start lock first: a task that exits at once may be seen here
	// before the command that started it has put the start on record.
	unlock, err := store.lockService(ctx, w.name)
	if err != nil {
		return // ctx ended
	}
	// A command may have replaced the exited task meanwhile (the up after
	// a killed up deletes the task that one left, and starts its own): the
	// new task's start is on record, and this exit is no longer the
	// service's to record or act on.
	if _, cur, err := taskState(ctx, c); err == nil && cur != nil && cur.Pid() != task.Pid() {
		unlock()
		return
	}
	err = store.update(ctx, func(s *State) error {
		ss := s.service(w.name)
		if ss.FinishedAt.Equal(st.ExitTime) && ss.Status != StatusRestarting {
			return nil // handled already
		}
		code := st.ExitStatus
		ss.ExitCode, ss.FinishedAt, ss.PID = &code, st.ExitTime, 0
		if ss.Health != HealthNone {
			ss.Health = HealthNone
		}
		if ss.UserStopped {
			ss.Status = StatusStopped
			return nil
		}
		if !shouldRestart(info.restart, exitInfo{code: code, restarts: ss.Restarts}) {
			ss.Status = StatusExited
			log.Printf("%s: exited with code %d; policy %s: not restarting", w.name, code, info.restart)
			return nil
		}
		ran := max(st.ExitTime.Sub(ss.StartedAt), 0)
		if ss.Status == StatusRestarting && ss.Backoff > 0 {
			delay = ss.Backoff // a supervisor before us chose it
		} else {
			delay = nextBackoff(ss.Backoff, ran)
		}
		ss.Status, ss.Backoff, restart = StatusRestarting, delay, true
		log.Printf("%s: exited with code %d after %v; restarting in %v", w.name, code, ran.Round(time.Millisecond), delay)
		return nil
	})
	unlock()
	if err != nil || !restart {
		if err != nil && ctx.Err() == nil {
			log.Printf("%s: %v", w.name, err)
		}
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(delay):
	}
	w.restart(ctx, c, info, task, delay)
	w.poke()
}

// restart starts a new task for the exited one, under the service's start
// lock: unless the user stopped the service meanwhile, or a command
// started or deleted it.
func (w *worker) restart(ctx context.Context, c containerd.Container, info serviceInfo, task containerd.Task, delay time.Duration) {
	store := w.s.pth.store()
	unlock, err := store.lockService(ctx, w.name)
	if err != nil {
		return // ctx ended
	}
	defer unlock()
	s, err := store.read()
	if err != nil {
		log.Printf("%s: %v", w.name, err)
		return
	}
	record := func(fn func(*ServiceState)) {
		if err := store.update(context.WithoutCancel(ctx), func(s *State) error {
			fn(s.service(w.name))
			return nil
		}); err != nil {
			log.Printf("%s: %v", w.name, err)
		}
	}
	if s.service(w.name).UserStopped {
		record(func(ss *ServiceState) { ss.Status = StatusStopped })
		return
	}
	cur, t, err := taskState(ctx, c)
	if err != nil {
		if ctx.Err() == nil {
			log.Printf("%s: %v", w.name, err)
		}
		return
	}
	if cur.Status == containerd.Running || (t != nil && t.Pid() != task.Pid()) {
		return // started by a command meanwhile
	}
	if cur.Status == containerd.Unknown {
		return // deleted by a command meanwhile: not ours to start
	}
	pid, err := w.s.r.startTask(ctx, c, w.s.pth.logPath(w.name))
	if err != nil {
		log.Printf("%s: restart: %v", w.name, err)
		record(func(ss *ServiceState) { ss.Status = StatusExited })
		return
	}
	record(func(ss *ServiceState) {
		ss.recordStart(pid, time.Now().UTC(), info.health != nil, true, delay)
		log.Printf("%s: restarted (pid %d, restart %d)", w.name, pid, ss.Restarts)
	})
}

func (w *worker) stopProbe() {
	if w.probeCancel != nil {
		w.probeCancel()
		w.probeCancel = nil
	}
	w.probePID = 0
}

// startProbe runs the health check of the task until the task changes.
func (w *worker) startProbe(ctx context.Context, c containerd.Container, task containerd.Task, hc healthCheck) {
	pctx, cancel := context.WithCancel(ctx)
	w.probeCancel, w.probePID = cancel, task.Pid()
	pid := task.Pid()
	store := w.s.pth.store()
	started := time.Now()
	if s, err := store.read(); err == nil {
		if ss := s.Services[w.name]; ss != nil && ss.PID == pid && !ss.StartedAt.IsZero() {
			started = ss.StartedAt
		}
	} else {
		log.Printf("%s: %v (the start period counts from now)", w.name, err)
	}
	go func() {
		tr := newHealthTracker(hc, started)
		var failing bool
		var lastErr string
		for {
			select {
			case <-pctx.Done():
				return
			case <-time.After(tr.nextDelay(time.Now())):
			}
			code, out, err := w.s.r.execCapture(pctx, c, task, hc.Args, hc.Timeout, w.s.pth.probeDir(w.name))
			if pctx.Err() != nil {
				return
			}
			ok := err == nil && code == 0
			if err != nil {
				out = err.Error()
			}
			now := time.Now().UTC()
			werr := store.update(pctx, func(s *State) error {
				ss := s.service(w.name)
				if ss.PID != pid {
					// Another task now, or this one's start is not on
					// record yet: the result counts for nothing.
					return nil
				}
				status := tr.record(now, ok)
				if ss.Health != status {
					log.Printf("%s: %s", w.name, status)
				}
				ss.Health, ss.FailingStreak, ss.HealthAt = status, tr.streak, now
				if len(out) > healthOutputMax {
					out = out[len(out)-healthOutputMax:]
				}
				ss.HealthOutput = out
				return nil
			})
			// up --wait and dependency conditions read the health from
			// the state file: a write that fails must be in the log, or
			// they wait out their timeout with nothing to say why.
			switch {
			case werr != nil && pctx.Err() == nil && (!failing || werr.Error() != lastErr):
				log.Printf("%s: record health: %v", w.name, werr)
				failing, lastErr = true, werr.Error()
			case werr == nil && failing:
				log.Printf("%s: health recorded again", w.name)
				failing = false
			}
		}
	}()
}

// SupervisorConfig is what a supervisor process needs: where the engine
// is, and the program that implements `logger` for the tasks it restarts.
type SupervisorConfig struct {
	Stack             string
	Root, RunDir      string
	ContainerdAddress string
	Namespace         string
	Helper            string // empty: os.Executable
}

// RunSupervisor connects to containerd, waiting for it while it is down
// (the engine restarts), and supervises the stack until ctx ends: the
// supervisor helper that HelperMain runs.
func RunSupervisor(ctx context.Context, c SupervisorConfig) error {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if c.Stack == "" {
		return errors.New("supervise: no stack given")
	}
	var cd *containerd.Client
	for {
		var err error
		cd, err = containerd.New(c.ContainerdAddress, containerd.WithDefaultNamespace(c.Namespace))
		if err == nil {
			break
		}
		log.Printf("connect to containerd at %s: %v (retrying)", c.ContainerdAddress, err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	defer cd.Close()
	helper := c.Helper
	if helper == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("supervise: find this program to run as the log shipper: %w", err)
		}
		helper = exe
	}
	opts := []Option{WithRoot(c.Root), WithRunDir(c.RunDir), WithContainerd(c.ContainerdAddress, c.Namespace), WithHelper(helper)}
	r, err := New(cd, opts...)
	if err != nil {
		return err
	}
	return r.Supervise(namespaces.WithNamespace(ctx, c.Namespace), c.Stack)
}
