// Package stack is the model of a stack: a project name and its services,
// each naming the image reference it runs (any image: "redis:7", or one of
// the project's own, built from a recipe its Build names), with its
// environment, secrets, mounts, ports, dependencies, health check and
// restart policy; and the Inception stack with its .env configuration.
// It imports no BuildKit and no containerd: the runtime (pkg/runtime) runs a
// stack, the builder (pkg/build) makes the images that have a recipe.
// Commands resolve service names here, so an unknown name fails before any
// daemon is asked anything.
//
//	st := stack.Default()
//	svcs, err := st.Select([]string{"nginx"})
package stack
