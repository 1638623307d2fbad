package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/runtime-spec/specs-go"
)

// A recreate must not take a working service down for a configuration that
// cannot run. Up so checks every new container before it removes any old
// one: it creates the new container under a temporary id (checkID), with
// the new spec, image and snapshot, and creates its task (runc create: the
// mounts, the user, the cgroup limits, the namespaces and the program to
// run are all set up and checked, up to the exec of the service's process)
// but never starts it. Any failure there (an image that does not unpack,
// a spec that cannot be made, a task that runc refuses) fails up before
// anything is touched: the old container keeps running.
//
// The checked container is then removed and the old one replaced as
// before, under the service's fixed id. Containerd cannot rename a
// container, and the id is the one docker compose gives (<project>-<service>
// or container_name) that users and tools address; the runtime's own
// bookkeeping (the network attachment, keyed by <project>-<service>; the
// netns, state, log and secrets files, keyed by service name; the
// supervisor, which follows the containers labelled with the stack) keeps
// pointing at it. A new container living on under a temporary id would
// have to be found by label everywhere, and stop being the name users type.
//
// So the trial container stays out of that bookkeeping: it has no stack
// label (listContainers, ps, down's selection and the supervisor never
// see it; labelCheckOf finds leftovers of a crashed up), a network
// namespace of its own, never attached (the service's one, with its
// address and ports, stays the old task's), no log (its task's IO is
// discarded) and no state. What the check cannot see is what happens after
// the exec: a process that exits or never becomes healthy fails like any
// start does. Running the new process beside the old one to see that would
// put two servers on one data directory (MariaDB) and one address.

// labelCheckOf marks a trial container of a recreate with its stack's name.
const labelCheckOf = "io.inception.check-of"

// maxContainerID is containerd's limit on an identifier's length.
const maxContainerID = 76

// checkID is the temporary id of the trial container of the container id.
func checkID(id string) string {
	if c := id + ".check"; len(c) <= maxContainerID {
		return c
	}
	sum := sha256.Sum256([]byte(id))
	return "inc-check." + hex.EncodeToString(sum[:8])
}

// checkRecreates checks the new container of every service of names whose
// container exists with another configuration (see above), all at once.
// The error names each service that failed and why.
func (r *Runtime) checkRecreates(ctx context.Context, sp *stackPlan, existing map[string]stackContainer, names []string) error {
	var todo []string
	for _, n := range names {
		if cur, ok := existing[n]; ok && cur.c != nil && cur.info.hash != sp.services[n].hash {
			todo = append(todo, n)
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, n := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.checkNewContainer(ctx, sp, sp.services[n]); err != nil {
				errs[i] = fmt.Errorf("service %q: its new container does not start, the current one was left as it is: %w", n, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrServiceFailed, err)
	}
	return nil
}

// checkNewContainer creates the service's new container under its
// temporary id, installs its secrets, creates its task, and removes both.
func (r *Runtime) checkNewContainer(ctx context.Context, sp *stackPlan, p *servicePlan) (err error) {
	name := p.svc.Name
	id := checkID(p.id)
	if err := r.removeCheck(ctx, id); err != nil {
		return err
	}
	labels, err := p.labels(sp.name, sp.graph.dependencies(name))
	if err != nil {
		return err
	}
	delete(labels, LabelStack)
	labels[labelCheckOf] = sp.name
	r.logf("%s: configuration changed: checking the new container (%s) before the old one is replaced", name, id)
	c, err := r.newContainer(ctx, sp, p, id, labels, withOwnNetNS())
	if err != nil {
		return err
	}
	defer func() {
		if rerr := r.removeCheck(context.WithoutCancel(ctx), id); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	uid, gid, err := processUser(ctx, c)
	if err != nil {
		return err
	}
	// The new configuration's secrets: the new container mounts them.
	// A running task keeps the files it has (they are replaced, not
	// rewritten).
	if err := installSecrets(p.secretFiles, r.paths(sp.name).secretsDir(name), p.svc.Secrets, uid, gid); err != nil {
		return err
	}
	task, err := c.NewTask(ctx, cio.NullIO)
	if err != nil {
		return fmt.Errorf("create its task: %w", err)
	}
	if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete the trial task %s: %w", id, err)
	}
	return nil
}

// withOwnNetNS gives the trial container a network namespace of its own,
// instead of the service's.
func withOwnNetNS() oci.SpecOpts {
	return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace})
}

// removeCheck removes the trial container id, its task and its snapshot,
// when there is one. Safe to repeat; a container under that id that is not
// a trial container is an error, never removed.
func (r *Runtime) removeCheck(ctx context.Context, id string) error {
	c, err := r.cd.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("trial container %s: %w", id, err)
	}
	l, err := c.Labels(ctx)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("trial container %s: %w", id, err)
	}
	if l[labelCheckOf] == "" {
		return fmt.Errorf("container %s is in the way of a recreate's trial container and is not one: remove it (ctr -n <ns> c rm %s)", id, id)
	}
	if t, err := c.Task(ctx, nil); err == nil {
		if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("delete the trial task %s: %w", id, err)
		}
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("trial container %s: %w", id, err)
	}
	return deleteContainer(ctx, c)
}

// removeChecks removes the stack's trial containers that an up which
// crashed left behind.
func (r *Runtime) removeChecks(ctx context.Context, stackName string) error {
	cs, err := r.cd.Containers(ctx, fmt.Sprintf("labels.%q==%s", labelCheckOf, stackName))
	if err != nil {
		return fmt.Errorf("list trial containers of %s: %w", stackName, err)
	}
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID())
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		errs = append(errs, r.removeCheck(ctx, id))
	}
	return errors.Join(errs...)
}
