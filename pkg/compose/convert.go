package compose

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"

	"github.com/inceptionctl/inception/pkg/stack"
)

// App is a compose project converted for the runtime.
type App struct {
	// Stack is what the runtime runs: one service per compose service, in
	// name order, named after the project.
	Stack stack.Stack
	// Subnet is the project network's subnet (ipam.config.subnet); empty:
	// the runtime's.
	Subnet string
	// BindDirs are bind mount sources to create when missing, as docker
	// compose does for a short-syntax bind (create_host_path).
	BindDirs []string
}

// Convert turns a loaded project (see Load) into the stack model. Every
// value the runtime cannot use is reported at once, by service.
func Convert(p *types.Project) (App, error) {
	app := App{
		Stack: stack.Stack{Name: p.Name, SecretFiles: map[string]string{}},
	}
	var errs []error
	if err := CheckSupported(p); err != nil {
		errs = append(errs, err)
	}
	subnet, netErrs := projectNetwork(p)
	app.Subnet = subnet
	errs = append(errs, netErrs...)
	for _, name := range p.ServiceNames() {
		svc, err := convertService(p, p.Services[name], &app)
		if err != nil {
			errs = append(errs, fmt.Errorf("service %q: %w", name, err))
			continue
		}
		app.Stack.Services = append(app.Stack.Services, svc)
	}
	if err := errors.Join(errs...); err != nil {
		return App{}, err
	}
	return app, nil
}

// projectNetwork checks the top-level networks: the runtime gives a stack
// one bridge network, so at most one network may be used, with at most one
// subnet.
func projectNetwork(p *types.Project) (string, []error) {
	var errs []error
	used := map[string]bool{}
	for _, s := range p.Services {
		for n := range s.Networks {
			used[n] = true
		}
	}
	if len(used) > 1 {
		names := make([]string, 0, len(used))
		for n := range used {
			names = append(names, n)
		}
		sort.Strings(names)
		errs = append(errs, fmt.Errorf("%w: the services use the networks %s: the runtime gives a project one network; put every service on one", ErrUnsupported, strings.Join(names, ", ")))
	}
	subnet := ""
	for name, n := range p.Networks {
		if n.Driver != "" && n.Driver != "bridge" {
			errs = append(errs, fmt.Errorf("%w: network %q: driver %q: only bridge", ErrUnsupported, name, n.Driver))
		}
		if !used[name] {
			continue
		}
		switch len(n.Ipam.Config) {
		case 0:
		case 1:
			subnet = n.Ipam.Config[0].Subnet
		default:
			errs = append(errs, fmt.Errorf("%w: network %q: give at most one ipam pool", ErrUnsupported, name))
		}
	}
	return subnet, errs
}

func convertService(p *types.Project, s types.ServiceConfig, app *App) (stack.Service, error) {
	out := stack.Service{
		Name:          s.Name,
		User:          s.User,
		WorkingDir:    s.WorkingDir,
		ReadOnlyRoot:  s.ReadOnly,
		StopSignal:    s.StopSignal,
		Hostname:      s.Hostname,
		ContainerName: s.ContainerName,
		CapAdd:        s.CapAdd,
		CapDrop:       s.CapDrop,
		Entrypoint:    command(s.Entrypoint),
		Command:       command(s.Command),
		Init:          s.Init != nil && *s.Init,
		Limits: stack.Limits{
			MemoryBytes: int64(s.MemLimit),
			CPUs:        float64(s.CPUS),
			Pids:        s.PidsLimit,
		},
	}
	var errs []error
	ref, err := imageRef(p.Name, s)
	if err != nil {
		errs = append(errs, err)
	}
	out.Image = ref
	if b := s.Build; b != nil {
		out.Build = &stack.Build{Context: b.Context, Dockerfile: b.Dockerfile, Args: values(b.Args), Target: b.Target}
	}
	if len(s.Environment) > 0 {
		out.Env = values(s.Environment)
	}
	if s.StopGracePeriod != nil {
		out.StopGracePeriod = time.Duration(*s.StopGracePeriod)
	}
	if s.Restart != "" {
		if out.Restart, err = stack.ParseRestartPolicy(s.Restart); err != nil {
			errs = append(errs, err)
		}
	}
	if h := s.HealthCheck; h != nil {
		out.Health = healthCheck(h)
	}
	if len(s.DependsOn) > 0 {
		out.DependsOn = map[string]stack.Condition{}
		for dep, d := range s.DependsOn {
			c := stack.ConditionStarted
			if d.Condition != "" {
				if c, err = stack.ParseCondition(d.Condition); err != nil {
					errs = append(errs, err)
				}
			}
			out.DependsOn[dep] = c
		}
	}
	for _, pc := range s.Ports {
		port, err := convertPort(pc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Ports = append(out.Ports, port)
	}
	for _, v := range s.Volumes {
		if err := convertVolume(p, v, &out, app); err != nil {
			errs = append(errs, err)
		}
	}
	for _, t := range s.Tmpfs {
		tm, err := parseTmpfs(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.Tmpfs = append(out.Tmpfs, tm)
	}
	for _, sec := range s.Secrets {
		if sec.Target != "" && sec.Target != sec.Source && sec.Target != "/run/secrets/"+sec.Source {
			errs = append(errs, fmt.Errorf("%w: secret %q: target %q: the runtime mounts a secret at /run/secrets/<name> only", ErrUnsupported, sec.Source, sec.Target))
			continue
		}
		def, ok := p.Secrets[sec.Source]
		if !ok || def.File == "" {
			errs = append(errs, fmt.Errorf("%w: secret %q: define it at the top level with file: PATH", ErrInvalid, sec.Source))
			continue
		}
		app.Stack.SecretFiles[sec.Source] = def.File
		out.Secrets = append(out.Secrets, sec.Source)
	}
	for _, n := range s.Networks {
		if n != nil && n.Ipv4Address != "" {
			out.IPv4Address = n.Ipv4Address
		}
	}
	hosts := make([]string, 0, len(s.ExtraHosts))
	for h := range s.ExtraHosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		for _, ip := range s.ExtraHosts[h] {
			out.ExtraHosts = append(out.ExtraHosts, stack.Host{Name: h, IP: strings.Trim(ip, "[]")})
		}
	}
	return out, errors.Join(errs...)
}

// imageRef is the service's image, normalised as containerd stores it,
// else the name docker compose gives a built image: <project>-<service>
// (tagged latest, as docker compose tags it).
func imageRef(project string, s types.ServiceConfig) (string, error) {
	img := s.Image
	if img == "" {
		if s.Build == nil {
			return "", fmt.Errorf("%w: no image and no build: give one", ErrInvalid)
		}
		img = project + "-" + s.Name
	}
	named, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return "", fmt.Errorf("%w: image %q: %w", ErrInvalid, img, err)
	}
	return reference.TagNameOnly(named).String(), nil
}

// command keeps the difference between no value (nil: the image's) and
// an empty one (clears the image's).
func command(c types.ShellCommand) []string {
	if c == nil {
		return nil
	}
	return append([]string{}, c...)
}

// values drops the variables without a value (KEY alone, unset in the
// environment), as docker compose does.
func values(m types.MappingWithEquals) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

func healthCheck(h *types.HealthCheckConfig) *stack.HealthCheck {
	if h.Disable {
		return &stack.HealthCheck{Test: []string{"NONE"}}
	}
	d := func(v *types.Duration) time.Duration {
		if v == nil {
			return 0
		}
		return time.Duration(*v)
	}
	out := &stack.HealthCheck{
		Test:          append([]string{}, h.Test...),
		Interval:      d(h.Interval),
		Timeout:       d(h.Timeout),
		StartPeriod:   d(h.StartPeriod),
		StartInterval: d(h.StartInterval),
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

func convertPort(pc types.ServicePortConfig) (stack.Port, error) {
	if pc.Published == "" {
		return stack.Port{}, fmt.Errorf("%w: port %d: give the host port (HOST:CONTAINER); ports picked by the engine are not supported", ErrUnsupported, pc.Target)
	}
	host, err := strconv.Atoi(pc.Published)
	if err != nil {
		return stack.Port{}, fmt.Errorf("%w: port %d: published %q: give a port number", ErrInvalid, pc.Target, pc.Published)
	}
	return stack.Port{HostIP: pc.HostIP, HostPort: host, ContainerPort: int(pc.Target), Protocol: stack.Protocol(pc.Protocol)}, nil
}

// convertVolume maps a service's volume: a named volume under the data
// dir (<project>_<name>, as docker compose names it), a named volume that
// binds a host directory (the local driver's type none, o bind), a host
// path, or a tmpfs.
func convertVolume(p *types.Project, v types.ServiceVolumeConfig, out *stack.Service, app *App) error {
	switch v.Type {
	case types.VolumeTypeBind:
		out.Mounts = append(out.Mounts, stack.Mount{Kind: stack.MountBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		if v.Bind != nil && v.Bind.CreateHostPath {
			app.BindDirs = append(app.BindDirs, v.Source)
		}
	case types.VolumeTypeVolume:
		if v.Source == "" {
			return fmt.Errorf("%w: volume on %s: anonymous volumes are not supported: name it", ErrUnsupported, v.Target)
		}
		def, ok := p.Volumes[v.Source]
		if !ok {
			return fmt.Errorf("%w: volume %q is not defined at the top level", ErrInvalid, v.Source)
		}
		dev, err := bindDevice(v.Source, def)
		if err != nil {
			return err
		}
		if dev != "" {
			out.Mounts = append(out.Mounts, stack.Mount{Kind: stack.MountBind, Source: dev, Target: v.Target, ReadOnly: v.ReadOnly})
			return nil
		}
		name := def.Name
		if name == "" {
			name = p.Name + "_" + v.Source
		}
		out.Mounts = append(out.Mounts, stack.Mount{Kind: stack.MountVolume, Source: name, Target: v.Target, ReadOnly: v.ReadOnly})
	case types.VolumeTypeTmpfs:
		t := stack.Tmpfs{Target: v.Target}
		if v.Tmpfs != nil {
			t.Size, t.Mode = int64(v.Tmpfs.Size), v.Tmpfs.Mode
		}
		out.Tmpfs = append(out.Tmpfs, t)
	default:
		return fmt.Errorf("%w: volume on %s: type %q: use volume, bind or tmpfs", ErrUnsupported, v.Target, v.Type)
	}
	return nil
}

// bindDevice returns the host directory of a named volume of the local
// driver with driver_opts {type: none, o: bind, device: PATH}, or "" for a
// plain named volume.
func bindDevice(name string, def types.VolumeConfig) (string, error) {
	if def.Driver != "" && def.Driver != "local" {
		return "", fmt.Errorf("%w: volume %q: driver %q: only local", ErrUnsupported, name, def.Driver)
	}
	if len(def.DriverOpts) == 0 {
		return "", nil
	}
	o := def.DriverOpts
	opts := strings.Split(o["o"], ",")
	bind := false
	for _, x := range opts {
		bind = bind || x == "bind" || x == "rbind"
	}
	if len(o) != 3 || o["type"] != "none" || !bind || o["device"] == "" {
		return "", fmt.Errorf("%w: volume %q: driver_opts: only {type: none, o: bind, device: PATH} (a bind to a host directory)", ErrUnsupported, name)
	}
	if !filepath.IsAbs(o["device"]) {
		return "", fmt.Errorf("%w: volume %q: device %q: give an absolute path", ErrInvalid, name, o["device"])
	}
	return filepath.Clean(o["device"]), nil
}

// parseTmpfs reads a tmpfs: entry, PATH[:size=N,mode=OCTAL,noexec|exec].
// The mount is nosuid and nodev either way; exec, as docker's default is
// noexec, is the runtime's default.
func parseTmpfs(s string) (stack.Tmpfs, error) {
	target, opts, _ := strings.Cut(s, ":")
	t := stack.Tmpfs{Target: path.Clean(target)}
	if opts == "" {
		return t, nil
	}
	for _, o := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "size":
			var n types.UnitBytes
			err := n.DecodeMapstructure(v)
			if err != nil || n < 0 {
				return t, fmt.Errorf("%w: tmpfs %s: size %q: give bytes such as 64m", ErrInvalid, target, v)
			}
			t.Size = int64(n)
		case "mode":
			m, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				return t, fmt.Errorf("%w: tmpfs %s: mode %q: give an octal mode such as 1777", ErrInvalid, target, v)
			}
			t.Mode = uint32(m)
		case "noexec", "exec":
			if v != "" || strings.Contains(o, "=") {
				return t, fmt.Errorf("%w: tmpfs %s: option %q takes no value", ErrInvalid, target, o)
			}
			t.NoExec = k == "noexec"
		default:
			return t, fmt.Errorf("%w: tmpfs %s: option %q: only size, mode, noexec and exec", ErrUnsupported, target, k)
		}
	}
	return t, nil
}
