// Package compose loads compose files with compose-spec/compose-go and
// turns them into the stack model that pkg/runtime runs.
//
// Loading follows docker compose: several files merged in order,
// COMPOSE_FILE when no file is named, interpolation from the environment
// and the project directory's .env file, and the project name from -p,
// COMPOSE_PROJECT_NAME, the files' name: key or the project directory, in
// that order.
//
// Only a subset of the compose specification maps onto the runtime. A key
// outside it is an error that names the service and the key (see
// ErrUnsupported): a file is never run with part of it dropped.
//
//	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
//	app, err := compose.Convert(p)
package compose
