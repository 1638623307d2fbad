package runtime

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/inceptionctl/inception/pkg/stack"
)

// graph is the depends_on graph of a stack.
type graph struct {
	names []string                              // stack order
	deps  map[string]map[string]stack.Condition // service -> dependency -> condition
	order []string                              // dependencies before dependents; stack order breaks ties
}

// newGraph checks depends_on (unknown services, bad conditions, cycles) and
// orders the services. Every problem is reported, not only the first.
func newGraph(svcs []stack.Service) (*graph, error) {
	g := &graph{deps: map[string]map[string]stack.Condition{}}
	known := map[string]bool{}
	for _, s := range svcs {
		g.names = append(g.names, s.Name)
		known[s.Name] = true
	}
	var errs []error
	for _, s := range svcs {
		g.deps[s.Name] = map[string]stack.Condition{}
		for _, dep := range sortedKeys(s.DependsOn) {
			cond := s.DependsOn[dep]
			switch {
			case dep == s.Name:
				errs = append(errs, fmt.Errorf("%w: service %q depends on itself", stack.ErrInvalid, s.Name))
				continue
			case !known[dep]:
				errs = append(errs, fmt.Errorf("%w: service %q depends on %q, which the stack does not have", stack.ErrInvalid, s.Name, dep))
				continue
			}
			switch cond {
			case "":
				cond = stack.ConditionStarted
			case stack.ConditionStarted, stack.ConditionHealthy, stack.ConditionCompletedSuccessfully:
			default:
				errs = append(errs, fmt.Errorf("%w: service %q: dependency %q: condition %q: use started, healthy or completed_successfully",
					stack.ErrInvalid, s.Name, dep, cond))
				continue
			}
			g.deps[s.Name][dep] = cond
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cycle := g.findCycle(); cycle != nil {
		return nil, fmt.Errorf("%w: %w: %s", stack.ErrInvalid, ErrDependencyCycle, strings.Join(cycle, " -> "))
	}
	g.order = g.sort()
	return g, nil
}

// findCycle returns the path of a cycle (first service repeated at the end),
// or nil. Depth-first, in stack order, so the same stack reports the same
// cycle every time.
func (g *graph) findCycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stackPath []string
	var visit func(n string) []string
	visit = func(n string) []string {
		color[n] = grey
		stackPath = append(stackPath, n)
		for _, d := range g.sortedDeps(n) {
			switch color[d] {
			case grey:
				i := slices.Index(stackPath, d)
				return append(slices.Clone(stackPath[i:]), d)
			case white:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stackPath = stackPath[:len(stackPath)-1]
		color[n] = black
		return nil
	}
	for _, n := range g.names {
		if color[n] == white {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// sort returns a topological order of an acyclic graph: a service comes
// after all its dependencies, and otherwise keeps its place in the stack.
func (g *graph) sort() []string {
	done := map[string]bool{}
	var out []string
	var visit func(n string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, d := range g.sortedDepsByStack(n) {
			visit(d)
		}
		out = append(out, n)
	}
	for _, n := range g.names {
		visit(n)
	}
	return out
}

// closure returns names and everything they depend on, transitively, in
// start order. Empty names means every service.
func (g *graph) closure(names []string) []string {
	if len(names) == 0 {
		return slices.Clone(g.order)
	}
	want := map[string]bool{}
	var add func(n string)
	add = func(n string) {
		if want[n] {
			return
		}
		want[n] = true
		for d := range g.deps[n] {
			add(d)
		}
	}
	for _, n := range names {
		add(n)
	}
	var out []string
	for _, n := range g.order {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// startOrder returns names (no closure) in start order.
func (g *graph) startOrder(names []string) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []string
	for _, n := range g.order {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// stopOrder returns names in stop order: dependents before their
// dependencies.
func (g *graph) stopOrder(names []string) []string {
	out := g.startOrder(names)
	slices.Reverse(out)
	return out
}

// dependencies returns the conditions service n waits for, by dependency.
func (g *graph) dependencies(n string) map[string]stack.Condition { return g.deps[n] }

// oneShots are the services of names that another of names depends on with
// the condition service_completed_successfully: jobs that run to their end.
func (g *graph) oneShots(names []string) map[string]bool {
	one := map[string]bool{}
	for _, n := range names {
		for dep, cond := range g.deps[n] {
			if cond == stack.ConditionCompletedSuccessfully && slices.Contains(names, dep) {
				one[dep] = true
			}
		}
	}
	return one
}

func (g *graph) sortedDeps(n string) []string { return sortedKeys(g.deps[n]) }

// sortedDepsByStack lists n's dependencies in stack order.
func (g *graph) sortedDepsByStack(n string) []string {
	var out []string
	for _, m := range g.names {
		if _, ok := g.deps[n][m]; ok {
			out = append(out, m)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// criticalOrder returns names (a start order) with the services that the
// longest chains of dependents wait on first: a service comes before every
// service that depends on it, and among the rest, the longer the chain
// that waits on it, the earlier. Up attaches networks in this order, so the
// head of the critical path (the database, say) starts first.
func (g *graph) criticalOrder(names []string) []string {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	// chain[n]: the length of the longest chain of services in names that
	// depends on n, n's dependents before n in reverse start order.
	chain := map[string]int{}
	for i := len(names) - 1; i >= 0; i-- {
		n := names[i]
		for d := range g.deps[n] {
			if in[d] {
				chain[d] = max(chain[d], chain[n]+1)
			}
		}
	}
	out := slices.Clone(names)
	// Stable: equal chains keep their start order. A dependency's chain is
	// longer than any of its dependents', so the order stays a start order.
	slices.SortStableFunc(out, func(a, b string) int { return chain[b] - chain[a] })
	return out
}
