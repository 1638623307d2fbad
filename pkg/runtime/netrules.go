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

// equal says whether two rules are the same rule.
func (r ipRule) equal(o ipRule) bool {
	return r.table == o.table && r.chain == o.chain && slices.Equal(r.spec, o.spec)
}

func ipv4Tables() (*iptables.IPTables, error) {
	ipt, err := iptables.NewWithProtocol(iptables.ProtocolIPv4)
	if err != nil {
		return nil, fmt.Errorf("%w: iptables: %w", ErrNetwork, err)
	}
	return ipt, nil
}

// pruneHooks deletes the network's rules in the built-in chains that are
// not in keep (all of them for none), and returns those of keep it found.
func (n *Network) pruneHooks(ipt *iptables.IPTables, keep []ipRule) ([]ipRule, error) {
	var found []ipRule
	var errs []error
	for _, hc := range hookChains {
		listing, err := ipt.List(hc.table, hc.chain)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: list %s: %w", ErrNetwork, hc.chain, err))
			continue
		}
		for _, spec := range ownRules(listing, n.name) {
			r := ipRule{hc.table, hc.chain, spec}
			if slices.ContainsFunc(keep, r.equal) {
				found = append(found, r)
				continue
			}
			if err := ipt.Delete(r.table, r.chain, r.spec...); err != nil {
				errs = append(errs, fmt.Errorf("%w: rule in %s: %w", ErrNetwork, r.chain, err))
			}
		}
	}
	return found, errors.Join(errs...)
}

// ensureRules makes the network's rules, or makes them again as they
// should be: rules of the network made for another subnet go, the
// masquerade chain is flushed and filled, and the hooks missing are added
// (the forward accepts first in FORWARD).
func (n *Network) ensureRules() error {
	ipt, err := ipv4Tables()
	if err != nil {
		return err
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
	found, err := n.pruneHooks(ipt, hooks)
	if err != nil {
		return err
	}
	for _, r := range hooks {
		if slices.ContainsFunc(found, r.equal) {
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
	return nil
}

// removeRules removes the network's rules, whatever subnet they were made
// for. Safe to repeat, and when they were never made.
func (n *Network) removeRules() error {
	ipt, err := ipv4Tables()
	if err != nil {
		return err
	}
	chain, _, _ := networkRules(n.name, n.bridge, n.subnet)
	_, err = n.pruneHooks(ipt, nil)
	if cerr := ipt.ClearAndDeleteChain("nat", chain); cerr != nil {
		err = errors.Join(err, fmt.Errorf("%w: chain %s: %w", ErrNetwork, chain, cerr))
	}
	return err
}
