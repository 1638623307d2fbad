package runtime

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/contrib/seccomp"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/inceptionctl/inception/pkg/stack"
)

// The spec of a service's container is built from the small SpecOpts below,
// one per concern, applied after containerd's default spec and the image
// config. Each works on a zero oci.Spec, which is how they are tested.

// droppedCaps are removed from containerd's default capability set: no
// service of the stack makes device nodes, sends raw packets, writes audit
// records or sets file capabilities. A service that does asks with CapAdd.
var droppedCaps = []string{"CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}

// defaultCaps is containerd's default set (oci.populateDefaultUnixSpec)
// minus droppedCaps.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
}

// knownCaps are the capabilities of Linux 6.x, for validating CapAdd.
var knownCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// capAll stands for every capability in cap_drop, as in docker's.
const capAll = "ALL"

// parseCap normalises a capability name ("net_admin" -> "CAP_NET_ADMIN").
func parseCap(name string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(name))
	if c == capAll {
		return c, nil
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	if !slices.Contains(knownCaps, c) {
		return "", fmt.Errorf("%w: capability %q is not a Linux capability", stack.ErrInvalid, name)
	}
	return c, nil
}

func setLinux(s *specs.Spec) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
}

func setProcess(s *specs.Spec) {
	if s.Process == nil {
		s.Process = &specs.Process{}
	}
}

// withServiceEnv adds the service's environment over the image's, in key
// order so the spec (and the config hash) does not depend on map order.
func withServiceEnv(env map[string]string) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		if len(env) == 0 {
			return nil
		}
		list := make([]string, 0, len(env))
		for _, k := range sortedKeys(env) {
			list = append(list, k+"="+env[k])
		}
		return oci.WithEnv(list)(ctx, client, c, s)
	}
}

// withNetNS makes the container join the service's persistent network
// namespace instead of getting a new one.
func withNetNS(nsPath string) oci.SpecOpts {
	return oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: nsPath})
}

// withHostname sets the UTS hostname.
func withHostname(name string) oci.SpecOpts { return oci.WithHostname(name) }

// withEtcFiles bind-mounts the generated hosts, hostname and resolv.conf of
// dir read-only over the image's.
func withEtcFiles(dir string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		for _, f := range etcFiles {
			s.Mounts = append(s.Mounts, specs.Mount{
				Destination: "/etc/" + f,
				Type:        "bind",
				Source:      filepath.Join(dir, f),
				Options:     []string{"rbind", "ro", "nosuid", "nodev", "noexec"},
			})
		}
		return nil
	}
}

// withTmpfs puts tmpfs on /run and /tmp, unless the service mounts a tmpfs
// of its own there (own, mounted by withExtraTmpfs). containerd's default
// spec already has a /run tmpfs, which hides whatever the image put under
// /run (php-fpm's and mysqld's socket directories, with their owners):
// runc's tmpcopyup copies the image's content into the new tmpfs, so
// images keep working.
func withTmpfs(own []stack.Tmpfs) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool {
			return m.Destination == "/run" || m.Destination == "/tmp"
		})
		defaults := []specs.Mount{
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "nodev", "mode=755", "size=65536k", "tmpcopyup"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs",
				Options: []string{"nosuid", "nodev", "mode=1777", "size=262144k", "tmpcopyup"}},
		}
		for _, m := range defaults {
			if !slices.ContainsFunc(own, func(t stack.Tmpfs) bool { return path.Clean(t.Target) == m.Destination }) {
				s.Mounts = append(s.Mounts, m)
			}
		}
		return nil
	}
}

// volumeMount is a named volume or bind mount resolved to a host path.
type volumeMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly,omitempty"`
	Volume   string `json:"volume,omitempty"` // the volume's name; empty for binds
	UID      int    `json:"uid,omitempty"`
	GID      int    `json:"gid,omitempty"`
}

// withVolumes bind-mounts named volumes and host paths.
func withVolumes(mounts []volumeMount) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		for _, m := range mounts {
			opts := []string{"rbind", "rw"}
			if m.ReadOnly {
				opts = []string{"rbind", "ro"}
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Target, Type: "bind", Source: m.Source, Options: opts})
		}
		return nil
	}
}

// secretMount is one secret's file on the host (tmpfs) and its name.
type secretMount struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// withSecrets bind-mounts each secret file read-only at /run/secrets/<name>.
// withSortedMounts puts them after the /run tmpfs, which would hide them.
func withSecrets(secrets []secretMount) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		for _, sec := range secrets {
			s.Mounts = append(s.Mounts, specs.Mount{
				Destination: path.Join("/run/secrets", sec.Name),
				Type:        "bind",
				Source:      sec.Source,
				Options:     []string{"rbind", "ro", "nosuid", "nodev", "noexec"},
			})
		}
		return nil
	}
}

// withSortedMounts orders mounts parents first (by path depth, stably), as
// docker does: runc mounts in spec order, and a tmpfs on /run mounted after
// /run/secrets/x would hide x.
func withSortedMounts() oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		sort.SliceStable(s.Mounts, func(i, j int) bool {
			return mountDepth(s.Mounts[i].Destination) < mountDepth(s.Mounts[j].Destination)
		})
		return nil
	}
}

func mountDepth(p string) int {
	p = path.Clean(p)
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// withCgroupsPath puts the container in cgroup <parent>/<id>, parent being
// the engine's (engineScope): containerd's default, /<namespace>/<id>, is
// the same for two engines that use one namespace name.
func withCgroupsPath(parent string) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		setLinux(s)
		s.Linux.CgroupsPath = "/" + parent + "/" + c.ID
		return nil
	}
}

// withLimits applies the service's cgroup limits; zero values leave a
// resource unlimited.
func withLimits(l stack.Limits) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		setLinux(s)
		var opts []oci.SpecOpts
		if l.MemoryBytes > 0 {
			opts = append(opts, oci.WithMemoryLimit(uint64(l.MemoryBytes)))
		}
		if l.CPUs > 0 {
			const period = 100000
			opts = append(opts, oci.WithCPUCFS(int64(l.CPUs*period), period))
		}
		if l.CPUShares > 0 {
			opts = append(opts, oci.WithCPUShares(l.CPUShares))
		}
		if l.Pids > 0 {
			opts = append(opts, oci.WithPidsLimit(l.Pids))
		}
		for _, o := range opts {
			if err := o(ctx, client, c, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// withSecurity reduces the capabilities to defaultCaps plus capAdd minus
// capDrop (both already parsed; ALL in capDrop drops every one not
// added), sets no-new-privileges and containerd's default seccomp profile,
// which depends on the capabilities and so comes last.
func withSecurity(capAdd, capDrop []string) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		setLinux(s)
		setProcess(s)
		caps := slices.Clone(defaultCaps)
		if slices.Contains(capDrop, capAll) {
			caps = nil
		}
		caps = slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(capDrop, c) })
		for _, a := range capAdd {
			if !slices.Contains(caps, a) {
				caps = append(caps, a)
			}
		}
		for _, o := range []oci.SpecOpts{oci.WithCapabilities(caps), oci.WithNoNewPrivileges, seccomp.WithDefaultProfile()} {
			if err := o(ctx, client, c, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// withReadOnlyRoot mounts the root filesystem read-only when asked; /run,
// /tmp and the volumes stay writable.
func withReadOnlyRoot(ro bool) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		if !ro {
			return nil
		}
		return oci.WithRootFSReadonly()(ctx, client, c, s)
	}
}

// initPath is where the init binary is mounted in a container that asks
// for one, where docker mounts its own.
const initPath = "/sbin/docker-init"

// withInit runs the static init at initBin (when set) as PID 1, mounted
// read-only at initPath, with the process's arguments after "--" (docker's
// --init): it forwards signals to the process and reaps zombies. It comes
// after the options that set the arguments.
func withInit(initBin string) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		if initBin == "" {
			return nil
		}
		setProcess(s)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: initPath, Type: "bind", Source: initBin, Options: []string{"rbind", "ro", "nosuid", "nodev"}})
		s.Process.Args = append([]string{initPath, "--"}, s.Process.Args...)
		return nil
	}
}

// withWorkingDir replaces the image's working directory when dir is set.
func withWorkingDir(dir string) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		if dir == "" {
			return nil
		}
		return oci.WithProcessCwd(dir)(ctx, client, c, s)
	}
}

// withExtraTmpfs mounts the service's tmpfs, nosuid and nodev like docker's,
// and noexec when the service asks.
func withExtraTmpfs(mounts []stack.Tmpfs) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, _ *containers.Container, s *specs.Spec) error {
		for _, m := range mounts {
			opts := []string{"nosuid", "nodev"}
			if m.NoExec {
				opts = append(opts, "noexec")
			}
			if m.Size > 0 {
				opts = append(opts, "size="+strconv.FormatInt(m.Size, 10))
			}
			mode := m.Mode
			if mode == 0 {
				mode = 0o1777
			}
			opts = append(opts, "mode="+strconv.FormatUint(uint64(mode), 8))
			s.Mounts = append(s.Mounts, specs.Mount{Destination: path.Clean(m.Target), Type: "tmpfs", Source: "tmpfs", Options: opts})
		}
		return nil
	}
}

// withUser is containerd's oci.WithUser, whose lookup error ("no users
// found") does not say which user, nor where it was looked for.
func withUser(u string) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, s *specs.Spec) error {
		if err := oci.WithUser(u)(ctx, client, c, s); err != nil {
			return fmt.Errorf("user %q: %w: the image's /etc/passwd and /etc/group do not have it; give one they have, or a numeric uid:gid", u, err)
		}
		return nil
	}
}
