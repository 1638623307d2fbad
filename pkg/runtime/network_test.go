package runtime

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewNetworkValidation(t *testing.T) {
	tests := []struct {
		name string
		net  string
		opts []NetworkOption
		err  string
	}{
		{name: "default", net: "inception"},
		{name: "bad name", net: "Bad Name", err: "lower-case"},
		{name: "name with a dot", net: "a.b", err: "lower-case"},
		{name: "bad subnet", net: "x", opts: []NetworkOption{WithSubnet("10.0.0.300/24")}, err: "IPv4 CIDR"},
		{name: "ipv6 subnet", net: "x", opts: []NetworkOption{WithSubnet("fd00::/64")}, err: "IPv4 CIDR"},
		{name: "tiny subnet", net: "x", opts: []NetworkOption{WithSubnet("10.0.0.0/30")}, err: "too small"},
		{name: "long bridge", net: "x", opts: []NetworkOption{WithBridge("a-very-long-bridge-name")}, err: "15 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nw, err := NewNetwork(tc.net, tc.opts...)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrNetwork)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "inc-inception", nw.Bridge())
		})
	}
}

func TestConfList(t *testing.T) {
	_, subnet, err := net.ParseCIDR("10.89.3.0/24")
	require.NoError(t, err)
	data, err := confList("st", "inc-st", subnet, "/state/ipam")
	require.NoError(t, err)
	var conf struct {
		CNIVersion string           `json:"cniVersion"`
		Plugins    []map[string]any `json:"plugins"`
	}
	require.NoError(t, json.Unmarshal(data, &conf))
	assert.Equal(t, "1.0.0", conf.CNIVersion, "Debian bookworm's plugins speak at most 1.0.0")
	require.Len(t, conf.Plugins, 2, "no firewall plugin: its rules are the network's own")
	assert.Equal(t, "bridge", conf.Plugins[0]["type"])
	assert.Equal(t, false, conf.Plugins[0]["ipMasq"], "masquerade is the network's own rule")
	ipam := conf.Plugins[0]["ipam"].(map[string]any)
	assert.Equal(t, "/state/ipam", ipam["dataDir"], "leases live under the engine's state dir")
	assert.Equal(t, "10.89.3.1", ipam["ranges"].([]any)[0].([]any)[0].(map[string]any)["gateway"])
	assert.Equal(t, "portmap", conf.Plugins[1]["type"])
}

// TestNetworkRules: the rules every container of a network shares, as
// iptables arguments in the order iptables -S prints them: masquerade of
// what leaves the subnet (not to the subnet, not multicast) in a chain of
// the network's own, and FORWARD's accepts of what the subnet sends and of
// the answers to it.
func TestNetworkRules(t *testing.T) {
	_, subnet, err := net.ParseCIDR("10.89.3.0/24")
	require.NoError(t, err)
	chain, inChain, hooks := networkRules("st", "inc-st", subnet)
	assert.Equal(t, "INC-MASQ-inc-st", chain)
	assert.LessOrEqual(t, len("INC-MASQ-"+strings.Repeat("x", bridgeNameMax)), 28, "iptables chain names hold 28 characters")
	c := []string{"-m", "comment", "--comment", "inception network st"}
	rule := func(match []string, target string) []string { return slices.Concat(match, c, []string{"-j", target}) }
	assert.Equal(t, []ipRule{
		{"nat", chain, rule([]string{"-d", "10.89.3.0/24"}, "RETURN")},
		{"nat", chain, rule([]string{"-d", "224.0.0.0/4"}, "RETURN")},
		{"nat", chain, rule(nil, "MASQUERADE")},
	}, inChain, "in order: the subnet and multicast return before the masquerade")
	assert.Equal(t, []ipRule{
		{"nat", "POSTROUTING", rule([]string{"-s", "10.89.3.0/24"}, chain)},
		{"filter", "FORWARD", rule([]string{"-s", "10.89.3.0/24"}, "ACCEPT")},
		{"filter", "FORWARD", rule([]string{"-d", "10.89.3.0/24", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, "ACCEPT")},
	}, hooks)
}

// TestOwnRules: a network's rules are found in a chain's listing by their
// comment, whatever subnet they name, never another network's (a name the
// other's prefix included); each comes back as the arguments that made it.
func TestOwnRules(t *testing.T) {
	listing := []string{
		"-P FORWARD ACCEPT",
		"-A FORWARD -j DOCKER-USER",
		`-A FORWARD -d 10.89.140.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "inception network st" -j ACCEPT`,
		`-A FORWARD -s 10.89.140.0/24 -m comment --comment "inception network st" -j ACCEPT`,
		`-A FORWARD -s 10.89.141.0/24 -m comment --comment "inception network st-dev" -j ACCEPT`,
		`-A FORWARD -s 10.89.3.0/24 -m comment --comment "inception network st" -j ACCEPT`,
	}
	got := ownRules(listing, "st")
	c := []string{"-m", "comment", "--comment", "inception network st"}
	assert.Equal(t, [][]string{
		slices.Concat([]string{"-d", "10.89.140.0/24", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, c, []string{"-j", "ACCEPT"}),
		slices.Concat([]string{"-s", "10.89.140.0/24"}, c, []string{"-j", "ACCEPT"}),
		slices.Concat([]string{"-s", "10.89.3.0/24"}, c, []string{"-j", "ACCEPT"}),
	}, got)
	_, subnet, err := net.ParseCIDR("10.89.3.0/24")
	require.NoError(t, err)
	_, _, hooks := networkRules("st", "inc-st", subnet)
	assert.Equal(t, hooks[1].spec, got[2], "a rule made by networkRules reads back equal: ensureRules keeps it")
	assert.Len(t, ownRules(listing, "st-dev"), 1)
	assert.Empty(t, ownRules(listing, "s"))
}

func TestRuntimeConf(t *testing.T) {
	nw, err := NewNetwork("st", WithSubnet("10.89.3.0/24"))
	require.NoError(t, err)
	rt := nw.runtimeConf("c1", "/proc/1/ns/net", net.ParseIP("10.89.3.7"),
		[]PortMapping{{HostIP: "127.0.0.1", HostPort: 8443, ContainerPort: 443}})
	assert.Equal(t, []string{"10.89.3.7/24"}, rt.CapabilityArgs["ips"])
	pm := rt.CapabilityArgs["portMappings"].([]PortMapping)
	assert.Equal(t, TCP, pm[0].Protocol, "protocol defaults to tcp")
	rt = nw.runtimeConf("c1", "", nil, nil)
	assert.Empty(t, rt.CapabilityArgs)
}

// TestCachedPorts: the port mappings of CNI's cache are read back, and a
// cache entry that does not decode is an error, not an empty list.
func TestCachedPorts(t *testing.T) {
	var caps map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{"portMappings":[{"hostPort":443,"containerPort":443,"protocol":"tcp"}]}`), &caps))
	ports, err := cachedPorts(caps)
	require.NoError(t, err)
	assert.Equal(t, []PortMapping{{HostPort: 443, ContainerPort: 443, Protocol: TCP}}, ports)

	ports, err = cachedPorts(map[string]any{})
	require.NoError(t, err)
	assert.Empty(t, ports)

	_, err = cachedPorts(map[string]any{"portMappings": "443:443"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "port mappings")
}
