package registry

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Pull fetches ref with r, unpacks it for the engine's snapshotter and, when
// as is not empty, names the image as too (replacing what had that name):
// the runtime then runs what the registry holds. Each blob fetched is a
// line on progress.
func Pull(ctx context.Context, c *containerd.Client, r remotes.Resolver, ref, as string, progress io.Writer) (images.Image, error) {
	var mu sync.Mutex
	h := images.HandlerFunc(func(_ context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(progress, "pull %s: %s %s %s\n", ref, kind(desc.MediaType), shortDigest(desc.Digest.String()), humanSize(desc.Size))
		return nil, nil
	})
	img, err := c.Pull(ctx, ref, containerd.WithResolver(r), containerd.WithPullUnpack, containerd.WithImageHandler(h))
	if err != nil {
		host, _, _ := strings.Cut(ref, "/")
		return images.Image{}, fmt.Errorf("pull %s: the registry at %s answered: %w", ref, host, err)
	}
	rec := img.Metadata()
	if as == "" || as == ref {
		return rec, nil
	}
	named := images.Image{Name: as, Target: rec.Target, Labels: map[string]string{"org.inceptionctl.pulled-from": ref}}
	is := c.ImageService()
	if _, err := is.Create(ctx, named); errdefs.IsAlreadyExists(err) {
		// The whole record is replaced: a build key label of a local build
		// must not vouch for the registry's image.
		if _, err := is.Update(ctx, named); err != nil {
			return images.Image{}, fmt.Errorf("name %s as %s: %w", ref, as, err)
		}
	} else if err != nil {
		return images.Image{}, fmt.Errorf("name %s as %s: %w", ref, as, err)
	}
	return named, nil
}

func kind(mt string) string {
	switch {
	case strings.Contains(mt, "manifest"):
		return "manifest"
	case strings.Contains(mt, "index"):
		return "index"
	case strings.Contains(mt, "config"):
		return "config"
	default:
		return "layer"
	}
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
