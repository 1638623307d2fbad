package llbdefs

import (
	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Base returns d's base image as the first state of an image called image,
// resolved locally first (the project's own base is in the engine's store,
// there is no registry). It is the building block every service image
// starts from; a custom image composes it with Distro.Install and its own
// layers:
//
//	st := llbdefs.Base(llbdefs.Debian(), "hello").With(llbdefs.Debian().Install("hello", "cowsay"))
func Base(d Distro, image string) llb.State {
	return base(image, config{distro: d, base: d.Ref()})
}

// NewConfig returns the image config every service image starts from:
// linux/amd64, PATH, working dir /, and labels naming the image and its
// base. Set Entrypoint, Cmd, Env, ports and the health check on it.
func NewConfig(name string, d Distro) dockerspec.DockerOCIImage {
	return baseConfig(name, d.Ref())
}
