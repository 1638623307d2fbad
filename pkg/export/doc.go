// Package export writes the project's stack in forms other tools read.
//
// Compose renders the layout the Inception subject asks for, from the same
// Go definitions the engine builds and runs:
//
//	DIR/Makefile                        make up, down, clean, fclean, re
//	DIR/secrets/                        made by the Makefile, never written here
//	DIR/srcs/.env                       the settings, no password
//	DIR/srcs/docker-compose.yml         services, secrets, volumes, network
//	DIR/srcs/requirements/<service>/    Dockerfile, conf/, tools/
//
// Each Dockerfile is the service's LLB graph converted by pkg/dockerfile in
// the Docker 20.10 dialect (Debian 12's docker.io builds it with BuildKit
// on, nothing to pull but Debian's packages); files that the graph writes
// from the build context go under conf/, executable ones under tools/.
// The compose file carries what stack.Inception sets at run time:
// environment (values from .env by interpolation), secrets as files in
// ../secrets, named volumes bound to the data directory, published ports,
// dependencies with their conditions, health checks, restart policies and
// stop grace periods, one network. Passwords never appear: the Makefile
// fills missing secret files with random values.
//
// Usage:
//
//	cfg, _ := stack.NewConfig(env)
//	tree, err := export.Compose(ctx, cfg, export.WithTag("bookworm"))
//	if err != nil {
//		return err
//	}
//	err = tree.Write(dir) // dir must be new or empty
package export
