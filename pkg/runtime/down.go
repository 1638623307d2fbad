package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inceptionctl/inception/pkg/stack"
)

// DownOptions says what Down removes besides containers and the network.
type DownOptions struct {
	// Volumes also removes the stack's named volumes (their directories
	// under the data dir): the data is gone.
	Volumes bool
}

// Down removes the stack: its supervisor first (nothing restarts behind
// it), then each container, dependents first, stopped gracefully; then the
// network completely (CNI attachments with their port mappings, firewall
// rules and address leases, the namespaces, the bridge), the secrets, the
// state and logs. Named volumes stay unless o.Volumes. It works from what
// exists (container labels, CNI's cache), so it also cleans up after a
// crash, and is safe to repeat.
func (r *Runtime) Down(ctx context.Context, st stack.Stack, o DownOptions) error {
	pth := r.paths(st.Name)
	if err := r.stopSupervisor(ctx, st.Name); err != nil {
		return err
	}
	cs, g, names, err := r.selectContainers(ctx, st.Name, nil)
	if err != nil {
		return err
	}
	var errs []error
	volumes := map[string]bool{}
	ids := []string{}
	var services []string // by name: the containers' and the stack's
	for _, n := range g.stopOrder(names) {
		sc := cs[n]
		for _, v := range sc.info.volumes {
			volumes[v] = true
		}
		ids = append(ids, sc.c.ID())
		services = append(services, n)
		r.logf("%s: stopping and removing %s", n, sc.c.ID())
		if err := r.stopService(ctx, pth, n, sc.c, sc.info.grace); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", n, err))
			continue
		}
		if err := deleteContainer(ctx, sc.c); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range st.Services {
		ids = append(ids, containerID(st.Name, s.Name))
		services = append(services, s.Name)
		for _, m := range s.Mounts {
			if m.Kind == stack.MountVolume {
				volumes[m.Source] = true
			}
		}
	}
	errs = append(errs, r.removeChecks(ctx, st.Name))
	nw, err := r.network(st.Name)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	r.logf("network %s: removing", nw.Name())
	errs = append(errs, nw.Teardown(ctx, ids...))
	// The project's own directories only, and the namespaces in its own
	// directory: never by a prefix, which another project's name may share.
	entries, err := os.ReadDir(pth.netnsDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("network namespaces of %s: %w", st.Name, err))
	}
	for _, e := range entries {
		errs = append(errs, removeNetNS(filepath.Join(pth.netnsDir(), e.Name())))
	}
	if err := os.Remove(pth.netnsDir()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, n := range services {
		if isNetNS(pth.legacyNetnsPath(n)) {
			errs = append(errs, removeNetNS(pth.legacyNetnsPath(n)))
		}
	}
	errs = append(errs,
		os.RemoveAll(pth.secretsRoot()),
		os.RemoveAll(pth.probesRoot()),
		os.RemoveAll(pth.stateDir()),
	)
	if o.Volumes {
		for _, v := range sortedKeys(volumes) {
			if !volumeName.MatchString(v) {
				continue
			}
			r.logf("volume %s: removing %s", v, filepath.Join(r.cfg.dataDir, v))
			errs = append(errs, os.RemoveAll(filepath.Join(r.cfg.dataDir, v)))
		}
	}
	return errors.Join(errs...)
}
