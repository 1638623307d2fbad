package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/sbom"
)

// attestOptions are the build flags for what an image carries about itself.
type attestOptions struct {
	sbom       bool
	provenance string
	epoch      int64
}

func addAttestFlags(f *pflag.FlagSet, o *attestOptions) {
	f.BoolVar(&o.sbom, "sbom", false, "attach an SPDX SBOM attestation to every image (always on with --output, which also writes it next to each tarball; type=docker tarballs carry none)")
	f.StringVar(&o.provenance, "provenance", "max", "SLSA provenance attestation on images that leave the machine (--output, except type=docker tarballs): max, min or none")
	f.Int64Var(&o.epoch, "source-date-epoch", base.DefaultSourceDateEpoch, "SOURCE_DATE_EPOCH of every image: timestamps in the image and its config (default: the base image's creation time)")
}

func (o *attestOptions) check(outputs []build.Output) error {
	for _, out := range outputs {
		if out.Type == client.ExporterDocker && o.sbom {
			return fmt.Errorf("--sbom with -o type=docker: a docker tarball holds one image manifest and no attestation; use -o type=oci, or leave --sbom out")
		}
	}
	switch o.provenance {
	case "max", "min", "none":
	default:
		return fmt.Errorf("--provenance %q: use max, min or none", o.provenance)
	}
	if o.epoch < 0 {
		return fmt.Errorf("--source-date-epoch %d: give seconds since 1970, 0 or more", o.epoch)
	}
	return nil
}

// sbomFiles keeps the SBOM documents attached during a build, by service.
type sbomFiles struct {
	mu   sync.Mutex
	docs map[string][]byte
}

// buildOptions returns the build options of o; outputs are the tarball
// outputs of the build.
//
// A docker tarball (type=docker) holds one image manifest, the one docker
// load reads: attestations would turn it into an index docker cannot load,
// so a build with such an output carries none, as buildx's docker exporter.
func (o *attestOptions) buildOptions(outputs []build.Output) ([]build.Option, *sbomFiles) {
	opts := []build.Option{build.WithSourceDateEpoch(time.Unix(o.epoch, 0))}
	for _, out := range outputs {
		if out.Type == client.ExporterDocker {
			return opts, nil
		}
	}
	if len(outputs) > 0 && o.provenance != "none" {
		opts = append(opts, build.WithProvenance(o.provenance))
	}
	if !o.sbom && len(outputs) == 0 {
		return opts, nil
	}
	files := &sbomFiles{docs: map[string][]byte{}}
	opts = append(opts, build.WithResultHook(func(ctx context.Context, c gateway.Client, t build.Target, res *gateway.Result) error {
		doc, err := sbom.Attach(ctx, c, res, t.Ref)
		if err != nil {
			return err
		}
		files.mu.Lock()
		files.docs[t.Service] = doc
		files.mu.Unlock()
		return nil
	}))
	return opts, files
}

// write puts each image's SBOM next to its tarballs: FILE.tar gets
// FILE.spdx.json.
func (f *sbomFiles) write(outputs []build.Output, n int) error {
	if f == nil {
		return nil
	}
	for svc, doc := range f.docs {
		for _, o := range outputs {
			p, err := o.Path(svc, n)
			if err != nil {
				return err
			}
			dst := strings.TrimSuffix(p, ".tar") + ".spdx.json"
			if err := os.WriteFile(dst, doc, 0o644); err != nil {
				return fmt.Errorf("write the SBOM of %s: %w", svc, err)
			}
		}
	}
	return nil
}
