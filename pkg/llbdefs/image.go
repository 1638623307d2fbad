package llbdefs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/util/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SourceURL is the project's source repository, recorded in every image's
// org.opencontainers.image.source label.
const SourceURL = "https://github.com/inceptionctl/inception"

// platform is the one platform images are marshalled for: llb.LinuxAmd64 in
// the graph, the same two strings in the config.
var platform = ocispec.Platform{OS: "linux", Architecture: "amd64"}

// Image is one service image: its filesystem graph and its OCI image config.
type Image struct {
	Name   string                    // service name == image name, e.g. "nginx"
	State  llb.State                 // the root filesystem
	Config dockerspec.DockerOCIImage // OS, Architecture, Config (Entrypoint, Cmd, Env, ...)
}

// Marshal serialises the image's graph for linux/amd64, ready for a solve.
func (i Image) Marshal(ctx context.Context) (*llb.Definition, error) {
	def, err := i.State.Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", i.Name, err)
	}
	return def, nil
}

// ConfigJSON returns the image config as a BuildKit gateway client attaches
// it to a result under the "containerimage.config" metadata key. Like the
// Dockerfile frontend's, it carries an empty rootfs of type "layers": the
// exporter fills in the layers' diff IDs and the history.
func (i Image) ConfigJSON() ([]byte, error) {
	dt, err := json.Marshal(i.Config)
	if err != nil {
		return nil, fmt.Errorf("encode %s image config: %w", i.Name, err)
	}
	return dt, nil
}

// baseConfig is the config every image starts from: what BuildKit's
// Dockerfile frontend gives an image built FROM scratch, plus the labels
// that say where it comes from. LLB carries no image config, so nothing is
// inherited from the base image: each image states its whole config.
func baseConfig(name, base string) dockerspec.DockerOCIImage {
	var img dockerspec.DockerOCIImage
	img.Platform = platform
	// An empty list rather than null: the exporter replaces it, and a
	// reader of the config alone still sees a valid rootfs.
	img.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}
	img.Config.WorkingDir = "/"
	img.Config.Env = []string{"PATH=" + system.DefaultPathEnvUnix}
	img.Config.Labels = map[string]string{
		ocispec.AnnotationTitle:         name,
		ocispec.AnnotationSource:        SourceURL,
		ocispec.AnnotationBaseImageName: base,
	}
	return img
}
