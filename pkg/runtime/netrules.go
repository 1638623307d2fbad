package runtime

import (
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/coreos/go-iptables/iptables"
)

// The iptables rules that are the same for every container of a network
// are made once per network, here, instead of once per container by the
// CNI plugins (the bridge plugin's ipMasq and the firewall plugin ran 18
// iptables commands for each container, one attachment after the other):
//
//   - nat: traffic from the subnet to anywhere else is masqueraded, as the
//     bridge plugin's ipMasq does it (the subnet itself and multicast
//     excepted), in a chain of the network's own, INC-MASQ-<bridge>,
//     jumped to from POSTROUTING;
//   - filter: FORWARD accepts what the subnet sends, and the answers to it,
//     as the firewall plugin's per-address rules did (a host whose FORWARD
//     policy is DROP, as Docker leaves it, still lets the services talk).
//
// The per-container work (the veth, the address, the published ports)
// stays with the bridge, host-local and portmap plugins.

// ipRule is one iptables rule: table, chain and the rule's arguments.
type ipRule struct {
	table, chain string
	spec         []string
}

// networkRules are the network's rules: the masquerade chain's name, the
// rules in it, and the rules in the built-in chains (the jump to it and
// the forward accepts).
func networkRules(name, bridge string, subnet *net.IPNet) (chain string, inChain, hooks []ipRule) {
	chain = "INC-MASQ-" + bridge
	cidr := subnet.String()
	comment := []string{"-m", "comment", "--comment", "inception network " + name}
	with := func(spec ...string) []string { return append(spec, comment...) }
	inChain = []ipRule{
		{"nat", chain, with("-d", cidr, "-j", "RETURN")},
		{"nat", chain, with("-d", "224.0.0.0/4", "-j", "RETURN")},
		{"nat", chain, with("-j", "MASQUERADE")},
	}
	hooks = []ipRule{
		{"nat", "POSTROUTING", with("-s", cidr, "-j", chain)},
		{"filter", "FORWARD", with("-s", cidr, "-j", "ACCEPT")},
		{"filter", "FORWARD", with("-d", cidr, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")},
	}
	return chain, inChain, hooks
}

// ensureRules makes the network's rules, or makes them again as they
// should be: the masquerade chain is flushed and filled, the jump to it
// appended and the forward accepts put first in FORWARD, unless there.
func (n *Network) ensureRules() error {
	ipt, err := iptables.NewWithProtocol(iptables.ProtocolIPv4)
	if err != nil {
		return fmt.Errorf("%w: iptables: %w", ErrNetwork, err)
	}
	chain, inChain, hooks := networkRules(n.name, n.bridge, n.subnet)
	if err := ipt.ClearChain("nat", chain); err != nil {
		return fmt.Errorf("%w: chain %s: %w", ErrNetwork, chain, err)
	}
	for _, r := range inChain {
		if err := ipt.Append(r.table, r.chain, r.spec...); err != nil {
			return fmt.Errorf("%w: rule in %s: %w", ErrNetwork, r.chain, err)
		}
	}
	for _, r := range hooks {
		var err error
		if r.chain == "FORWARD" {
			err = ipt.InsertUnique(r.table, r.chain, 1, r.spec...)
		} else {
			err = ipt.AppendUnique(r.table, r.chain, r.spec...)
		}
		if err != nil {
			return fmt.Errorf("%w: rule in %s: %w", ErrNetwork, r.chain, err)
		}
	}
	return nil
}

// removeRules removes the network's rules. Safe to repeat, and when they
// were never made.
func (n *Network) removeRules() error {
	ipt, err := iptables.NewWithProtocol(iptables.ProtocolIPv4)
	if err != nil {
		return fmt.Errorf("%w: iptables: %w", ErrNetwork, err)
	}
	chain, _, hooks := networkRules(n.name, n.bridge, n.subnet)
	// A jump to a chain that does not exist cannot exist either, and
	// iptables -C fails on the missing target rather than answer no.
	made, err := ipt.ChainExists("nat", chain)
	if err != nil {
		return fmt.Errorf("%w: chain %s: %w", ErrNetwork, chain, err)
	}
	var errs []error
	for _, r := range hooks {
		if !made && slices.Contains(r.spec, chain) {
			continue
		}
		if err := ipt.DeleteIfExists(r.table, r.chain, r.spec...); err != nil {
			errs = append(errs, fmt.Errorf("%w: rule in %s: %w", ErrNetwork, r.chain, err))
		}
	}
	if made {
		if err := ipt.ClearAndDeleteChain("nat", chain); err != nil {
			errs = append(errs, fmt.Errorf("%w: chain %s: %w", ErrNetwork, chain, err))
		}
	}
	return errors.Join(errs...)
}
