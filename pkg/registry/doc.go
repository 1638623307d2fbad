// Package registry talks to image registries for inceptionctl itself (the
// base push, the pull before `up`), the way BuildKit does for builds:
// credentials from the docker config file (DOCKER_CONFIG, else
// ~/.docker/config.json) and CA certificates from the engine's certs.d
// directory in Docker's layout (certs.d/HOST[:PORT]/ca.crt). Registries on
// localhost and 127.0.0.1 are tried over HTTPS, then plain HTTP, as
// containerd does.
//
//	r, err := registry.NewResolver(registry.WithCertsDir(e.CertsDir()))
//	err = cd.Push(ctx, ref, img.Target, containerd.WithResolver(r))
package registry
