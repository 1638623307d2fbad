package runtime

import (
	"context"
	"slices"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

// apply runs opts on a zero spec, as containerd would on a new container.
func apply(t *testing.T, opts ...oci.SpecOpts) *oci.Spec {
	t.Helper()
	s := &oci.Spec{}
	for _, o := range opts {
		require.NoError(t, o(context.Background(), nil, &containers.Container{ID: "c"}, s))
	}
	return s
}

func mountAt(s *oci.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestWithServiceEnv(t *testing.T) {
	s := apply(t, withServiceEnv(map[string]string{"B": "2", "A": "1"}))
	assert.Equal(t, []string{"A=1", "B=2"}, s.Process.Env, "sorted, so the spec does not depend on map order")
	s = apply(t, oci.WithEnv([]string{"A=image", "PATH=/bin"}), withServiceEnv(map[string]string{"A": "svc"}))
	assert.Equal(t, []string{"A=svc", "PATH=/bin"}, s.Process.Env, "the service overrides the image")
	s = apply(t, withServiceEnv(nil))
	assert.Nil(t, s.Process)
}

func TestWithNetNS(t *testing.T) {
	s := apply(t, withNetNS("/run/x/netns/st-a"))
	require.Len(t, s.Linux.Namespaces, 1)
	assert.Equal(t, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/run/x/netns/st-a"}, s.Linux.Namespaces[0])
	// Over a default spec it replaces the new network namespace and keeps the others.
	s = apply(t, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace}), withNetNS("/ns"))
	assert.Len(t, s.Linux.Namespaces, 2)
	assert.Equal(t, "/ns", s.Linux.Namespaces[1].Path)
}

func TestWithHostname(t *testing.T) {
	assert.Equal(t, "wordpress", apply(t, withHostname("wordpress")).Hostname)
}

func TestWithEtcFiles(t *testing.T) {
	s := apply(t, withEtcFiles("/state/svc"))
	for _, f := range []string{"hosts", "hostname", "resolv.conf"} {
		m := mountAt(s, "/etc/"+f)
		require.NotNil(t, m, f)
		assert.Equal(t, "/state/svc/"+f, m.Source)
		assert.Contains(t, m.Options, "ro")
	}
}

func TestWithTmpfs(t *testing.T) {
	s := apply(t, oci.WithMounts([]specs.Mount{{Destination: "/run", Type: "tmpfs", Source: "tmpfs"}}), withTmpfs(nil))
	var runs int
	for _, m := range s.Mounts {
		if m.Destination == "/run" {
			runs++
			assert.Contains(t, m.Options, "tmpcopyup", "the image's /run content must survive")
		}
	}
	assert.Equal(t, 1, runs, "containerd's own /run tmpfs is replaced, not doubled")
	tmp := mountAt(s, "/tmp")
	require.NotNil(t, tmp)
	assert.Equal(t, "tmpfs", tmp.Type)
	assert.Contains(t, tmp.Options, "mode=1777")
	assert.Contains(t, tmp.Options, "nosuid")
	assert.Contains(t, tmp.Options, "nodev")
}

// TestWithTmpfsOwnTmp: a service's own /tmp (noexec, say) replaces the
// default one, not stacked on it; /run stays.
func TestWithTmpfsOwnTmp(t *testing.T) {
	own := []stack.Tmpfs{{Target: "/tmp/", Size: 1 << 20, NoExec: true}}
	s := apply(t, withTmpfs(own), withExtraTmpfs(own))
	var tmps []specs.Mount
	for _, m := range s.Mounts {
		if m.Destination == "/tmp" {
			tmps = append(tmps, m)
		}
	}
	require.Len(t, tmps, 1, "one /tmp: the service's")
	assert.Equal(t, []string{"nosuid", "nodev", "noexec", "size=1048576", "mode=1777"}, tmps[0].Options)
	require.NotNil(t, mountAt(s, "/run"), "the default /run stays")
}

func TestWithVolumes(t *testing.T) {
	s := apply(t, withVolumes([]volumeMount{
		{Source: "/data/wp", Target: "/var/www/html", Volume: "wp"},
		{Source: "/etc/ssl", Target: "/ssl", ReadOnly: true},
	}))
	require.Len(t, s.Mounts, 2)
	assert.Equal(t, specs.Mount{Destination: "/var/www/html", Type: "bind", Source: "/data/wp", Options: []string{"rbind", "rw"}}, s.Mounts[0])
	assert.Equal(t, []string{"rbind", "ro"}, s.Mounts[1].Options)
}

func TestWithSecretsAfterRun(t *testing.T) {
	// Secrets first, /run tmpfs later: the sort must put /run first or the
	// tmpfs hides the secret.
	s := apply(t, withSecrets([]secretMount{{Name: "db_password", Source: "/run/inc/secrets/st/db/db_password"}}), withTmpfs(nil), withSortedMounts())
	var order []string
	for _, m := range s.Mounts {
		order = append(order, m.Destination)
	}
	assert.Less(t, slices.Index(order, "/run"), slices.Index(order, "/run/secrets/db_password"), "order: %v", order)
	m := mountAt(s, "/run/secrets/db_password")
	assert.Equal(t, "/run/inc/secrets/st/db/db_password", m.Source)
	assert.Contains(t, m.Options, "ro")
	assert.Contains(t, m.Options, "noexec")
}

func TestWithSortedMountsIsStable(t *testing.T) {
	s := apply(t, oci.WithMounts([]specs.Mount{
		{Destination: "/var/lib/x"}, {Destination: "/proc"}, {Destination: "/dev/pts"}, {Destination: "/dev"}, {Destination: "/a/b"},
	}), withSortedMounts())
	var order []string
	for _, m := range s.Mounts {
		order = append(order, m.Destination)
	}
	assert.Equal(t, []string{"/proc", "/dev", "/dev/pts", "/a/b", "/var/lib/x"}, order)
}

func TestWithLimits(t *testing.T) {
	s := apply(t, withLimits(stack.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, CPUShares: 512, Pids: 100}))
	r := s.Linux.Resources
	require.NotNil(t, r)
	assert.Equal(t, int64(256<<20), *r.Memory.Limit)
	assert.Equal(t, int64(50000), *r.CPU.Quota)
	assert.Equal(t, uint64(100000), *r.CPU.Period)
	assert.Equal(t, uint64(512), *r.CPU.Shares)
	assert.Equal(t, int64(100), *r.Pids.Limit)
	s = apply(t, withLimits(stack.Limits{}))
	assert.Nil(t, s.Linux.Resources, "zero limits set nothing")
}

func TestWithSecurity(t *testing.T) {
	s := apply(t, withSecurity([]string{"CAP_NET_ADMIN"}, nil))
	caps := s.Process.Capabilities
	require.NotNil(t, caps)
	assert.Contains(t, caps.Bounding, "CAP_NET_ADMIN")
	assert.Contains(t, caps.Effective, "CAP_CHOWN")
	for _, c := range droppedCaps {
		assert.NotContains(t, caps.Bounding, c)
	}
	assert.True(t, s.Process.NoNewPrivileges)
	require.NotNil(t, s.Linux.Seccomp)
	assert.Equal(t, specs.ActErrno, s.Linux.Seccomp.DefaultAction)
	assert.NotEmpty(t, s.Linux.Seccomp.Syscalls)
}

// TestDefaultCaps: defaultCaps is containerd's default set minus
// droppedCaps, nothing else.
func TestDefaultCaps(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), "test")
	s, err := oci.GenerateSpec(ctx, nil, &containers.Container{ID: "c"})
	require.NoError(t, err)
	want := slices.DeleteFunc(slices.Clone(s.Process.Capabilities.Bounding), func(c string) bool { return slices.Contains(droppedCaps, c) })
	assert.ElementsMatch(t, want, defaultCaps)
}

func TestWithReadOnlyRoot(t *testing.T) {
	assert.True(t, apply(t, withReadOnlyRoot(true)).Root.Readonly)
	assert.Nil(t, apply(t, withReadOnlyRoot(false)).Root)
}

func TestParseCap(t *testing.T) {
	c, err := parseCap("net_admin")
	require.NoError(t, err)
	assert.Equal(t, "CAP_NET_ADMIN", c)
	_, err = parseCap("CAP_FLY")
	assert.ErrorIs(t, err, stack.ErrInvalid)
}

func TestWithInit(t *testing.T) {
	args := oci.WithProcessArgs("/entry", "serve")
	s := apply(t, args, withInit("/usr/bin/tini-static"))
	assert.Equal(t, []string{initPath, "--", "/entry", "serve"}, s.Process.Args)
	m := mountAt(s, initPath)
	require.NotNil(t, m)
	assert.Equal(t, "/usr/bin/tini-static", m.Source)
	assert.Contains(t, m.Options, "ro")
	s = apply(t, args, withInit(""))
	assert.Equal(t, []string{"/entry", "serve"}, s.Process.Args, "no init asked for")
	assert.Nil(t, mountAt(s, initPath))
}

func TestWithWorkingDir(t *testing.T) {
	assert.Equal(t, "/app", apply(t, withWorkingDir("/app")).Process.Cwd)
	assert.Nil(t, apply(t, withWorkingDir("")).Process, "empty keeps the image's")
}

func TestWithExtraTmpfs(t *testing.T) {
	s := apply(t, withExtraTmpfs([]stack.Tmpfs{{Target: "/scratch/", Size: 1 << 20, Mode: 0o700}, {Target: "/cache"}}))
	m := mountAt(s, "/scratch")
	require.NotNil(t, m)
	assert.Equal(t, "tmpfs", m.Type)
	assert.Equal(t, []string{"nosuid", "nodev", "size=1048576", "mode=700"}, m.Options)
	m = mountAt(s, "/cache")
	require.NotNil(t, m)
	assert.Equal(t, []string{"nosuid", "nodev", "mode=1777"}, m.Options, "no size: the kernel's default")
	s = apply(t, withExtraTmpfs([]stack.Tmpfs{{Target: "/sessions", NoExec: true}}))
	assert.Contains(t, mountAt(s, "/sessions").Options, "noexec")
}

func TestWithSecurityCapDrop(t *testing.T) {
	caps := apply(t, withSecurity(nil, []string{"CAP_CHOWN"})).Process.Capabilities
	assert.NotContains(t, caps.Bounding, "CAP_CHOWN")
	assert.Contains(t, caps.Bounding, "CAP_KILL")
	caps = apply(t, withSecurity([]string{"CAP_NET_BIND_SERVICE"}, []string{capAll})).Process.Capabilities
	assert.Equal(t, []string{"CAP_NET_BIND_SERVICE"}, caps.Bounding, "ALL drops every capability not added")
}

func TestWithUserNumeric(t *testing.T) {
	var s oci.Spec
	require.NoError(t, withUser("1000:1001")(context.Background(), nil, &containers.Container{}, &s))
	assert.Equal(t, uint32(1000), s.Process.User.UID)
	assert.Equal(t, uint32(1001), s.Process.User.GID)
}
