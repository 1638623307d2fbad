// Package engine runs the embedded default engine of inception: a private
// containerd and a buildkitd whose containerd worker shares one namespace with
// the runtime, so images that BuildKit exports are the images containers run.
//
// State lives under DefaultRoot, sockets and pid files under DefaultRunDir,
// daemon logs under <root>/logs, the generated config files under
// <root>/engine. Both daemons are started detached (own session) so they
// outlive inceptionctl. An address given with WithContainerdAddress or
// WithBuildkitAddress replaces the embedded daemon, which is then only
// checked, never started or stopped: that is how builds move to a remote
// buildkitd.
//
// A daemon is identified by its command line, which carries its config path
// under the engine root, not by its pid file alone: a pid file can outlive
// its process and the pid be reused. Ensure removes what a dead daemon left
// (pid file, socket with no listener) and starts it again; a daemon that runs
// is left alone. Ensure and Stop hold a lock in the run dir, so concurrent
// inceptionctl processes never start a daemon twice.
//
//	e, err := engine.New(engine.WithRoot("/var/lib/inception"))
//	if err != nil { ... }
//	if err := e.Ensure(ctx); err != nil { ... }
//	bk, err := client.New(ctx, e.BuildkitAddress())
package engine
