package runtime

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

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
// Every rule carries the comment "inception network <name>": the rules of
// a network are found by it, whatever subnet they were made for (a project
// brought up with one subnet and taken down with another still loses them).
// The per-container work (the veth, the address, the published ports)
// stays with the bridge, host-local and portmap plugins.

// ipRule is one iptables rule: table, chain and the rule's arguments, in
// the order `iptables -S` prints them (matches, then the target).
type ipRule struct {
	table, chain string
	spec         []string
}

// hookChains are the built-in chains that hold a network's rules.
var hookChains = []struct{ table, chain string }{{"nat", "POSTROUTING"}, {"filter", "FORWARD"}}

// ruleComment is the comment on every rule of the network called name.
func ruleComment(name string) string { return "inception network " + name }

// networkRules are the network's rules: the masquerade chain's name, the
// rules in it, and the rules in the built-in chains (the jump to it and
// the forward accepts).
func networkRules(name, bridge string, subnet *net.IPNet) (chain string, inChain, hooks []ipRule) {
	chain = "INC-MASQ-" + bridge
	cidr := subnet.String()
	comment := []string{"-m", "comment", "--comment", ruleComment(name)}
	rule := func(match []string, target string) []string {
		return slices.Concat(match, comment, []string{"-j", target})
	}
	inChain = []ipRule{
		{"nat", chain, rule([]string{"-d", cidr}, "RETURN")},
		{"nat", chain, rule([]string{"-d", "224.0.0.0/4"}, "RETURN")},
		{"nat", chain, rule(nil, "MASQUERADE")},
	}
	hooks = []ipRule{
		{"nat", "POSTROUTING", rule([]string{"-s", cidr}, chain)},
		{"filter", "FORWARD", rule([]string{"-s", cidr}, "ACCEPT")},
		{"filter", "FORWARD", rule([]string{"-d", cidr, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"}, "ACCEPT")},
	}
	return chain, inChain, hooks
}

// ownRules returns the rules of the listing (iptables -S of one chain, as
// go-iptables' List gives it) that carry the network's comment, as rule
// arguments without "-A <chain>".
func ownRules(listing []string, name string) [][]string {
	quoted := `"` + ruleComment(name) + `"`
	var out [][]string
	for _, line := range listing {
		before, after, ok := strings.Cut(line, " --comment "+quoted)
		if !ok || (after != "" && after[0] != ' ') {
			continue
		}
		fields := strings.Fields(before)
		if len(fields) < 2 || fields[0] != "-A" {
			continue
		}
		spec := slices.Concat(fields[2:], []string{"--comment", ruleComment(name)}, strings.Fields(after))
		out = append(out, spec)
	}
	return out
}

// ensureRules makes the network's rules, or makes them again as they
// should be: rules of the network made for another subnet go, the
// masquerade chain is flushed and filled, and the hooks missing are added
// (the forward accepts first in FORWARD).
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
	for _, hc := range hookChains {
		listing, err := ipt.List(hc.table, hc.chain)
		if err != nil {
			return fmt.Errorf("%w: list %s: %w", ErrNetwork, hc.chain, err)
		}
		have := ownRules(listing, n.name)
		for _, spec := range have {
			if slices.ContainsFunc(hooks, func(r ipRule) bool { return r.chain == hc.chain && slices.Equal(r.spec, spec) }) {
				continue
			}
			if err := ipt.Delete(hc.table, hc.chain, spec...); err != nil {
				return fmt.Errorf("%w: stale rule in %s: %w", ErrNetwork, hc.chain, err)
			}
		}
		for _, r := range hooks {
			if r.chain != hc.chain || slices.ContainsFunc(have, func(s []string) bool { return slices.Equal(s, r.spec) }) {
				continue
			}
			if r.chain == "FORWARD" {
				err = ipt.Insert(r.table, r.chain, 1, r.spec...)
			} else {
				err = ipt.Append(r.table, r.chain, r.spec...)
			}
			if err != nil {
				return fmt.Errorf("%w: rule in %s: %w", ErrNetwork, r.chain, err)
			}
		}
	}
	return nil
}

// removeRules removes the network's rules, whatever subnet they were made
// for. Safe to repeat, and when they were never made.
func (n *Network) removeRules() error {
	ipt, err := iptables.NewWithProtocol(iptables.ProtocolIPv4)
	if err != nil {
		return fmt.Errorf("%w: iptables: %w", ErrNetwork, err)
	}
	chain, _, _ := networkRules(n.name, n.bridge, n.subnet)
	var errs []error
	for _, hc := range hookChains {
		listing, err := ipt.List(hc.table, hc.chain)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: list %s: %w", ErrNetwork, hc.chain, err))
			continue
		}
		for _, spec := range ownRules(listing, n.name) {
			if err := ipt.Delete(hc.table, hc.chain, spec...); err != nil {
				errs = append(errs, fmt.Errorf("%w: rule in %s: %w", ErrNetwork, hc.chain, err))
			}
		}
	}
	if err := ipt.ClearAndDeleteChain("nat", chain); err != nil {
		errs = append(errs, fmt.Errorf("%w: chain %s: %w", ErrNetwork, chain, err))
	}
	return errors.Join(errs...)
}
