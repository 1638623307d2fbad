package bench

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
	// it only when asked (WithVariants, WithCompose).
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
	// the packages apt downloaded go too, unless WithColdKeepingPackages.
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
	Scope    string   `json:"scope"`             // an image name, or "stack"
	Images   []string `json:"images"`            // what each measured build builds
	Changed  string   `json:"changed,omitempty"` // the image the change is made in
}

// Name is "scenario/scope", e.g. "config-change/nginx".
func (c Case) Name() string { return string(c.Scenario) + "/" + c.Scope }

// The images the stack-wide changes and the single-image scenarios use.
const (
	// packageImage is the image a package is added to.
	packageImage = "nginx"
	// siteImage is the image with site content.
	siteImage = "static"
	// coldImage is the image the cold scenario builds by default: one
	// image, because a cold stack on 2 cores takes minutes per build.
	coldImage = "nginx"
	// stackConfigImage is the image whose config changes in the stack case.
	stackConfigImage = "nginx"
)

// addedPackage is the package the package scenario adds: small, in
// Debian and Alpine, no service, no dependency that the images lack.
const addedPackage = "less"

// Plan lists the cases for the images of a stack (all of them when images
// is nil), one scope per image and one for the whole stack.
//
//   - no-change and config-change: every image, and the stack;
//   - package-change: packageImage;
//   - site-change: siteImage, and the stack with it changed;
//   - cold: coldImage only, unless coldStack.
//
// Scenarios are kept in the order of Scenarios, cases of one scenario in
// the order of images, the stack last. Changes a scope cannot have (config
// for an image without a config file, site for an image without a site)
// are left out; so is a stack case when images has one image.
func Plan(stackImages, images []string, scenarios []Scenario, coldStack bool) ([]Case, error) {
	if len(images) == 0 {
		images = stackImages
	}
	for _, img := range images {
		if !slices.Contains(stackImages, img) {
			return nil, fmt.Errorf("%w %q: the stack has %s", ErrUnknownImage, img, strings.Join(stackImages, ", "))
		}
	}
	if len(scenarios) == 0 {
		scenarios = Scenarios()
	}
	stack := len(images) > 1
	has := func(img string) bool { return slices.Contains(images, img) }
	var cases []Case
	for _, sc := range Scenarios() {
		if !slices.Contains(scenarios, sc) {
			continue
		}
		one := func(img string) {
			c := Case{Scenario: sc, Scope: img, Images: []string{img}}
			if sc != ScenarioNoChange && sc != ScenarioCold {
				c.Changed = img
			}
			cases = append(cases, c)
		}
		whole := func(changed string) {
			if stack {
				cases = append(cases, Case{Scenario: sc, Scope: Stack, Images: slices.Clone(images), Changed: changed})
			}
		}
		switch sc {
		case ScenarioNoChange:
			for _, img := range images {
				one(img)
			}
			whole("")
		case ScenarioConfig:
			for _, img := range images {
				if _, ok := configChange(img); ok {
					one(img)
				}
			}
			if changed := stackConfigImage; has(changed) {
				whole(changed)
			} else if _, ok := configChange(images[0]); ok {
				whole(images[0])
			}
		case ScenarioPackage:
			// One image: the stack around it adds nothing but time.
			if has(packageImage) {
				one(packageImage)
			} else if !stack {
				one(images[0])
			}
		case ScenarioSite:
			if has(siteImage) {
				one(siteImage)
				whole(siteImage)
			}
		case ScenarioCold:
			switch {
			case coldStack:
				if stack {
					whole("")
				} else {
					one(images[0])
				}
			case has(coldImage):
				one(coldImage)
			default:
				one(images[0])
			}
		}
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%w: no case for images %s and scenarios %v", ErrEmptyPlan, strings.Join(images, ", "), scenarios)
	}
	return cases, nil
}

// fileChange is one line appended to one of an image's files.
type fileChange struct {
	file string // path in the image's file set (llbdefs.Files)
	line string
}

// numbered is the line with n in it, before a closing comment marker:
// a change made n-th is new to the build cache.
func (ch fileChange) numbered(n int) string {
	if l, ok := strings.CutSuffix(ch.line, " -->"); ok {
		return fmt.Sprintf("%s %d -->", l, n)
	}
	return fmt.Sprintf("%s %d", ch.line, n)
}

// configChange is the config file each image's config-change scenario
// changes: a comment, in the file's own syntax, that changes no behaviour.
func configChange(image string) (fileChange, bool) {
	switch image {
	case "nginx":
		return fileChange{"inception.conf", "# inceptionctl bench: config change"}, true
	case "wordpress":
		return fileChange{"wordpress/wordpress-entrypoint", "# inceptionctl bench: config change"}, true
	case "adminer":
		return fileChange{"php/php-fpm.conf", "; inceptionctl bench: config change"}, true
	case "mariadb":
		return fileChange{"inception.cnf", "# inceptionctl bench: config change"}, true
	case "redis":
		return fileChange{"redis.conf", "# inceptionctl bench: config change"}, true
	case "vsftpd":
		return fileChange{"vsftpd.conf", "# inceptionctl bench: config change"}, true
	}
	return fileChange{}, false
}

// siteChange is the static image's site-change scenario.
func siteChange(image string) (fileChange, bool) {
	if image != siteImage {
		return fileChange{}, false
	}
	return fileChange{"site/index.html", "<!-- inceptionctl bench: site change -->"}, true
}
