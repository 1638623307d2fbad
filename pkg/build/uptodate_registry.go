package build

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// WithRegistryCheck gives Build a resolver for the registry the images are
// pushed to, for builders that do not share the engine's image store
// (WithoutStore): the build key then travels in the pushed image's config
// (label org.inceptionctl.build-key), and a target whose pushed images
// already carry the key it would get is not solved. Source images are
// resolved in their registries for the key.
func WithRegistryCheck(r remotes.Resolver) Option { return func(c *config) { c.resolver = r } }

// registryMode reports whether up-to-date checks ask the registry: no
// store, a resolver, and every extra output a push.
func (b *Builder) registryMode() bool {
	if b.cfg.resolver == nil || !b.cfg.noStore || len(b.cfg.outputs) == 0 {
		return false
	}
	for _, o := range b.cfg.outputs {
		if !o.Push() {
			return false
		}
	}
	return true
}

// sourceDigest is the digest the image name resolves to, where the up-to-
// date check looks: the image store, or the registry in registry mode.
func (b *Builder) sourceDigest(ctx context.Context, name string) (string, bool, error) {
	if b.registryMode() {
		_, desc, err := b.cfg.resolver.Resolve(ctx, name)
		if errdefs.IsNotFound(err) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: %w", name, err)
		}
		return desc.Digest.String(), true, nil
	}
	img, err := b.cfg.store.Get(ctx, name)
	if errdefs.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return img.Target.Digest.String(), true, nil
}

// registryUpToDate reports whether every reference t is pushed as exists
// with key in its image config's labels; the image returned carries the
// manifest's descriptor.
func (b *Builder) registryUpToDate(ctx context.Context, t Target, key string) (images.Image, bool, error) {
	var img images.Image
	for _, o := range b.cfg.outputs {
		for _, ref := range strings.Split(o.names(t.Service), ",") {
			ref = strings.TrimSpace(ref)
			name, desc, err := b.cfg.resolver.Resolve(ctx, ref)
			if errdefs.IsNotFound(err) {
				return images.Image{}, false, nil
			}
			if err != nil {
				return images.Image{}, false, fmt.Errorf("build %s: ask the registry for %s: %w", t.Service, ref, err)
			}
			labels, err := b.configLabels(ctx, name, desc)
			if err != nil {
				return images.Image{}, false, fmt.Errorf("build %s: read %s: %w", t.Service, ref, err)
			}
			if labels[LabelBuildKey] != key {
				return images.Image{}, false, nil
			}
			img = images.Image{Name: ref, Target: desc}
		}
	}
	return img, img.Name != "", nil
}

// configLabels fetches the manifest desc of name and its config's labels;
// an index has none (it is not what Build pushes).
func (b *Builder) configLabels(ctx context.Context, name string, desc ocispec.Descriptor) (map[string]string, error) {
	f, err := b.cfg.resolver.Fetcher(ctx, name)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := fetchJSON(ctx, f, desc, &m); err != nil {
		return nil, err
	}
	if m.Config.Digest == "" {
		return nil, nil
	}
	var cfg ocispec.Image
	if err := fetchJSON(ctx, f, m.Config, &cfg); err != nil {
		return nil, err
	}
	return cfg.Config.Labels, nil
}

func fetchJSON(ctx context.Context, f remotes.Fetcher, desc ocispec.Descriptor, v any) error {
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	dt, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil {
		return err
	}
	return json.Unmarshal(dt, v)
}

// withKeyLabel returns the image config cfg with the build key among its
// labels, or cfg as it is when there is no key or no config.
func withKeyLabel(cfg []byte, key string) ([]byte, error) {
	if key == "" || cfg == nil {
		return cfg, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(cfg, &doc); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	c, _ := doc["config"].(map[string]any)
	if c == nil {
		c = map[string]any{}
		doc["config"] = c
	}
	labels, _ := c["Labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		c["Labels"] = labels
	}
	labels[LabelBuildKey] = key
	return json.Marshal(doc)
}
