package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/inceptionctl/inception/pkg/bench/report"
)

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
// Scenarios are kept in the order of report.Scenarios, cases of one
// scenario in the order of images, the stack last. Changes a scope cannot have (config
// for an image without a config file, site for an image without a site)
// are left out; so is a stack case when images has one image.
func Plan(stackImages, images []string, scenarios []report.Scenario, coldStack bool) ([]report.Case, error) {
	if len(images) == 0 {
		images = stackImages
	}
	for _, img := range images {
		if !slices.Contains(stackImages, img) {
			return nil, fmt.Errorf("%w %q: the stack has %s", ErrUnknownImage, img, strings.Join(stackImages, ", "))
		}
	}
	if len(scenarios) == 0 {
		scenarios = report.Scenarios()
	}
	stack := len(images) > 1
	has := func(img string) bool { return slices.Contains(images, img) }
	var cases []report.Case
	for _, sc := range report.Scenarios() {
		if !slices.Contains(scenarios, sc) {
			continue
		}
		one := func(img string) {
			c := report.Case{Scenario: sc, Scope: img, Images: []string{img}}
			if sc != report.ScenarioNoChange && sc != report.ScenarioCold {
				c.Changed = img
			}
			cases = append(cases, c)
		}
		whole := func(changed string) {
			if stack {
				cases = append(cases, report.Case{Scenario: sc, Scope: report.ScopeStack, Images: slices.Clone(images), Changed: changed})
			}
		}
		switch sc {
		case report.ScenarioNoChange:
			for _, img := range images {
				one(img)
			}
			whole("")
		case report.ScenarioConfig:
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
		case report.ScenarioPackage:
			// One image: the stack around it adds nothing but time.
			if has(packageImage) {
				one(packageImage)
			} else if !stack {
				one(images[0])
			}
		case report.ScenarioSite:
			if has(siteImage) {
				one(siteImage)
				whole(siteImage)
			}
		case report.ScenarioCold:
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
		return fileChange{"mariadb/inception.cnf", "# inceptionctl bench: config change"}, true
	case "redis":
		return fileChange{"redis/redis.conf", "# inceptionctl bench: config change"}, true
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
