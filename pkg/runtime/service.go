package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"

	"github.com/inceptionctl/inception/pkg/stack"
)

// selectContainers returns the named services' containers (all when names
// is empty), and a graph of their depends_on labels for ordering.
func (r *Runtime) selectContainers(ctx context.Context, stackName string, names []string) (map[string]stackContainer, *graph, []string, error) {
	cs, err := r.listContainers(ctx, stackName)
	if err != nil {
		return nil, nil, nil, err
	}
	var svcs []stack.Service
	for n, c := range cs {
		deps := map[string]stack.Condition{}
		for d, cond := range c.info.dependsOn {
			if _, ok := cs[d]; ok {
				deps[d] = cond
			}
		}
		svcs = append(svcs, stack.Service{Name: n, DependsOn: deps})
	}
	sort.Slice(svcs, func(i, j int) bool { return cs[svcs[i].Name].info.index < cs[svcs[j].Name].info.index })
	g, err := newGraph(svcs)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("containers of %s: %w", stackName, err)
	}
	if len(names) == 0 {
		return cs, g, g.order, nil
	}
	var missing []string
	for _, n := range names {
		if _, ok := cs[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: %w", quote(missing), ErrNotCreated)
	}
	return cs, g, names, nil
}

// Stop stops services gracefully (stop signal, grace period, SIGKILL),
// dependents first; all of the stack's when names is empty. A stopped
// service stays stopped, whatever its restart policy, until start or up.
func (r *Runtime) Stop(ctx context.Context, stackName string, names []string) error {
	cs, g, names, err := r.selectContainers(ctx, stackName, names)
	if err != nil {
		return err
	}
	pth := r.paths(stackName)
	var errs []error
	for _, n := range g.stopOrder(names) {
		r.logf("%s: stopping", n)
		if err := r.stopService(ctx, pth, n, cs[n].c, cs[n].info.grace); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// Start starts stopped services, dependencies first; all of the stack's
// when names is empty. It needs the containers `up` created: after a
// reboot it recreates their network namespaces, but the secrets (kept on
// tmpfs) only `up` installs again.
func (r *Runtime) Start(ctx context.Context, stackName string, names []string) error {
	cs, g, names, err := r.selectContainers(ctx, stackName, names)
	if err != nil {
		return err
	}
	if err := r.ensureSupervisor(ctx, stackName); err != nil {
		return err
	}
	nw, err := r.network(stackName)
	if err != nil {
		return err
	}
	pth := r.paths(stackName)
	for _, n := range g.startOrder(names) {
		sc := cs[n]
		if err := r.prepareStart(ctx, nw, pth, sc); err != nil {
			return fmt.Errorf("start %s: %w", n, err)
		}
		if _, err := r.startService(ctx, pth, sc.c, n, sc.info.health != nil); err != nil {
			return fmt.Errorf("%w: start %s: %w\nlast lines of its log:\n%s", ErrServiceFailed, n, err, tailLog(pth.logPath(n), 20))
		}
	}
	return nil
}

// prepareStart checks what a task of an existing container needs outside
// containerd: its network namespace (made again after a reboot, same
// address and ports) and its secret files.
func (r *Runtime) prepareStart(ctx context.Context, nw *Network, pth paths, sc stackContainer) error {
	ip := net.ParseIP(sc.info.ip)
	if ip == nil {
		return fmt.Errorf("container %s has no address label: run `inceptionctl up` to recreate it", sc.c.ID())
	}
	if err := r.ensureNetwork(ctx, nw, pth, sc.info.name, ip, sc.info.ports); err != nil {
		return err
	}
	spec, err := sc.c.Spec(ctx)
	if err != nil {
		return err
	}
	secrets := pth.secretsDir(sc.info.name) + "/"
	for _, m := range spec.Mounts {
		if strings.HasPrefix(m.Source, secrets) {
			if _, err := os.Stat(m.Source); err != nil {
				return fmt.Errorf("secret %s is gone (a reboot empties the run dir): run `inceptionctl up` to install the secrets again", m.Destination)
			}
		}
	}
	return nil
}

// Restart stops then starts services; all of the stack's when names is
// empty.
func (r *Runtime) Restart(ctx context.Context, stackName string, names []string) error {
	if err := r.Stop(ctx, stackName, names); err != nil {
		return err
	}
	return r.Start(ctx, stackName, names)
}
