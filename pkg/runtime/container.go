package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/containerd/containerd/api/types/runc/options"
	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"

	"github.com/inceptionctl/inception/pkg/stack"
)

// runcRuntime is containerd's runc shim, with which the runtime passes
// runc its own state directory (runcRoot).
const runcRuntime = "io.containerd.runc.v2"

// Container labels. A container carries everything the supervisor and the
// commands other than up need (policy, health check, address, ports), so
// they work from containerd alone, without the stack definition.
const (
	LabelStack      = "io.inception.stack"
	LabelService    = "io.inception.service"
	LabelConfigHash = "io.inception.config-hash"
	labelIP         = "io.inception.ip"
	labelPorts      = "io.inception.ports"
	labelRestart    = "io.inception.restart"
	labelHealth     = "io.inception.health"
	labelStopGrace  = "io.inception.stop-grace"
	labelDependsOn  = "io.inception.depends-on"
	labelVolumes    = "io.inception.volumes"
	labelIndex      = "io.inception.index"
	// LabelImageDigest is the manifest digest of the image the container
	// was made from (its name may point elsewhere since).
	LabelImageDigest = "io.inception.image-digest"
)

// serviceInfo is a service as its container's labels describe it.
type serviceInfo struct {
	stack, name string
	hash        string
	ip          string
	ports       []PortMapping
	restart     stack.RestartPolicy
	health      *healthCheck
	grace       time.Duration
	dependsOn   map[string]stack.Condition
	volumes     []string
	index       int
	imageDigest string // the image's manifest digest at creation
}

func (p *servicePlan) labels(stackName string, deps map[string]stack.Condition) (map[string]string, error) {
	ports, err := json.Marshal(p.ports)
	if err != nil {
		return nil, err
	}
	depJSON, err := json.Marshal(deps)
	if err != nil {
		return nil, err
	}
	var vols []string
	for _, m := range p.mounts {
		if m.Volume != "" {
			vols = append(vols, m.Volume)
		}
	}
	volJSON, err := json.Marshal(vols)
	if err != nil {
		return nil, err
	}
	l := map[string]string{
		LabelStack:      stackName,
		LabelService:    p.svc.Name,
		LabelConfigHash: p.hash,
		labelIP:         p.ip.String(),
		labelPorts:      string(ports),
		labelRestart:    p.restart.String(),
		labelStopGrace:  p.grace.String(),
		labelDependsOn:  string(depJSON),
		labelVolumes:    string(volJSON),
		labelIndex:      strconv.Itoa(p.index),
	}
	if p.image != nil {
		l[LabelImageDigest] = p.image.Target().Digest.String()
	}
	if p.health != nil {
		h, err := json.Marshal(p.health)
		if err != nil {
			return nil, err
		}
		l[labelHealth] = string(h)
	}
	return l, nil
}

// parseServiceInfo reads a container's labels back.
func parseServiceInfo(l map[string]string) (serviceInfo, error) {
	si := serviceInfo{stack: l[LabelStack], name: l[LabelService], hash: l[LabelConfigHash], ip: l[labelIP], grace: DefaultStopGrace,
		imageDigest: l[LabelImageDigest]}
	if si.stack == "" || si.name == "" {
		return si, fmt.Errorf("container is not an inception service (no %s/%s labels)", LabelStack, LabelService)
	}
	var err error
	if v := l[labelRestart]; v != "" {
		if si.restart, err = stack.ParseRestartPolicy(v); err != nil {
			return si, err
		}
	} else {
		si.restart.Mode = stack.RestartNo
	}
	if v := l[labelStopGrace]; v != "" {
		if si.grace, err = time.ParseDuration(v); err != nil {
			return si, fmt.Errorf("label %s: %w", labelStopGrace, err)
		}
	}
	for key, dst := range map[string]any{labelPorts: &si.ports, labelDependsOn: &si.dependsOn, labelVolumes: &si.volumes} {
		if v := l[key]; v != "" {
			if err := json.Unmarshal([]byte(v), dst); err != nil {
				return si, fmt.Errorf("label %s: %w", key, err)
			}
		}
	}
	if v := l[labelHealth]; v != "" {
		si.health = &healthCheck{}
		if err := json.Unmarshal([]byte(v), si.health); err != nil {
			return si, fmt.Errorf("label %s: %w", labelHealth, err)
		}
	}
	si.index, _ = strconv.Atoi(l[labelIndex])
	return si, nil
}

// stackContainer is a container of the stack with its parsed labels.
type stackContainer struct {
	c    containerd.Container
	info serviceInfo
}

// listContainers returns the stack's containers by service name.
func (r *Runtime) listContainers(ctx context.Context, stackName string) (map[string]stackContainer, error) {
	cs, err := r.cd.Containers(ctx, fmt.Sprintf("labels.%q==%s", LabelStack, stackName))
	if err != nil {
		return nil, fmt.Errorf("list containers of %s: %w", stackName, err)
	}
	out := map[string]stackContainer{}
	for _, c := range cs {
		l, err := c.Labels(ctx)
		if errdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		si, err := parseServiceInfo(l)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.ID(), err)
		}
		out[si.name] = stackContainer{c: c, info: si}
	}
	return out, nil
}

// specOpts is the whole spec of a service's container: containerd's
// default, the image config, then one option per concern.
func (r *Runtime) specOpts(p *servicePlan, pth paths) []oci.SpecOpts {
	opts := []oci.SpecOpts{
		oci.WithDefaultSpec(),
		oci.WithDefaultUnixDevices,
		oci.WithImageConfig(p.image),
		withServiceEnv(p.svc.Env),
	}
	if p.svc.Entrypoint != nil || p.svc.Command != nil {
		opts = append(opts, oci.WithProcessArgs(p.args...))
	}
	if p.svc.User != "" {
		opts = append(opts, withUser(p.svc.User))
	}
	initBin := ""
	if p.svc.Init {
		initBin = r.cfg.initBin
	}
	return append(opts,
		withWorkingDir(p.svc.WorkingDir),
		withHostname(p.hostname),
		withNetNS(pth.netnsPath(p.svc.Name)),
		withEtcFiles(pth.serviceDir(p.svc.Name)),
		withTmpfs(p.svc.Tmpfs),
		withVolumes(p.mounts),
		withExtraTmpfs(p.svc.Tmpfs),
		withSecrets(p.secrets),
		withSortedMounts(),
		withLimits(p.svc.Limits),
		withSecurity(p.capAdd, p.capDrop),
		withReadOnlyRoot(p.svc.ReadOnlyRoot),
		withInit(initBin),
		withCgroupsPath(engineScope(r.cfg.root, r.cfg.namespace)),
	)
}

// unpack unpacks the service's image into the snapshotter unless it is.
// One at a time: up creates containers in parallel, and two images that
// share layers (wordpress and adminer) unpacked at once race on the shared
// parent snapshots ("parent snapshot ... does not exist").
func (r *Runtime) unpack(ctx context.Context, p *servicePlan) error {
	r.unpackMu.Lock()
	defer r.unpackMu.Unlock()
	if ok, err := p.image.IsUnpacked(ctx, r.cfg.snapshotter); err == nil && ok {
		return nil
	}
	if err := p.image.Unpack(ctx, r.cfg.snapshotter); err != nil {
		return fmt.Errorf("unpack %s: %w", p.ref, err)
	}
	return nil
}

// createContainer creates the service's container and its snapshot. A
// snapshot left by an earlier, failed create (same key) is removed first.
func (r *Runtime) createContainer(ctx context.Context, sp *stackPlan, p *servicePlan) (containerd.Container, error) {
	labels, err := p.labels(sp.name, sp.graph.dependencies(p.svc.Name))
	if err != nil {
		return nil, err
	}
	return r.newContainer(ctx, sp, p, p.id, labels)
}

// newContainer creates a container of the service under id, its snapshot
// keyed by id too, with the service's spec and then extra.
func (r *Runtime) newContainer(ctx context.Context, sp *stackPlan, p *servicePlan, id string, labels map[string]string, extra ...oci.SpecOpts) (containerd.Container, error) {
	if err := r.unpack(ctx, p); err != nil {
		return nil, err
	}
	if err := r.cd.SnapshotService(r.cfg.snapshotter).Remove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("remove stale snapshot %s: %w", id, err)
	}
	c, err := r.cd.NewContainer(ctx, id,
		containerd.WithContainerLabels(labels),
		containerd.WithImage(p.image),
		containerd.WithImageStopSignal(p.image, "SIGTERM"),
		withStopSignal(p.stopSignal),
		containerd.WithRuntime(runcRuntime, &options.Options{Root: runcRoot(r.cfg.runDir)}),
		containerd.WithSnapshotter(r.cfg.snapshotter),
		containerd.WithNewSnapshot(id, p.image),
		containerd.WithNewSpec(append(r.specOpts(p, r.paths(sp.name)), extra...)...),
	)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", id, err)
	}
	return c, nil
}

// deleteContainer removes a container and its snapshot; its task must be
// gone. Safe to repeat.
func deleteContainer(ctx context.Context, c containerd.Container) error {
	if err := c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("delete container %s: %w", c.ID(), err)
	}
	return nil
}

// processUser returns the uid and gid the container's main process runs
// as, resolved by the image config and the service's user against the
// image's /etc/passwd when the spec was made.
func processUser(ctx context.Context, c containerd.Container) (uint32, uint32, error) {
	spec, err := c.Spec(ctx)
	if err != nil {
		return 0, 0, err
	}
	if spec.Process == nil {
		return 0, 0, nil
	}
	return spec.Process.User.UID, spec.Process.User.GID, nil
}

// withStopSignal replaces the image's stop signal, which containerd keeps in
// a container label, when sig is set.
func withStopSignal(sig string) containerd.NewContainerOpts {
	return func(ctx context.Context, client *containerd.Client, c *containers.Container) error {
		if sig == "" {
			return nil
		}
		return containerd.WithAdditionalContainerLabels(map[string]string{containerd.StopSignalLabel: sig})(ctx, client, c)
	}
}

// serviceContainer loads a service's container: <stack>-<service>, or the
// container of the stack labelled with the service when the service names
// its container itself.
func (r *Runtime) serviceContainer(ctx context.Context, stackName, service string) (containerd.Container, error) {
	c, err := r.cd.LoadContainer(ctx, containerID(stackName, service))
	if !errdefs.IsNotFound(err) {
		return c, err
	}
	cs, lerr := r.cd.Containers(ctx, fmt.Sprintf("labels.%q==%s,labels.%q==%s", LabelStack, stackName, LabelService, service))
	if lerr != nil {
		return nil, lerr
	}
	if len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}
