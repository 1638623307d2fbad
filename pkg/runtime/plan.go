package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"

	"github.com/inceptionctl/inception/pkg/stack"
)

// specVersion is part of every config hash: bump it when the way a spec is
// built changes, so that `up` recreates containers made the old way.
const specVersion = 2

// servicePlan is a service resolved against the host and the image store:
// everything that defines its container, and its config hash.
type servicePlan struct {
	svc     stack.Service
	index   int // position in the stack: fixes the address
	id      string
	ref     string
	image   containerd.Image
	config  dockerspec.DockerOCIImage
	args    []string // the process's command line: image config and service
	ip      net.IP
	ports   []PortMapping
	mounts  []volumeMount
	secrets []secretMount
	digests map[string]string // secret name -> content digest
	capAdd  []string
	health  *healthCheck
	restart stack.RestartPolicy
	grace   time.Duration
	hash    string
}

// stackPlan is a validated stack.
type stackPlan struct {
	name     string
	graph    *graph
	services map[string]*servicePlan // every enabled service of the stack
	hosts    []hostEntry
	subnet   string
}

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// checkStack validates what needs no daemon: names, depends_on, policies,
// ports, mounts, capabilities, limits, environment and the secret files.
// Every problem is reported at once.
func (r *Runtime) checkStack(st stack.Stack) (*graph, error) {
	var errs []error
	if err := stack.ValidateProjectName(st.Name); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	type hostPort struct {
		ip    string
		port  int
		proto Protocol
	}
	published := map[hostPort]string{}
	for _, s := range st.Services {
		if !serviceName.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("%w: service name %q: use lower-case letters, digits, - and _", stack.ErrInvalid, s.Name))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%w: service %q is defined twice", stack.ErrInvalid, s.Name))
		}
		seen[s.Name] = true
		if s.Image == "" {
			errs = append(errs, fmt.Errorf("%w: service %q has no image: name an image reference such as redis:7", stack.ErrInvalid, s.Name))
		} else if _, err := stack.NormalizeImage(s.Image); err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
		}
		switch s.Restart.Mode {
		case "", stack.RestartNo, stack.RestartAlways, stack.RestartUnlessStopped, stack.RestartOnFailure:
		default:
			errs = append(errs, fmt.Errorf("%w: service %q: restart policy %q: use no, always, on-failure[:N] or unless-stopped", stack.ErrInvalid, s.Name, s.Restart.Mode))
		}
		if s.Restart.MaxRetries < 0 || (s.Restart.MaxRetries > 0 && s.Restart.Mode != stack.RestartOnFailure) {
			errs = append(errs, fmt.Errorf("%w: service %q: only on-failure takes a retry count (>= 0)", stack.ErrInvalid, s.Name))
		}
		if s.StopGracePeriod < 0 {
			errs = append(errs, fmt.Errorf("%w: service %q: stop grace period %v is negative", stack.ErrInvalid, s.Name, s.StopGracePeriod))
		}
		for k := range s.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				errs = append(errs, fmt.Errorf("%w: service %q: environment variable name %q", stack.ErrInvalid, s.Name, k))
			}
		}
		for _, p := range s.Ports {
			if p.ContainerPort < 1 || p.ContainerPort > 65535 || p.HostPort < 1 || p.HostPort > 65535 {
				errs = append(errs, fmt.Errorf("%w: service %q: port %d:%d: ports are 1-65535", stack.ErrInvalid, s.Name, p.HostPort, p.ContainerPort))
				continue
			}
			proto := Protocol(strings.ToLower(string(p.Protocol)))
			if proto == "" {
				proto = TCP
			}
			if proto != TCP && proto != UDP {
				errs = append(errs, fmt.Errorf("%w: service %q: port %d: protocol %q: use tcp or udp", stack.ErrInvalid, s.Name, p.HostPort, p.Protocol))
				continue
			}
			ip := r.hostIP(p)
			if net.ParseIP(ip) == nil {
				errs = append(errs, fmt.Errorf("%w: service %q: port %d: host address %q", stack.ErrInvalid, s.Name, p.HostPort, p.HostIP))
				continue
			}
			for _, k := range []hostPort{{ip, p.HostPort, proto}, {"0.0.0.0", p.HostPort, proto}} {
				if other, ok := published[k]; ok {
					errs = append(errs, fmt.Errorf("%w: %w: host port %s/%d is published by %q and %q", stack.ErrInvalid, ErrPortConflict, proto, p.HostPort, other, s.Name))
					break
				}
			}
			published[hostPort{ip, p.HostPort, proto}] = s.Name
		}
		targets := map[string]bool{}
		for _, m := range s.Mounts {
			if !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
				errs = append(errs, fmt.Errorf("%w: service %q: mount target %q: give an absolute path other than /", stack.ErrInvalid, s.Name, m.Target))
			}
			if targets[path.Clean(m.Target)] {
				errs = append(errs, fmt.Errorf("%w: service %q: two mounts on %s", stack.ErrInvalid, s.Name, m.Target))
			}
			targets[path.Clean(m.Target)] = true
			switch m.Kind {
			case stack.MountVolume:
				if !volumeName.MatchString(m.Source) {
					errs = append(errs, fmt.Errorf("%w: service %q: volume name %q: use letters, digits, '.', '-' and '_'", stack.ErrInvalid, s.Name, m.Source))
				}
			case stack.MountBind:
				if !filepath.IsAbs(m.Source) {
					errs = append(errs, fmt.Errorf("%w: service %q: bind source %q is not an absolute path", stack.ErrInvalid, s.Name, m.Source))
				} else if _, err := os.Stat(m.Source); err != nil {
					errs = append(errs, fmt.Errorf("%w: service %q: bind source %s: %w", stack.ErrInvalid, s.Name, m.Source, err))
				}
			default:
				errs = append(errs, fmt.Errorf("%w: service %q: mount kind %q: use volume or bind", stack.ErrInvalid, s.Name, m.Kind))
			}
		}
		for _, c := range s.CapAdd {
			if _, err := parseCap(c); err != nil {
				errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
			}
		}
		if l := s.Limits; l.MemoryBytes < 0 || l.CPUs < 0 || l.Pids < 0 {
			errs = append(errs, fmt.Errorf("%w: service %q: limits must not be negative", stack.ErrInvalid, s.Name))
		}
		for _, sec := range s.Secrets {
			if _, err := secretDigest(r.cfg.secretsDir, sec); err != nil {
				errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
			}
		}
		if s.Health != nil {
			if _, err := resolveHealth(s.Health, nil); err != nil {
				errs = append(errs, fmt.Errorf("service %q: %w", s.Name, err))
			}
		}
	}
	g, err := newGraph(st.Services)
	if err != nil {
		errs = append(errs, err)
	}
	if g != nil {
		for _, s := range st.Services {
			if s.Disabled {
				continue
			}
			for dep := range g.dependencies(s.Name) {
				if d := findService(st, dep); d != nil && d.Disabled {
					errs = append(errs, fmt.Errorf("%w: service %q depends on %q, which is disabled", stack.ErrInvalid, s.Name, dep))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return g, nil
}

func findService(st stack.Stack, name string) *stack.Service {
	for i := range st.Services {
		if st.Services[i].Name == name {
			return &st.Services[i]
		}
	}
	return nil
}

func (r *Runtime) hostIP(p stack.Port) string {
	if p.HostIP != "" {
		return p.HostIP
	}
	return r.cfg.hostIP
}

// plan validates the stack and resolves every enabled service against the
// image store and the host. Images are unpacked here: BuildKit exports
// them to containerd without unpacking.
func (r *Runtime) plan(ctx context.Context, st stack.Stack) (*stackPlan, error) {
	g, err := r.checkStack(st)
	if err != nil {
		return nil, err
	}
	nw, err := r.network(st.Name)
	if err != nil {
		return nil, err
	}
	sp := &stackPlan{name: st.Name, graph: g, services: map[string]*servicePlan{}, subnet: nw.Subnet()}
	var errs []error
	for i, s := range st.Services {
		ip, err := nw.ServiceAddress(i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sp.hosts = append(sp.hosts, hostEntry{name: s.Name, ip: ip})
		if s.Disabled {
			continue
		}
		p, err := r.planService(ctx, st.Name, s, i, ip)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sp.services[s.Name] = p
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, s := range st.Services {
		for dep, cond := range g.dependencies(s.Name) {
			if d := sp.services[dep]; cond == stack.ConditionHealthy && d != nil && d.health == nil {
				errs = append(errs, fmt.Errorf("%w: service %q waits for %q to be healthy, but %q has no health check (none in the service nor in its image)",
					stack.ErrInvalid, s.Name, dep, dep))
			}
		}
	}
	return sp, errors.Join(errs...)
}

func (r *Runtime) planService(ctx context.Context, stackName string, s stack.Service, index int, ip net.IP) (*servicePlan, error) {
	ref, err := stack.NormalizeImage(s.Image)
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}
	img, err := r.image(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := imageConfig(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}
	p := &servicePlan{
		svc: s, index: index, id: containerID(stackName, s.Name), ref: ref, image: img, config: cfg, ip: ip,
		restart: s.Restart, grace: s.StopGracePeriod, digests: map[string]string{},
	}
	p.args = processArgs(cfg.Config.Entrypoint, cfg.Config.Cmd, s.Entrypoint, s.Command)
	if len(p.args) == 0 {
		return nil, fmt.Errorf("%w: service %q: image %s has no command: give the service a Command", stack.ErrInvalid, s.Name, ref)
	}
	if p.restart.Mode == "" {
		p.restart.Mode = stack.RestartNo
	}
	if p.grace == 0 {
		p.grace = DefaultStopGrace
	}
	if p.health, err = resolveHealth(s.Health, cfg.Config.Healthcheck); err != nil {
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}
	for _, port := range s.Ports {
		proto := Protocol(strings.ToLower(string(port.Protocol)))
		if proto == "" {
			proto = TCP
		}
		p.ports = append(p.ports, PortMapping{HostIP: r.hostIP(port), HostPort: port.HostPort, ContainerPort: port.ContainerPort, Protocol: proto})
	}
	for _, m := range s.Mounts {
		vm := volumeMount{Source: m.Source, Target: path.Clean(m.Target), ReadOnly: m.ReadOnly}
		if m.Kind == stack.MountVolume {
			vm.Source, vm.Volume, vm.UID, vm.GID = filepath.Join(r.cfg.dataDir, m.Source), m.Source, m.UID, m.GID
		}
		p.mounts = append(p.mounts, vm)
	}
	secretsDir := r.paths(stackName).secretsDir(s.Name)
	for _, name := range s.Secrets {
		d, err := secretDigest(r.cfg.secretsDir, name)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
		p.digests[name] = d
		p.secrets = append(p.secrets, secretMount{Name: name, Source: filepath.Join(secretsDir, name)})
	}
	for _, c := range s.CapAdd {
		parsed, _ := parseCap(c) // checked by checkStack
		p.capAdd = append(p.capAdd, parsed)
	}
	slices.Sort(p.capAdd)
	p.capAdd = slices.Compact(p.capAdd)
	p.hash, err = p.configHash()
	if err != nil {
		return nil, err
	}
	return p, nil
}

// configHash digests everything that defines the container. up recreates a
// container whose label differs and leaves the others running.
func (p *servicePlan) configHash() (string, error) {
	env := make([]string, 0, len(p.svc.Env))
	for _, k := range sortedKeys(p.svc.Env) {
		env = append(env, k+"="+p.svc.Env[k])
	}
	in := struct {
		Version  int
		Image    string
		Args     []string
		Env      []string
		User     string
		IP       string
		Ports    []PortMapping
		Mounts   []volumeMount
		Secrets  map[string]string
		CapAdd   []string
		ReadOnly bool
		Limits   stack.Limits
		Health   *healthCheck
		Restart  string
		Grace    time.Duration
	}{specVersion, p.image.Target().Digest.String(), p.args, env, p.svc.User, p.ip.String(), p.ports, p.mounts, p.digests,
		p.capAdd, p.svc.ReadOnlyRoot, p.svc.Limits, p.health, p.restart.String(), p.grace}
	data, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("config hash: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:32], nil
}

// processArgs is the command line a container runs, as docker decides it:
// the service's entrypoint or the image's, then the service's command, or
// the image's when the service sets no entrypoint of its own.
func processArgs(imgEntrypoint, imgCmd, entrypoint, command []string) []string {
	ep, cmd := imgEntrypoint, imgCmd
	if entrypoint != nil {
		ep, cmd = entrypoint, nil
	}
	if command != nil {
		cmd = command
	}
	return append(slices.Clone(ep), cmd...)
}

// imageConfig reads an image's config (entrypoint, env, user, health check,
// stop signal) from the content store.
func imageConfig(ctx context.Context, img containerd.Image) (dockerspec.DockerOCIImage, error) {
	var cfg dockerspec.DockerOCIImage
	desc, err := img.Config(ctx)
	if err != nil {
		return cfg, fmt.Errorf("image config of %s: %w", img.Name(), err)
	}
	data, err := content.ReadBlob(ctx, img.ContentStore(), desc)
	if err != nil {
		return cfg, fmt.Errorf("image config of %s: %w", img.Name(), err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("image config of %s: %w", img.Name(), err)
	}
	return cfg, nil
}

// checkHostPorts fails for a published port some other program listens on.
// Ports this stack already publishes (CNI's cache has them) are ours: the
// portmap plugin rewrites packets and never listens, so a bind succeeds on
// them anyway, and it is fine for `up` to keep them.
func checkHostPorts(sp *stackPlan, names []string) error {
	var errs []error
	for _, n := range names {
		p := sp.services[n]
		for _, pm := range p.ports {
			addr := net.JoinHostPort(pm.HostIP, strconv.Itoa(pm.HostPort))
			var err error
			if pm.Protocol == UDP {
				var c net.PacketConn
				if c, err = net.ListenPacket("udp4", addr); err == nil {
					c.Close()
				}
			} else {
				var l net.Listener
				if l, err = net.Listen("tcp4", addr); err == nil {
					l.Close()
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %w: service %q: host port %s/%s is taken by another program (%w); stop it or publish another port",
					stack.ErrInvalid, ErrPortConflict, n, addr, pm.Protocol, err))
			}
		}
	}
	return errors.Join(errs...)
}
