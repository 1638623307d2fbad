package dockerpeer

import (
	"context"
	"errors"
	"fmt"
	"io"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/platforms"
)

// LoadFromContainerd copies the image ref (linux/amd64) from containerd's
// image store into dockerd's, under the same name, so that FROM ref
// resolves there with no registry. ctx carries containerd's namespace.
//
//	err := d.LoadFromContainerd(ctx, cd, "docker.io/library/debian:bookworm")
func (d *Daemon) LoadFromContainerd(ctx context.Context, cd *containerd.Client, ref string) error {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(cd.Export(ctx, pw,
			archive.WithImage(cd.ImageService(), ref),
			archive.WithPlatform(platforms.Only(platforms.MustParse("linux/amd64")))))
	}()
	err := d.Load(ctx, pr)
	// A failed export ends the load with its error; a failed load leaves
	// the export to be unblocked.
	pr.CloseWithError(errors.New("load ended"))
	if err != nil {
		return fmt.Errorf("copy %s from the engine into the private dockerd: %w", ref, err)
	}
	if _, err := d.ImageID(ctx, ref); err != nil {
		return fmt.Errorf("copy %s from the engine into the private dockerd: loaded, but %w", ref, err)
	}
	return nil
}
