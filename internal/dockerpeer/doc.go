// Package dockerpeer runs the real peer the project measures itself
// against: Debian's docker.io (dockerd and the docker CLI, 20.10) with the
// docker compose v2 plugin that `make docker-peer` builds, on a private
// dockerd that never meets the host's own daemons.
//
// Start runs dockerd with its socket, data root, exec root, pid file and
// log in one directory, on a bridge and an address pool of its own (never
// docker0, never the project's 10.89.0.0/16 networks); Stop stops it and
// removes the bridge. A dockerd a crashed run left behind in the same
// directory is stopped first (its pid file names it).
//
// The docker CLI, with the compose plugin, is what users run and what a
// bench measures: Docker runs it against the private daemon. The few calls
// made for bookkeeping (the build cache's records, pruning them, loading
// an image, inspecting one) go to dockerd's HTTP API on its socket.
//
// Usage:
//
//	tools, err := dockerpeer.Find(configDir) // ErrMissing: run make docker-peer
//	if err != nil {
//		return err
//	}
//	d, err := dockerpeer.Start(ctx, tools, dir, dockerpeer.WithBridge("incbdk0", "10.215.0.1/24", "base=10.216.0.0/16,size=24"))
//	if err != nil {
//		return err
//	}
//	defer d.Stop()
//	out, _, err := d.Docker(ctx, nil, "compose", "-f", file, "build")
package dockerpeer
