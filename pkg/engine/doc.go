// Package engine runs the embedded default engine of inception: a private
// containerd and a buildkitd whose containerd worker shares one namespace with
// the runtime, so images that BuildKit exports are the images containers run.
//
// State lives under DefaultRoot, sockets and pid files under DefaultRunDir,
// daemon logs under <root>/logs. Both daemons are started detached (own
// session) so they outlive inceptionctl. An address given with
// WithContainerdAddress or WithBuildkitAddress replaces the embedded daemon:
// that is how builds move to a remote buildkitd.
//
//	e, err := engine.New(engine.WithRoot("/var/lib/inception"))
//	if err != nil { ... }
//	if err := e.Ensure(ctx); err != nil { ... }
//	bk, err := client.New(ctx, e.BuildkitAddress())
package engine
