package runtime

import (
	"net"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

func TestBridgeName(t *testing.T) {
	assert.Equal(t, "inc-inception", BridgeName("inception"), "a short name is kept whole")
	assert.Equal(t, "inc-inceptionde", BridgeName("inceptionde"), "15 characters: whole")

	long1 := "inception-feature-one"
	long2 := "inception-feature-two"
	names := []string{"inception", "inception-dev", "inceptionde", "inceptiondev", "inception-d", long1, long2,
		strings.Repeat("a", stack.MaxProjectName), strings.Repeat("a", stack.MaxProjectName-1)}
	seen := map[string]string{}
	for _, n := range names {
		b := BridgeName(n)
		assert.LessOrEqual(t, len(b), bridgeNameMax, "%s: %s fits an interface name", n, b)
		if other, ok := seen[b]; ok {
			t.Errorf("projects %q and %q share bridge %s", other, n, b)
		}
		seen[b] = n
		nw, err := NewNetwork(n)
		require.NoError(t, err, n)
		assert.Equal(t, b, nw.Bridge(), n)
	}
	assert.True(t, strings.HasPrefix(BridgeName(long1), "inc-ince."), BridgeName(long1))
}

// TestProjectObjectsAreDistinct: two projects whose names share a prefix
// get container ids, namespaces, probe, secrets and state directories, and
// supervisor files that are all different, and none is inside the other's
// directory: removing one project's directories leaves the other's.
func TestProjectObjectsAreDistinct(t *testing.T) {
	r := &Runtime{cfg: config{root: "/var/lib/x", runDir: "/run/x"}}
	a, b := r.paths("inception"), r.paths("inception-dev")
	objects := func(p paths, svc string) map[string]string {
		return map[string]string{
			"container": ContainerID(p.stack, svc), "netns": p.netnsPath(svc), "probe dir": p.probeDir(svc),
			"secrets": p.secretsDir(svc), "state": p.stateDir(), "supervisor pid": p.supervisorPID(),
			"supervisor lock": p.supervisorLock(), "bridge": BridgeName(p.stack),
		}
	}
	oa, ob := objects(a, "nginx"), objects(b, "nginx")
	for kind := range oa {
		assert.NotEqual(t, oa[kind], ob[kind], kind)
	}
	for _, pair := range [][2]paths{{a, b}, {b, a}} {
		for _, root := range []string{pair[0].netnsDir(), pair[0].probesRoot(), pair[0].secretsRoot(), pair[0].stateDir()} {
			for kind, o := range objects(pair[1], "nginx") {
				assert.False(t, strings.HasPrefix(o, root+"/"), "%s of %s is under %s", kind, pair[1].stack, root)
			}
		}
	}
}

func TestProjectSubnet(t *testing.T) {
	assert.Equal(t, DefaultSubnet, ProjectSubnet("inception"))
	for _, n := range []string{"inception-dev", "a", strings.Repeat("z", stack.MaxProjectName)} {
		s := ProjectSubnet(n)
		_, ipn, err := net.ParseCIDR(s)
		require.NoError(t, err, n)
		assert.Equal(t, s, ipn.String(), n)
		assert.True(t, strings.HasPrefix(s, "10.90."), s)
		assert.Equal(t, s, ProjectSubnet(n), "stable")
	}
}

func TestCheckSubnetFree(t *testing.T) {
	// The loopback's 127.0.0.1/8 is on every host.
	nw, err := NewNetwork("t", WithSubnet("127.1.2.0/24"))
	require.NoError(t, err)
	err = nw.CheckSubnetFree()
	require.ErrorIs(t, err, ErrNetwork)
	assert.Contains(t, err.Error(), "--subnet")
	// A documentation network no interface of this host has: no error.
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, cidr := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"} {
		_, ipn, err := net.ParseCIDR(cidr)
		require.NoError(t, err)
		used := false
		for _, a := range addrs {
			if an, ok := a.(*net.IPNet); ok && (ipn.Contains(an.IP) || an.Contains(ipn.IP)) {
				used = true
			}
		}
		if used {
			continue
		}
		nw, err = NewNetwork("t", WithSubnet(cidr))
		require.NoError(t, err)
		assert.NoError(t, nw.CheckSubnetFree(), cidr)
		return
	}
	t.Log("every documentation network is on this host: only the overlap was checked")
}

func TestEngineScope(t *testing.T) {
	assert.Equal(t, "inception", engineScope("/var/lib/inception", "inception"), "the default engine keeps containerd's cgroup parent")
	a, b := engineScope("/var/lib/inc-a", "inception"), engineScope("/var/lib/inc-b", "inception")
	assert.NotEqual(t, a, b, "two engines, one namespace name: two cgroup parents")
	assert.True(t, strings.HasPrefix(a, "inception-"), a)
	assert.Equal(t, a, engineScope("/var/lib/inc-a/", "inception"), "the path is cleaned")
	assert.NotEqual(t, runcRoot("/run/inc-a"), runcRoot("/run/inc-b"))

	var s specs.Spec
	require.NoError(t, withCgroupsPath(a)(t.Context(), nil, &containers.Container{ID: "p-web"}, &s))
	assert.Equal(t, "/"+a+"/p-web", s.Linux.CgroupsPath)
}
