package report

import (
	"fmt"
	"slices"
	"strings"
)

// Variant is one way of building the same images.
type Variant string

// The variants a case is measured with.
const (
	// VariantLLB is the project's graphs as llbdefs writes them: config
	// layers joined with Merge, an added package in a step of its own.
	VariantLLB Variant = "llb"
	// VariantLinear is the same graphs with every Merge replaced by a
	// copy on top of the package chain, and an added package put into the
	// image's package list: what a Dockerfile does, still in LLB.
	VariantLinear Variant = "linear"
	// VariantDockerfile is the linear images converted to Dockerfiles
	// (pkg/dockerfile) and built by BuildKit's Dockerfile frontend on the
	// same engine.
	VariantDockerfile Variant = "dockerfile"
	// VariantCompose is the real peer: the stack exported by pkg/export
	// (Dockerfiles in the Docker 20.10 dialect) and built by `docker
	// compose build` on a private dockerd (Debian's docker.io with docker
	// compose v2, `make docker-peer`). Not in Variants: a bench measures
	// it only when asked (bench.WithVariants, bench.WithCompose).
	VariantCompose Variant = "compose"
)

// Variants lists every variant, in the order tables show them.
func Variants() []Variant { return []Variant{VariantLLB, VariantLinear, VariantDockerfile} }

// ParseVariant parses a variant name: one of Variants, or compose.
func ParseVariant(s string) (Variant, error) {
	v := Variant(s)
	if !slices.Contains(Variants(), v) && v != VariantCompose {
		return "", fmt.Errorf("%w %q: use llb, linear, dockerfile or compose", ErrUnknownVariant, s)
	}
	return v, nil
}

// Scenario is what changes before a measured build.
type Scenario string

// The scenarios.
const (
	// ScenarioNoChange rebuilds with nothing changed.
	ScenarioNoChange Scenario = "no-change"
	// ScenarioConfig appends one line to one embedded config file.
	ScenarioConfig Scenario = "config-change"
	// ScenarioPackage adds one package to one image.
	ScenarioPackage Scenario = "package-change"
	// ScenarioSite appends one line to the static site's index.html.
	ScenarioSite Scenario = "site-change"
	// ScenarioCold builds with the build cache pruned: everything but the
	// base image, which lives in the image store. The cache mounts with
	// the packages apt downloaded go too, unless bench.WithColdKeepingPackages.
	ScenarioCold Scenario = "cold"
)

// Scenarios lists every scenario in the order they run: cold last,
// since it empties the cache the others start from.
func Scenarios() []Scenario {
	return []Scenario{ScenarioNoChange, ScenarioConfig, ScenarioPackage, ScenarioSite, ScenarioCold}
}

// ParseScenario parses a scenario name.
func ParseScenario(s string) (Scenario, error) {
	sc := Scenario(s)
	if !slices.Contains(Scenarios(), sc) {
		names := make([]string, 0, len(Scenarios()))
		for _, x := range Scenarios() {
			names = append(names, string(x))
		}
		return "", fmt.Errorf("%w %q: use %s", ErrUnknownScenario, s, strings.Join(names, ", "))
	}
	return sc, nil
}

// Case is one scenario on one scope: one image, or the whole stack.
type Case struct {
	Scenario Scenario `json:"scenario"`
	Scope    string   `json:"scope"`             // an image name, or ScopeStack
	Images   []string `json:"images"`            // what each measured build builds
	Changed  string   `json:"changed,omitempty"` // the image the change is made in
}

// Name is "scenario/scope", e.g. "config-change/nginx".
func (c Case) Name() string { return string(c.Scenario) + "/" + c.Scope }

// RuntimeScenario is one group of run-time figures, measured on a stack of
// the bench's own (bench.RuntimeStack) with images already built.
type RuntimeScenario string

// The run-time scenarios, in the order they run.
const (
	// RuntimeUp is Up --wait to the home page answering 200 over HTTPS:
	// first boot (empty volumes: MariaDB initialises, WordPress installs
	// itself) and second boot (Down keeping the volumes, then Up).
	RuntimeUp RuntimeScenario = "up"
	// RuntimeStart is one small service (RuntimeReport.StartService)
	// stopped, then started: until Start returns (its task runs) and
	// until its health check passes.
	RuntimeStart RuntimeScenario = "start"
	// RuntimeHTTPS is requests per second on the WordPress home page
	// through nginx, with the Redis object cache and without it.
	RuntimeHTTPS RuntimeScenario = "https"
	// RuntimePageCache is requests per second through nginx with its page
	// cache on and off (NGINX_PAGE_CACHE): the anonymous home page (a hit
	// when on), the home page of a logged-in user (never cached), and pages
	// no one asked for before (each a miss).
	RuntimePageCache RuntimeScenario = "page-cache"
)

// RuntimeScenarios lists every run-time scenario in the order they run.
func RuntimeScenarios() []RuntimeScenario {
	return []RuntimeScenario{RuntimeUp, RuntimeStart, RuntimeHTTPS, RuntimePageCache}
}

// ParseRuntimeScenario parses a run-time scenario name.
func ParseRuntimeScenario(s string) (RuntimeScenario, error) {
	sc := RuntimeScenario(s)
	if !slices.Contains(RuntimeScenarios(), sc) {
		return "", fmt.Errorf("%w %q: use up, start, https or page-cache", ErrUnknownScenario, s)
	}
	return sc, nil
}
