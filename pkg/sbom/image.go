package sbom

import (
	"context"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
	"github.com/spdx/tools-golang/spdx"
)

// ForImage scans the stored image img and returns its inventory and SPDX
// document. The document's creation time is the image's, so the same
// image always gives the same document.
func ForImage(ctx context.Context, cs content.Provider, img images.Image) (*Inventory, *spdx.Document, error) {
	inv, err := ScanImage(ctx, cs, img.Target)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", img.Name, err)
	}
	created, err := imageCreated(ctx, cs, img)
	if err != nil {
		return nil, nil, fmt.Errorf("image %s: %w", img.Name, err)
	}
	return inv, inv.SPDX(Subject{Name: img.Name, Digest: img.Target.Digest.String(), Created: created}), nil
}

func imageCreated(ctx context.Context, cs content.Provider, img images.Image) (time.Time, error) {
	cfgDesc, err := images.Config(ctx, cs, img.Target, platforms.Default())
	if err != nil {
		return time.Time{}, fmt.Errorf("image config: %w", err)
	}
	b, err := content.ReadBlob(ctx, cs, cfgDesc)
	if err != nil {
		return time.Time{}, fmt.Errorf("image config: %w", err)
	}
	return configCreated(b)
}
