package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestRuntimeTwoProjects: two projects whose names share a prefix, both
// longer than a bridge name can hold, each with a service of the same
// name, are up at once, each on the subnet its name draws; down of one
// leaves the other running, answering on its port, with its network
// namespace, bridge and state; then the other comes down as well.
//
//	INCEPTION_INTEGRATION=1 go test -count=1 -v -run TestRuntimeTwoProjects ./test/integration/
func TestRuntimeTwoProjects(t *testing.T) {
	ctx, e := setup(t)
	names := []string{"rt-projects", "rt-projects-dev"}
	require.NotEqual(t, runtime.ProjectSubnet(names[0]), runtime.ProjectSubnet(names[1]), "the two names draw two subnets")
	require.NotEqual(t, runtime.BridgeName(names[0]), runtime.BridgeName(names[1]))
	type project struct {
		r    *rtEnv
		st   stack.Stack
		port int
	}
	var ps []project
	for _, n := range names {
		port := freePort(t)
		st := stack.Stack{Name: n, Services: []stack.Service{
			{Name: "web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": "8080"},
				Ports:   []stack.Port{{HostPort: port, ContainerPort: 8080}},
				Restart: stack.RestartPolicy{Mode: stack.RestartAlways}},
		}}
		// No subnet: each project's own (runtime.ProjectSubnet).
		ps = append(ps, project{r: newRuntime(ctx, t, e, st, ""), st: st, port: port})
	}
	for _, p := range ps {
		require.NoError(t, p.r.rt.Up(ctx, p.st, runtime.UpOptions{Wait: true, Timeout: time.Minute}), p.st.Name)
	}
	answers := func(p project) bool {
		name, err := dial(fmt.Sprintf("127.0.0.1:%d", p.port))
		return err == nil && name == "web"
	}
	netns := func(p project) string { return filepath.Join(e.engine.RunDir(), "netns", p.st.Name, "web") }
	for _, p := range ps {
		waitFor(t, p.st.Name+" answering", 20*time.Second, func() bool { return answers(p) })
		_, err := os.Stat(netns(p))
		require.NoError(t, err, "%s: its namespace", p.st.Name)
		_, err = net.InterfaceByName(runtime.BridgeName(p.st.Name))
		require.NoError(t, err, "%s: its bridge", p.st.Name)
		ip := net.ParseIP(p.r.ps(ctx, t, "web").IP)
		_, subnet, err := net.ParseCIDR(runtime.ProjectSubnet(p.st.Name))
		require.NoError(t, err)
		assert.True(t, subnet.Contains(ip), "%s: %s is on %s", p.st.Name, ip, subnet)
		assert.Contains(t, iptablesRules(t, "nat", "POSTROUTING"), masqJump(p.st.Name), "%s: its masquerade", p.st.Name)
		assert.Contains(t, iptablesRules(t, "filter", "FORWARD"), forwardAccept(p.st.Name), "%s: its forward accept", p.st.Name)
	}

	// Down of the project whose name is the other's prefix.
	a, b := ps[0], ps[1]
	require.NoError(t, a.r.rt.Down(ctx, a.st, runtime.DownOptions{}))
	assert.Zero(t, a.r.containerCount(ctx, t))
	_, err := os.Stat(netns(a))
	assert.ErrorIs(t, err, os.ErrNotExist, "its namespace is gone")
	_, err = net.InterfaceByName(runtime.BridgeName(a.st.Name))
	assert.Error(t, err, "its bridge is gone")
	nat, filter := iptablesRules(t, "nat", "POSTROUTING"), iptablesRules(t, "filter", "FORWARD")
	assert.NotContains(t, nat, "INC-MASQ-"+runtime.BridgeName(a.st.Name), "its masquerade jump is gone")
	assert.False(t, iptablesChain(t, "INC-MASQ-"+runtime.BridgeName(a.st.Name)), "its masquerade chain is gone")
	assert.NotContains(t, filter, forwardAccept(a.st.Name), "its forward accept is gone")
	assert.Contains(t, nat, masqJump(b.st.Name), "the other project's masquerade is left")
	assert.Contains(t, filter, forwardAccept(b.st.Name), "the other project's forward accept is left")

	assert.Equal(t, 1, b.r.containerCount(ctx, t))
	rep := b.r.ps(ctx, t, "web")
	assert.Equal(t, runtime.StatusRunning, rep.State, "the other project runs on")
	_, err = os.Stat(netns(b))
	require.NoError(t, err, "the other project's namespace is left")
	_, err = net.InterfaceByName(runtime.BridgeName(b.st.Name))
	require.NoError(t, err, "the other project's bridge is left")
	waitFor(t, b.st.Name+" answering after the other's down", 10*time.Second, func() bool { return answers(b) })
	code, out := b.r.exec(ctx, t, "web", "cat", "/etc/hostname")
	assert.Equal(t, 0, code)
	assert.Equal(t, "web\n", out)
	_, err = os.Stat(filepath.Join(e.engine.Root(), "runtime", b.st.Name, "state.json"))
	require.NoError(t, err, "the other project's state is left")

	require.NoError(t, b.r.rt.Down(ctx, b.st, runtime.DownOptions{}))
	assert.Zero(t, b.r.containerCount(ctx, t))
	assert.False(t, iptablesChain(t, "INC-MASQ-"+runtime.BridgeName(b.st.Name)))
	assert.NotContains(t, iptablesRules(t, "filter", "FORWARD"), forwardAccept(b.st.Name))
}

// iptablesRules is the chain's rules as `iptables -t table -S chain`
// prints them, one per line.
func iptablesRules(t *testing.T, table, chain string) string {
	t.Helper()
	ipt, err := iptables.New()
	require.NoError(t, err)
	rules, err := ipt.List(table, chain)
	require.NoError(t, err)
	return strings.Join(rules, "\n")
}

// iptablesChain says whether the nat table has the chain.
func iptablesChain(t *testing.T, chain string) bool {
	t.Helper()
	ipt, err := iptables.New()
	require.NoError(t, err)
	ok, err := ipt.ChainExists("nat", chain)
	require.NoError(t, err)
	return ok
}

// masqJump is POSTROUTING's jump to a project's masquerade chain, as
// iptables -S prints it.
func masqJump(project string) string {
	return fmt.Sprintf("-A POSTROUTING -s %s -m comment --comment \"inception network %s\" -j INC-MASQ-%s",
		runtime.ProjectSubnet(project), project, runtime.BridgeName(project))
}

// forwardAccept is FORWARD's accept of what a project's subnet sends.
func forwardAccept(project string) string {
	return fmt.Sprintf("-A FORWARD -s %s -m comment --comment \"inception network %s\" -j ACCEPT",
		runtime.ProjectSubnet(project), project)
}

// TestRuntimeNetworkRulesOtherSubnet: a stack brought up on one subnet and
// taken down by a runtime configured with another (a compose file's subnet
// that the down was not given) loses its network's iptables rules all the
// same: they are found by their comment, not by the subnet.
//
//	INCEPTION_INTEGRATION=1 go test -count=1 -v -run TestRuntimeNetworkRulesOtherSubnet ./test/integration/
func TestRuntimeNetworkRulesOtherSubnet(t *testing.T) {
	ctx, e := setup(t)
	st := stack.Stack{Name: "rt-rules", Services: []stack.Service{
		{Name: "web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": "8080"}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.136.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	comment := `--comment "inception network rt-rules"`
	assert.Contains(t, iptablesRules(t, "nat", "POSTROUTING"), "-s 10.89.136.0/24 -m comment "+comment)
	assert.Contains(t, iptablesRules(t, "filter", "FORWARD"), "-s 10.89.136.0/24 -m comment "+comment)

	other := engineRuntime(t, e, stackOptions(t.TempDir(), t.TempDir(), "127.0.0.1", "10.89.137.0/24")...)
	require.NoError(t, other.Down(ctx, st, runtime.DownOptions{}))
	assert.Zero(t, r.containerCount(ctx, t))
	assert.NotContains(t, iptablesRules(t, "nat", "POSTROUTING"), comment)
	assert.NotContains(t, iptablesRules(t, "filter", "FORWARD"), comment)
	assert.False(t, iptablesChain(t, "INC-MASQ-"+runtime.BridgeName(st.Name)))
}
