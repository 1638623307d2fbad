package build

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// Targets marshals the images of svcs into build targets: each service's
// Build.Recipe is looked up in recipes (llbdefs.Recipes() for the
// Inception stack, or an importer's own), and the image is stored under the
// service's Image reference.
//
//	targets, err := build.Targets(ctx, st.Services, llbdefs.Recipes())
func Targets(ctx context.Context, svcs []stack.Service, recipes map[string]llbdefs.Recipe, opts ...llbdefs.Option) ([]Target, error) {
	out := make([]Target, 0, len(svcs))
	for _, svc := range svcs {
		recipe, err := RecipeOf(svc, recipes)
		if err != nil {
			return nil, err
		}
		ref, err := stack.NormalizeImage(svc.Image)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", svc.Name, err)
		}
		img, err := recipe(opts...)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", svc.Name, err)
		}
		def, err := img.Marshal(ctx)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", svc.Name, err)
		}
		cfg, err := img.ConfigJSON()
		if err != nil {
			return nil, fmt.Errorf("image config %s: %w", svc.Name, err)
		}
		out = append(out, Target{Service: svc.Name, Ref: ref, Definition: def, Config: cfg})
	}
	return out, nil
}

// RecipeOf returns the recipe svc's build names.
func RecipeOf(svc stack.Service, recipes map[string]llbdefs.Recipe) (llbdefs.Recipe, error) {
	if svc.Build == nil || svc.Build.Recipe == "" {
		if svc.Build != nil && svc.Build.Context != "" {
			return nil, fmt.Errorf("%w: service %q: a Dockerfile build is not made by a Go recipe", ErrNoRecipe, svc.Name)
		}
		return nil, fmt.Errorf("%w: service %q runs image %s and has no build recipe: put the image in the engine's store", ErrNoRecipe, svc.Name, svc.Image)
	}
	r, ok := recipes[svc.Build.Recipe]
	if !ok || r == nil {
		names := make([]string, 0, len(recipes))
		for n := range recipes {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w: service %q: recipe %q is not one of %s", ErrNoRecipe, svc.Name, svc.Build.Recipe, strings.Join(names, ", "))
	}
	return r, nil
}
