package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// LabelBuildKey is the image-store label that records what an image was
// built from: a digest of its graph, its config and the images its graph
// starts from. Build skips the solve of a target whose key matches its
// image's label (see WithImageStore).
const LabelBuildKey = "org.inceptionctl.build-key"

// WithImageStore gives Build the image store BuildKit exports into, for two
// things: each image it builds is labelled with its build key, and a target
// whose image already carries the key it would get is not solved at all (it
// is reported up to date, every vertex of its graph cached). The key covers
// every byte of the graph (commands, inline files, names), the image config,
// the target's name and the digest each source image resolves to in store,
// so any change rebuilds. Targets built by a frontend, with local sources,
// or while tarballs or a cache are exported, are always solved.
//
// This is how `inceptionctl build` with nothing changed returns without a
// solve: a Dockerfile build has to send its context to find out.
func WithImageStore(s ImageStore) Option { return func(c *config) { c.store = s } }

// ImageStore is the part of containerd's image store Build uses with
// WithImageStore; images.Store is one.
type ImageStore interface {
	Get(ctx context.Context, name string) (images.Image, error)
	Update(ctx context.Context, img images.Image, fieldpaths ...string) (images.Image, error)
}

var _ ImageStore = images.Store(nil)

// buildKey is the key of t, or "" when t cannot be skipped (a frontend, a
// local or remote source other than an image, an image source not in store).
func (b *Builder) buildKey(ctx context.Context, t Target) (string, error) {
	if t.Definition == nil || t.Frontend != "" || len(t.LocalMounts) > 0 || len(b.cfg.cacheTo) > 0 {
		return "", nil
	}
	if !b.registryMode() && (b.cfg.store == nil || b.cfg.noStore || len(b.cfg.outputs) > 0) {
		return "", nil
	}
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s\n", len(s), s) }
	field("inceptionctl build key v1")
	field(t.Ref)
	field(string(t.Config))
	if k := b.reproKey(); k != "" {
		field(k)
	}
	for _, dt := range t.Definition.Def {
		field(string(dt))
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return "", fmt.Errorf("build %s: read graph: %w", t.Service, err)
		}
		src := op.GetSource()
		if src == nil {
			continue
		}
		name, ok := strings.CutPrefix(src.Identifier, "docker-image://")
		if !ok {
			return "", nil // local, git or http: content the graph does not hold
		}
		d, ok, err := b.sourceDigest(ctx, name)
		if err != nil {
			return "", fmt.Errorf("build %s: look up %s: %w", t.Service, name, err)
		}
		if !ok {
			return "", nil // resolved from elsewhere by BuildKit
		}
		field(d)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// upToDate reports whether t's image in store carries key.
func (b *Builder) upToDate(ctx context.Context, t Target, key string) (images.Image, bool, error) {
	if key == "" {
		return images.Image{}, false, nil
	}
	if b.registryMode() {
		return b.registryUpToDate(ctx, t, key)
	}
	img, err := b.cfg.store.Get(ctx, t.Ref)
	if errdefs.IsNotFound(err) {
		return images.Image{}, false, nil
	}
	if err != nil {
		return images.Image{}, false, fmt.Errorf("build %s: look up %s: %w", t.Service, t.Ref, err)
	}
	return img, img.Labels[LabelBuildKey] == key, nil
}

// recordKey labels t's freshly exported image with key.
func (b *Builder) recordKey(ctx context.Context, t Target, key string) error {
	if key == "" || b.registryMode() {
		return nil
	}
	img, err := b.cfg.store.Get(ctx, t.Ref)
	if err != nil {
		return fmt.Errorf("build %s: label %s: %w", t.Service, t.Ref, err)
	}
	if img.Labels == nil {
		img.Labels = map[string]string{}
	}
	img.Labels[LabelBuildKey] = key
	if _, err := b.cfg.store.Update(ctx, img, "labels."+LabelBuildKey); err != nil {
		return fmt.Errorf("build %s: label %s: %w", t.Service, t.Ref, err)
	}
	return nil
}

// countVertices is what a solve of def with nothing to do counts: its
// vertices with inputs (the ones that can be cached).
func countVertices(def [][]byte) int {
	n := 0
	for _, dt := range def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil || op.Op == nil {
			continue // the terminal op only names the result
		}
		if len(op.Inputs) > 0 {
			n++
		}
	}
	return n
}

// skipped is the report of a target found up to date, and the one vertex
// the progress display shows for it.
func skipped(t Target, img images.Image, start time.Time) (ImageReport, *client.SolveStatus) {
	n := countVertices(t.Definition.Def)
	now := time.Now()
	v := &client.Vertex{
		Digest:    digest.FromString("inceptionctl up to date " + t.Ref),
		Name:      t.Service + ": up to date (graph, config and base images unchanged): no solve",
		Started:   &start,
		Completed: &now,
		Cached:    true,
	}
	return ImageReport{
		Service: t.Service, Ref: t.Ref, Digest: img.Target.Digest.String(),
		Vertices: n, Cached: n, UpToDate: true, Duration: time.Since(start),
	}, &client.SolveStatus{Vertexes: []*client.Vertex{v}}
}
