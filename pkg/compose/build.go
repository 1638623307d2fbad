package compose

import (
	"fmt"
	"path/filepath"

	"github.com/tonistiigi/fsutil"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/stack"
)

// BuildKit's Dockerfile frontend, built into buildkitd, and how it
// resolves FROM images: from the engine's image store first, so a
// Dockerfile FROM debian:bookworm uses the engine's base image.
const (
	dockerfileFrontend = "dockerfile.v0"
	frontendResolve    = "image-resolve-mode"
)

// Targets returns the build targets of the services that have a Dockerfile
// build (compose's build: section), built through BuildKit's Dockerfile
// frontend on the engine and stored under the service's image reference.
// Services without one are left out.
//
//	targets, err := compose.Targets(app.Stack.Services)
func Targets(svcs []stack.Service) ([]build.Target, error) {
	var out []build.Target
	for _, s := range svcs {
		b := s.Build
		if b == nil || b.Context == "" {
			continue
		}
		t, err := dockerfileTarget(s.Name, s.Image, *b)
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func dockerfileTarget(name, ref string, b stack.Build) (build.Target, error) {
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(b.Context, df)
	}
	ctxFS, err := fsutil.NewFS(b.Context)
	if err != nil {
		return build.Target{}, fmt.Errorf("%w: build context %s: %w", ErrInvalid, b.Context, err)
	}
	dfFS, err := fsutil.NewFS(filepath.Dir(df))
	if err != nil {
		return build.Target{}, fmt.Errorf("%w: dockerfile %s: %w", ErrInvalid, df, err)
	}
	attrs := map[string]string{frontendResolve: "local", "filename": filepath.Base(df)}
	if b.Target != "" {
		attrs["target"] = b.Target
	}
	for k, v := range b.Args {
		attrs["build-arg:"+k] = v
	}
	return build.Target{
		Service:       name,
		Ref:           ref,
		Frontend:      dockerfileFrontend,
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": dfFS},
	}, nil
}
