package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"golang.org/x/sync/errgroup"

	"github.com/inceptionctl/inception/pkg/stack"
)

// UpOptions says what Up starts and how long it waits.
type UpOptions struct {
	// Services to start, with everything they depend on; empty means all.
	Services []string
	// Wait waits until every started service is healthy (running, for a
	// service without a health check); a service another started one
	// depends on with service_completed_successfully, until it exited 0.
	Wait bool
	// Timeout bounds the waits: for dependency conditions and for Wait.
	// Zero means as long as ctx allows.
	Timeout time.Duration
}

// Up validates the whole stack, then creates what is missing and starts
// what is not running, in dependency order, waiting on each dependency's
// condition. It is idempotent: a container whose config hash is unchanged is
// left running; a changed one is recreated, once its new container and task
// were created (not started) under a temporary id: a new configuration that
// cannot start leaves the old container running and fails up with
// ErrServiceFailed, naming the service. When a service fails, the services
// this call started are stopped again (those that already ran are left
// alone) and the error says which service failed, why, and the last lines
// of its log.
func (r *Runtime) Up(ctx context.Context, st stack.Stack, o UpOptions) error {
	began := time.Now()
	if _, err := st.Select(o.Services); err != nil {
		return fmt.Errorf("%w: %w", stack.ErrInvalid, err)
	}
	sp, err := r.plan(ctx, st)
	if err != nil {
		return err
	}
	for _, n := range o.Services {
		if sp.services[n] == nil {
			return fmt.Errorf("%w: service %q is disabled", stack.ErrInvalid, n)
		}
	}
	var names []string
	for _, n := range sp.graph.closure(o.Services) {
		if sp.services[n] != nil {
			names = append(names, n)
		}
	}
	pth := r.paths(st.Name)
	existing, err := r.listContainers(ctx, st.Name)
	if err != nil {
		return err
	}
	// Only ports of services not running already can collide with another
	// program: a running service's ports are its own.
	var toCheck []string
	for _, n := range names {
		if c, ok := existing[n]; ok {
			if s, _, err := taskState(ctx, c.c); err == nil && s.Status == containerd.Running {
				continue
			}
		}
		toCheck = append(toCheck, n)
	}
	if err := checkHostPorts(sp, toCheck); err != nil {
		return err
	}

	nw, err := r.network(st.Name)
	if err != nil {
		return err
	}
	if err := nw.CheckSubnetFree(); err != nil {
		return err
	}
	if err := r.prepareStack(ctx, sp, names); err != nil {
		return err
	}
	// Every new container of a recreate is checked before any old one is
	// stopped (see checkNewContainer): a configuration that cannot run
	// leaves the running stack as it is.
	if err := r.checkRecreates(ctx, sp, existing, names); err != nil {
		return err
	}
	if err := r.ensureSupervisor(ctx, st.Name); err != nil {
		return err
	}
	// Every service is brought up in its own goroutine, as docker compose
	// does: its container is recreated or created, its network attached
	// and its secrets installed at once; only its task start waits, for
	// each dependency to be started by its own goroutine and then to meet
	// its condition. Attachments are made one at a time (the CNI plugins
	// create the bridge and the iptables chains they share without a
	// lock), heads of the longest dependency chains first.
	var (
		mu      sync.Mutex
		started []string // in start order: dependencies before dependents
	)
	done := make(map[string]chan struct{}, len(names))
	for _, n := range names {
		done[n] = make(chan struct{})
	}
	order := sp.graph.criticalOrder(names)
	turns := make([]chan struct{}, len(order)+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	eg, ectx := errgroup.WithContext(ctx)
	for i, n := range order {
		eg.Go(func() error {
			p := sp.services[n]
			c, err := r.prepareService(ectx, sp, p, nw, existing[n], turns[i], turns[i+1])
			if err != nil {
				return &serviceError{n, "start", err}
			}
			deps := sp.graph.dependencies(n)
			for _, dep := range sortedKeys(deps) {
				if ch, ok := done[dep]; ok {
					select {
					case <-ch:
					case <-ectx.Done():
						return ectx.Err()
					}
				}
				r.logf("%s: waiting for %s (%s)", n, dep, deps[dep])
				if err := r.waitCondition(ectx, pth, dep, deps[dep], o.Timeout); err != nil {
					return &serviceError{dep, fmt.Sprintf("dependency of %q not met", n), err}
				}
			}
			didStart, err := r.startService(ectx, pth, c, n, p.health != nil)
			if didStart {
				mu.Lock()
				started = append(started, n)
				mu.Unlock()
			}
			if err != nil {
				return &serviceError{n, "start", err}
			}
			close(done[n])
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		r.rollback(ctx, pth, started)
		var se *serviceError
		if !errors.As(err, &se) {
			return err
		}
		return fmt.Errorf("%w: service %q: %s: %w\nlast lines of its log (%s):\n%s",
			ErrServiceFailed, se.service, se.what, se.err, pth.logPath(se.service), tailLog(pth.logPath(se.service), 20))
	}
	if o.Wait {
		if err := r.waitReady(ctx, pth, names, sp.graph.oneShots(names), o.Timeout, began); err != nil {
			return err
		}
	}
	return nil
}

// Services returns what Up starts for names (all when empty): them and
// their dependencies, disabled services left out, in start order.
func (r *Runtime) Services(st stack.Stack, names []string) ([]string, error) {
	if _, err := st.Select(names); err != nil {
		return nil, fmt.Errorf("%w: %w", stack.ErrInvalid, err)
	}
	g, err := newGraph(st.Services)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range g.closure(names) {
		if s := findService(st, n); s != nil && !s.Disabled {
			out = append(out, n)
		}
	}
	return out, nil
}

// prepareStack writes what the containers mount: the /etc files of every
// service (every service of the stack is in each hosts file), the volumes.
func (r *Runtime) prepareStack(ctx context.Context, sp *stackPlan, names []string) error {
	pth := r.paths(sp.name)
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		resolv = nil // no host resolver: containers get none either
	}
	for _, n := range names {
		p := sp.services[n]
		hosts := sp.hosts
		for _, h := range p.svc.ExtraHosts {
			hosts = append(hosts, hostEntry{name: h.Name, ip: net.ParseIP(h.IP)})
		}
		if err := writeEtcFiles(pth.serviceDir(n), p.hostname, hosts, resolv); err != nil {
			return err
		}
		for _, m := range sp.services[n].mounts {
			if m.Volume != "" {
				if err := ensureVolume(m.Source, m.UID, m.GID); err != nil {
					return err
				}
			}
		}
	}
	return pth.store().update(ctx, func(s *State) error {
		for _, n := range names {
			s.service(n).Container = sp.services[n].id
		}
		return nil
	})
}

// serviceError is the failure of one service's bring-up: what failed and
// for which service, whose log tail the error then shows.
type serviceError struct {
	service, what string
	err           error
}

func (e *serviceError) Error() string { return e.service + ": " + e.what + ": " + e.err.Error() }
func (e *serviceError) Unwrap() error { return e.err }

// prepareService makes everything of one service but its running task:
// recreates its container when the config changed, makes its network
// namespace (when netTurn is closed; it closes netDone after), creates the
// container and installs its secrets.
func (r *Runtime) prepareService(ctx context.Context, sp *stackPlan, p *servicePlan, nw *Network, cur stackContainer, netTurn <-chan struct{}, netDone chan<- struct{}) (containerd.Container, error) {
	pth := r.paths(sp.name)
	name := p.svc.Name
	c := cur.c
	if c == nil {
		// A container without our labels (or of another stack) under our id.
		if other, err := r.cd.LoadContainer(ctx, p.id); err == nil {
			return nil, fmt.Errorf("container %s exists but is not %s's service %s: remove it (ctr -n <ns> c rm %s)", p.id, sp.name, name, other.ID())
		} else if !errdefs.IsNotFound(err) {
			return nil, err
		}
	}
	if c != nil && cur.info.hash != p.hash {
		r.logf("%s: configuration changed: recreating", name)
		if err := r.stopService(ctx, pth, name, c, cur.info.grace); err != nil {
			return nil, err
		}
		if err := deleteContainer(ctx, c); err != nil {
			return nil, err
		}
		c = nil
	}
	if c != nil && !isNetNS(pth.netnsPath(name)) {
		// A task in a namespace that is no longer ours (its bind mount was
		// removed under it) would keep an address the network gives anew:
		// stop it, it starts again in the new namespace.
		if st, _, err := taskState(ctx, c); err == nil && st.Status == containerd.Running {
			r.logf("%s: its network namespace is gone: restarting it", name)
			if err := r.stopService(ctx, pth, name, c, cur.info.grace); err != nil {
				return nil, err
			}
		}
	}
	waitFrom := time.Now()
	select {
	case <-netTurn:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	attachFrom := time.Now()
	err := r.ensureNetwork(ctx, nw, pth, name, p.ip, p.ports)
	if err != nil {
		return nil, err
	}
	close(netDone)
	// Each step's time, as docker compose prints its per-container lines:
	// the attachments take turns, so the wait for one's turn is shown too.
	r.logf("%s: network ready in %s (after %s waiting for its turn)", name, seconds(time.Since(attachFrom)), seconds(attachFrom.Sub(waitFrom)))
	if c == nil {
		createFrom := time.Now()
		if c, err = r.createContainer(ctx, sp, p); err != nil {
			return nil, err
		}
		r.logf("%s: container %s created in %s", name, p.id, seconds(time.Since(createFrom)))
	}
	uid, gid, err := processUser(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := installSecrets(p.secretFiles, pth.secretsDir(name), p.svc.Secrets, uid, gid); err != nil {
		return nil, err
	}
	return c, nil
}

// ensureNetwork gives the service its network namespace, attached to the
// stack network with its fixed address and ports. A namespace that exists
// and is attached as wanted is kept; a new one (first up, or after a
// reboot emptied the run dir), or one whose attach was cut short, is
// attached after any stale attachment of the same container is removed.
func (r *Runtime) ensureNetwork(ctx context.Context, nw *Network, pth paths, name string, ip net.IP, ports []PortMapping) error {
	id := containerID(pth.stack, name)
	nsPath := pth.netnsPath(name)
	created, err := createNetNS(nsPath)
	if err != nil {
		return err
	}
	att, err := nw.cachedAttachment(id)
	if err != nil {
		return err
	}
	if !created && att != nil && att.netns == nsPath && strings.Split(att.ip, "/")[0] == ip.String() && samePorts(att.ports, ports) {
		return nil
	}
	switch {
	case att != nil:
		if err := nw.Detach(ctx, id, nsPath, att.ports); err != nil {
			return err
		}
	case !created:
		// A namespace with no attachment on record: an attach was cut
		// short (up killed half-way) and may have left an interface, an
		// address lease or port rules behind, which the attach would
		// trip on. Detaching what is not there is a no-op. The killed
		// command's plugin may still be running (a kill -9 does not reach
		// its children), adding rules while they are removed: the
		// detach then fails ("CHAIN_DEL failed (Device or resource
		// busy)") and is tried again once that plugin is done.
		if err := detachCutShort(ctx, nw, id, nsPath, ports); err != nil {
			return err
		}
	}
	if _, err := nw.Attach(ctx, id, nsPath, ip, ports); err != nil {
		return err
	}
	return nil
}

// detachCutShort detaches what an attach cut short left, trying again for
// up to cutShortDetachWait while it fails.
func detachCutShort(ctx context.Context, nw *Network, id, nsPath string, ports []PortMapping) error {
	return retryFor(ctx, cutShortDetachWait, cutShortDetachPoll, func() error {
		return nw.Detach(ctx, id, nsPath, ports)
	})
}

// retryFor calls f until it succeeds, every poll, for up to wait; then it
// returns f's last error.
func retryFor(ctx context.Context, wait, poll time.Duration, f func() error) error {
	deadline := time.Now().Add(wait)
	for {
		err := f()
		if err == nil || !time.Now().Before(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// How long a detach of a cut-short attach is tried again, and how often:
// a plugin the killed command started (portmap with vsftpd's dozen ports
// runs some 85 iptables processes) is done well within it.
const (
	cutShortDetachWait = 15 * time.Second
	cutShortDetachPoll = 250 * time.Millisecond
)

func samePorts(a, b []PortMapping) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// startService starts the service's task unless it runs, under the
// service's start lock so the supervisor never starts it at the same time,
// and records the start. It reports whether it started one.
func (r *Runtime) startService(ctx context.Context, pth paths, c containerd.Container, name string, health bool) (bool, error) {
	store := pth.store()
	unlock, err := store.lockService(ctx, name)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, _, err := taskState(ctx, c)
	if err != nil {
		return false, err
	}
	if st.Status == containerd.Running {
		return false, store.update(ctx, func(s *State) error {
			ss := s.service(name)
			ss.Container = c.ID()
			ss.UserStopped = false
			ss.Status = StatusRunning
			return nil
		})
	}
	startFrom := time.Now()
	pid, err := r.startTask(ctx, c, pth.logPath(name))
	if err != nil {
		return false, err
	}
	r.logf("%s: started in %s", name, seconds(time.Since(startFrom)))
	// Not cancellable: a started task must be on record.
	return true, store.update(context.WithoutCancel(ctx), func(s *State) error {
		ss := s.service(name)
		ss.Container = c.ID()
		ss.recordStart(pid, time.Now().UTC(), health, false, 0)
		return nil
	})
}

// stopService stops a service for the user: the flag first, under the
// service's start lock, so the supervisor does not restart what exits and
// a restart it has begun is over; then the graceful stop.
func (r *Runtime) stopService(ctx context.Context, pth paths, name string, c containerd.Container, grace time.Duration) error {
	store := pth.store()
	unlock, err := store.lockService(ctx, name)
	if err != nil {
		return err
	}
	err = store.update(ctx, func(s *State) error {
		ss := s.service(name)
		ss.UserStopped = true
		return nil
	})
	unlock()
	if err != nil {
		return err
	}
	res, err := stopTask(ctx, c, grace)
	if err != nil {
		return err
	}
	return store.update(ctx, func(s *State) error {
		ss := s.service(name)
		ss.Status = StatusStopped
		ss.PID = 0
		if res.running {
			code := res.exitCode
			ss.ExitCode = &code
			ss.FinishedAt = res.exitedAt
		}
		if ss.Health != HealthNone {
			ss.Health = HealthNone
		}
		return nil
	})
}

// rollback stops the services an up started, dependents first.
func (r *Runtime) rollback(ctx context.Context, pth paths, started []string) {
	ctx = context.WithoutCancel(ctx)
	cs, err := r.listContainers(ctx, pth.stack)
	if err != nil {
		r.logf("rollback: %v", err)
		return
	}
	for i := len(started) - 1; i >= 0; i-- {
		n := started[i]
		sc, ok := cs[n]
		if !ok {
			continue
		}
		r.logf("%s: stopping (up failed)", n)
		if err := r.stopService(ctx, pth, n, sc.c, sc.info.grace); err != nil {
			r.logf("%s: stop: %v", n, err)
		}
	}
}

// waitCondition waits until service dep meets cond.
func (r *Runtime) waitCondition(ctx context.Context, pth paths, dep string, cond stack.Condition, timeout time.Duration) error {
	if cond == stack.ConditionStarted || cond == "" {
		return nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done, err := r.conditionMet(ctx, pth, dep, cond)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s is not %s: %w", dep, cond, ctx.Err())
		case <-tick.C:
		}
	}
}

func (r *Runtime) conditionMet(ctx context.Context, pth paths, dep string, cond stack.Condition) (bool, error) {
	s, err := pth.store().read()
	if err != nil {
		return false, err
	}
	ss := s.service(dep)
	switch cond {
	case stack.ConditionHealthy:
		switch ss.Health {
		case HealthHealthy:
			return true, nil
		case HealthUnhealthy:
			return false, fmt.Errorf("%s is unhealthy (last check: %s)", dep, strings.TrimSpace(ss.HealthOutput))
		}
		if ss.Status == StatusExited || ss.Status == StatusStopped {
			return false, fmt.Errorf("%s exited (code %s) before it was healthy", dep, exitCodeString(ss.ExitCode))
		}
		return false, nil
	case stack.ConditionCompletedSuccessfully:
		c, err := r.serviceContainer(ctx, pth.stack, dep)
		if err != nil {
			return false, err
		}
		st, _, err := taskState(ctx, c)
		if err != nil {
			return false, err
		}
		if st.Status != containerd.Stopped {
			return false, nil
		}
		if st.ExitStatus != 0 {
			return false, fmt.Errorf("%s exited with code %d", dep, st.ExitStatus)
		}
		return true, nil
	}
	return true, nil
}

func exitCodeString(c *uint32) string {
	if c == nil {
		return "unknown"
	}
	return fmt.Sprint(*c)
}

// waitReady waits until every named service is healthy, or running when it
// has no health check; a one-shot (oneShots) until it exited with code 0,
// as docker compose's up --wait does. It logs when each one is, counted
// from began.
func (r *Runtime) waitReady(ctx context.Context, pth paths, names []string, oneShots map[string]bool, timeout time.Duration, began time.Time) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	ready := make(map[string]bool, len(names))
	for {
		s, err := pth.store().read()
		if err != nil {
			return err
		}
		var waiting []string
		var errs []error
		for _, n := range names {
			ss := s.service(n)
			was := len(waiting)
			switch {
			case oneShots[n] && ss.Status == StatusExited && ss.ExitCode != nil && *ss.ExitCode == 0:
			case oneShots[n] && ss.Status == StatusExited:
				errs = append(errs, fmt.Errorf("%w: %s exited with code %s (services wait for it to complete successfully)", ErrServiceFailed, n, exitCodeString(ss.ExitCode)))
			case oneShots[n]:
				waiting = append(waiting, n)
			case ss.Health == HealthUnhealthy:
				errs = append(errs, fmt.Errorf("%w: %s is unhealthy (last check: %s)", ErrServiceFailed, n, strings.TrimSpace(ss.HealthOutput)))
			case ss.Status == StatusExited:
				errs = append(errs, fmt.Errorf("%w: %s exited with code %s", ErrServiceFailed, n, exitCodeString(ss.ExitCode)))
			case ss.Status != StatusRunning || ss.Health == HealthStarting:
				waiting = append(waiting, n)
			}
			if len(waiting) == was && len(errs) == 0 && !ready[n] {
				ready[n] = true
				what := "healthy"
				if oneShots[n] {
					what = "completed"
				} else if ss.Health == HealthNone || ss.Health == "" {
					what = "running"
				}
				r.logf("%s: %s, %s after up began", n, what, seconds(time.Since(began)))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if len(waiting) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", strings.Join(waiting, ", "), ctx.Err())
		case <-tick.C:
		}
	}
}

// seconds formats d as docker compose prints its step times: 0.42s.
func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
