package runtime

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/inceptionctl/inception/pkg/stack"
)

// ImagePuller fetches an image into the engine's image store: the seam
// where pulling from a registry plugs in. Pull gets the normalised
// reference (docker.io/library/redis:7) and returns the stored image; the
// runtime unpacks it.
type ImagePuller interface {
	Pull(ctx context.Context, ref string) (containerd.Image, error)
}

// image returns the image service s runs, from the engine's image store,
// or through the puller when the store has none.
func (r *Runtime) image(ctx context.Context, s stack.Service, ref string) (containerd.Image, error) {
	img, err := r.cd.GetImage(ctx, ref)
	if err == nil {
		return img, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("service %q: image %s: %w", s.Name, ref, err)
	}
	if r.cfg.puller != nil {
		img, err := r.cfg.puller.Pull(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("%w: service %q: pull %s: %w", ErrImageMissing, s.Name, ref, err)
		}
		return img, nil
	}
	if s.Build != nil {
		return nil, fmt.Errorf("%w: service %q: %s is not in the engine's image store: build it (`inceptionctl build %s`, or up --build)", ErrImageMissing, s.Name, ref, s.Name)
	}
	return nil, fmt.Errorf("%w: service %q: %s is not in the engine's image store, and the runtime has no image puller: import the image into the engine's namespace, or give the runtime one (runtime.WithImagePuller)", ErrImageMissing, s.Name, ref)
}
