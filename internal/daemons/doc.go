// Package daemons starts the side daemons that `inceptionctl bench` and
// the integration tests run next to the engine: Debian's docker-registry
// (distribution 2.8) and a second buildkitd with the OCI worker, each in a
// directory of its own, on 127.0.0.1 or a unix socket. Nothing here is
// supervised: the caller stops what it started, and a daemon dies with the
// process that started it.
//
//	reg, err := daemons.StartRegistry(ctx, daemons.RegistryConfig{Dir: dir})
//	if err != nil {
//		return err
//	}
//	defer reg.Stop()
//	ref := reg.Host + "/inception/nginx:bookworm"
package daemons
