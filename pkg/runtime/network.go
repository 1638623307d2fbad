package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/containernetworking/cni/libcni"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/inceptionctl/inception/pkg/stack"
)

// Defaults of the stack network.
const (
	DefaultSubnet = "10.89.0.0/24"
	DefaultCNIBin = "/usr/lib/cni"
	// cniVersion 1.0.0 is the newest Debian bookworm's plugins (1.1.1) speak.
	cniVersion = "1.0.0"
)

// ErrNetwork wraps failures to configure the stack network.
var ErrNetwork = errors.New("network")

// Protocol is a port mapping protocol.
type Protocol string

// Protocols a port mapping may use.
const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// PortMapping publishes a container port on the host.
type PortMapping struct {
	HostIP        string   `json:"hostIP,omitempty"`
	HostPort      int      `json:"hostPort"`
	ContainerPort int      `json:"containerPort"`
	Protocol      Protocol `json:"protocol"`
}

// Network is one bridge network for a stack.
type Network struct {
	name   string
	bridge string
	subnet *net.IPNet
	cni    *libcni.CNIConfig
	list   *libcni.NetworkConfigList
	// ipamDir is host-local's data dir; leases are under <ipamDir>/<name>.
	ipamDir string

	// rulesMade: the network's own iptables rules (netrules.go) were made
	// by this value, before its first attachment.
	rulesMu   sync.Mutex
	rulesMade bool
}

type networkConfig struct {
	subnet   string
	bridge   string
	stateDir string
	binDirs  []string
}

// NetworkOption configures a Network.
type NetworkOption func(*networkConfig)

// WithSubnet sets the network's IPv4 subnet in CIDR form.
func WithSubnet(cidr string) NetworkOption { return func(c *networkConfig) { c.subnet = cidr } }

// WithBridge sets the bridge interface name (at most 15 characters).
func WithBridge(name string) NetworkOption { return func(c *networkConfig) { c.bridge = name } }

// WithStateDir sets where CNI's result cache and the IPAM leases live.
func WithStateDir(dir string) NetworkOption { return func(c *networkConfig) { c.stateDir = dir } }

// WithCNIBinDirs sets where the CNI plugins are looked up.
func WithCNIBinDirs(dirs ...string) NetworkOption { return func(c *networkConfig) { c.binDirs = dirs } }

// NewNetwork returns the network called name. It only builds configuration:
// the bridge appears with the first Attach.
//
//	nw, err := runtime.NewNetwork("inception", runtime.WithSubnet("10.89.0.0/24"))
func NewNetwork(name string, opts ...NetworkOption) (*Network, error) {
	c := networkConfig{subnet: DefaultSubnet, stateDir: "/var/lib/inception/cni", binDirs: []string{DefaultCNIBin}}
	for _, o := range opts {
		o(&c)
	}
	if err := stack.ValidateProjectName(name); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNetwork, err)
	}
	if c.bridge == "" {
		c.bridge = BridgeName(name)
	}
	if len(c.bridge) > bridgeNameMax {
		return nil, fmt.Errorf("%w: bridge name %q is longer than 15 characters", ErrNetwork, c.bridge)
	}
	ip, subnet, err := net.ParseCIDR(c.subnet)
	if err != nil || ip.To4() == nil {
		return nil, fmt.Errorf("%w: subnet %q: give an IPv4 CIDR such as %s", ErrNetwork, c.subnet, DefaultSubnet)
	}
	if ones, _ := subnet.Mask.Size(); ones > 28 {
		return nil, fmt.Errorf("%w: subnet %q is too small: use /28 or larger", ErrNetwork, c.subnet)
	}
	conf, err := confList(name, c.bridge, subnet, filepath.Join(c.stateDir, "ipam"))
	if err != nil {
		return nil, err
	}
	list, err := libcni.NetworkConfFromBytes(conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNetwork, err)
	}
	return &Network{
		name:    name,
		bridge:  c.bridge,
		subnet:  subnet,
		cni:     libcni.NewCNIConfigWithCacheDir(c.binDirs, filepath.Join(c.stateDir, "cache"), nil),
		list:    list,
		ipamDir: filepath.Join(c.stateDir, "ipam"),
	}, nil
}

// confList renders the CNI configuration list of the network.
func confList(name, bridge string, subnet *net.IPNet, dataDir string) ([]byte, error) {
	gw := make(net.IP, 4)
	copy(gw, subnet.IP.To4())
	gw[3]++
	// No ipMasq and no firewall plugin: the masquerade and forward rules
	// are the network's own, made once for all its containers (netrules.go).
	plugins := []map[string]any{
		{
			"type":        "bridge",
			"bridge":      bridge,
			"isGateway":   true,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"dataDir": dataDir,
				"ranges":  [][]map[string]string{{{"subnet": subnet.String(), "gateway": gw.String()}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
			},
			"capabilities": map[string]bool{"ips": true},
		},
		{"type": "portmap", "snat": true, "capabilities": map[string]bool{"portMappings": true}},
	}
	return json.Marshal(map[string]any{"cniVersion": cniVersion, "name": name, "plugins": plugins})
}

// Name is the network's name.
func (n *Network) Name() string { return n.name }

// Bridge is the bridge interface name.
func (n *Network) Bridge() string { return n.bridge }

// Attach connects the network namespace at netnsPath to the network and
// publishes ports; a non-nil ip asks for that address (a stable address per
// service keeps nginx's upstream valid across restarts). It returns the
// container's address.
func (n *Network) Attach(ctx context.Context, containerID, netnsPath string, ip net.IP, ports []PortMapping) (net.IP, error) {
	n.rulesMu.Lock()
	if !n.rulesMade {
		if err := n.ensureRules(); err != nil {
			n.rulesMu.Unlock()
			return nil, fmt.Errorf("attach %s to %s: %w", containerID, n.name, err)
		}
		n.rulesMade = true
	}
	n.rulesMu.Unlock()
	rt := n.runtimeConf(containerID, netnsPath, ip, ports)
	res, err := n.cni.AddNetworkList(ctx, n.list, rt)
	if err != nil {
		return nil, fmt.Errorf("%w: attach %s to %s: %w", ErrNetwork, containerID, n.name, err)
	}
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("%w: result for %s: %w", ErrNetwork, containerID, err)
	}
	for _, ipc := range r.IPs {
		if ipc.Address.IP.To4() != nil {
			// The address may be an old one on a new veth: the host must
			// learn the new MAC. Best effort: at worst the old entry ages out.
			_ = forgetNeighbor(n.bridge, ipc.Address.IP)
			return ipc.Address.IP, nil
		}
	}
	return nil, fmt.Errorf("%w: %s got no IPv4 address on %s", ErrNetwork, containerID, n.name)
}

// Detach removes the container from the network: its address lease, its
// port mappings and firewall rules. Safe to repeat, and safe when the
// namespace is already gone.
func (n *Network) Detach(ctx context.Context, containerID, netnsPath string, ports []PortMapping) error {
	if netnsPath != "" {
		if _, err := os.Stat(netnsPath); err != nil {
			netnsPath = ""
		}
	}
	rt := n.runtimeConf(containerID, netnsPath, nil, ports)
	if err := n.cni.DelNetworkList(ctx, n.attachedWith(rt), rt); err != nil {
		return fmt.Errorf("%w: detach %s from %s: %w", ErrNetwork, containerID, n.name, err)
	}
	return nil
}

// attachedWith is the configuration the container was attached with, from
// CNI's cache, so that a detach undoes what the attach did even when the
// configuration changed since (an attachment made when the bridge plugin
// masqueraded and the firewall plugin ran for each container); the
// network's own when the cache has none.
func (n *Network) attachedWith(rt *libcni.RuntimeConf) *libcni.NetworkConfigList {
	data, _, err := n.cni.GetNetworkListCachedConfig(n.list, rt)
	if err != nil || len(data) == 0 {
		return n.list
	}
	list, err := libcni.NetworkConfFromBytes(data)
	if err != nil || list.Name != n.name {
		return n.list
	}
	return list
}

func (n *Network) runtimeConf(containerID, netnsPath string, ip net.IP, ports []PortMapping) *libcni.RuntimeConf {
	caps := map[string]any{}
	if len(ports) > 0 {
		pm := make([]PortMapping, len(ports))
		for i, p := range ports {
			if p.Protocol == "" {
				p.Protocol = TCP
			}
			p.Protocol = Protocol(strings.ToLower(string(p.Protocol)))
			pm[i] = p
		}
		caps["portMappings"] = pm
	}
	if ip != nil {
		caps["ips"] = []string{(&net.IPNet{IP: ip, Mask: n.subnet.Mask}).String()}
	}
	return &libcni.RuntimeConf{ContainerID: containerID, NetNS: netnsPath, IfName: "eth0", CapabilityArgs: caps}
}

// attachment is what CNI's cache says about a container on the network.
type attachment struct {
	netns string
	ip    string // the requested address, "" when none was asked for
	ports []PortMapping
}

// cachedAttachment returns the container's attachment from CNI's cache, or
// nil when it has none (never attached, or detached).
func (n *Network) cachedAttachment(containerID string) (*attachment, error) {
	atts, err := n.cni.GetCachedAttachments(containerID)
	if err != nil {
		return nil, fmt.Errorf("%w: read CNI cache: %w", ErrNetwork, err)
	}
	for _, a := range atts {
		if a.Network != n.name || a.ContainerID != containerID {
			continue
		}
		out := &attachment{netns: a.NetNS}
		if ips, ok := a.CapabilityArgs["ips"].([]any); ok && len(ips) > 0 {
			out.ip, _ = ips[0].(string)
		}
		ports, err := cachedPorts(a.CapabilityArgs)
		if err != nil {
			return nil, fmt.Errorf("%w: CNI cache of %s: %w", ErrNetwork, containerID, err)
		}
		out.ports = ports
		return out, nil
	}
	return nil, nil
}

// cachedPorts reads the port mappings of a cached attachment's capability
// arguments: what runtimeConf put in, round-tripped through JSON.
func cachedPorts(caps map[string]any) ([]PortMapping, error) {
	pm, ok := caps["portMappings"]
	if !ok {
		return nil, nil
	}
	data, err := json.Marshal(pm)
	if err != nil {
		return nil, fmt.Errorf("port mappings: %w", err)
	}
	var ports []PortMapping
	if err := json.Unmarshal(data, &ports); err != nil {
		return nil, fmt.Errorf("port mappings %s: %w", data, err)
	}
	return ports, nil
}

// Teardown removes the whole network: every attachment CNI's cache knows
// for it and those of containerIDs (their address leases and port mappings:
// the per-container iptables chains go with them), the IPAM leases
// directory, the network's own iptables rules (netrules.go), and the
// bridge, which the bridge plugin never removes.
// Safe to repeat.
func (n *Network) Teardown(ctx context.Context, containerIDs ...string) error {
	ids := map[string]bool{}
	for _, id := range containerIDs {
		ids[id] = true
	}
	atts, err := n.cni.GetCachedAttachments("")
	if err != nil {
		return fmt.Errorf("%w: read CNI cache: %w", ErrNetwork, err)
	}
	var errs []error
	for _, a := range atts {
		if a.Network != n.name {
			continue
		}
		delete(ids, a.ContainerID)
		ports, err := cachedPorts(a.CapabilityArgs)
		if err != nil {
			// Detached all the same: its address lease and firewall rules
			// go; port mappings CNI cannot be told of may stay behind.
			errs = append(errs, fmt.Errorf("%w: CNI cache of %s: %w (its port mappings may stay in iptables' CNI-HOSTPORT chains)", ErrNetwork, a.ContainerID, err))
		}
		errs = append(errs, n.Detach(ctx, a.ContainerID, a.NetNS, ports))
	}
	for id := range ids {
		errs = append(errs, n.Detach(ctx, id, "", nil))
	}
	if n.ipamDir != "" {
		errs = append(errs, os.RemoveAll(filepath.Join(n.ipamDir, n.name)))
	}
	errs = append(errs, n.removeRules(), deleteBridge(n.bridge))
	return errors.Join(errs...)
}

// CheckSubnetFree fails when an interface of the host other than the
// network's bridge has an address in the network's subnet: another project's
// bridge, or a network of the host, that packets to the services would be
// routed to instead.
func (n *Network) CheckSubnetFree() error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("%w: list interfaces: %w", ErrNetwork, err)
	}
	for _, ifc := range ifaces {
		if ifc.Name == n.bridge {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			if n.subnet.Contains(ipn.IP) || ipn.Contains(n.subnet.IP) {
				return fmt.Errorf("%w: subnet %s of %s overlaps %s on interface %s (another project, or a network of the host): give this project another subnet (--subnet)",
					ErrNetwork, n.subnet, n.name, ipn, ifc.Name)
			}
		}
	}
	return nil
}

// firstServiceHost is the host number of the first service's address: .1
// is the gateway, and a few addresses stay free below the services.
const firstServiceHost = 10

// ServiceAddress is the fixed address of the i-th service of a stack on the
// network (.10, .11, ...): deterministic, so a service keeps its address
// across restarts, recreations and reboots.
func (n *Network) ServiceAddress(i int) (net.IP, error) {
	ones, bits := n.subnet.Mask.Size()
	size := 1 << (bits - ones)
	host := firstServiceHost + i
	if i < 0 || host >= size-1 {
		return nil, fmt.Errorf("%w: subnet %s has no room for service #%d (address .%d): use a larger subnet", ErrNetwork, n.subnet, i+1, host)
	}
	base := n.subnet.IP.To4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += uint32(host)
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4(), nil
}

// Subnet is the network's subnet in CIDR form.
func (n *Network) Subnet() string { return n.subnet.String() }
