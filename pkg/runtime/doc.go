// Package runtime runs a stack (pkg/stack) on containerd, the way docker
// compose runs a compose file: one container per service on a private CNI
// network, with volumes, secrets, health checks, depends_on conditions,
// restart policies and logs.
//
//	rt, err := runtime.New(cd, runtime.WithRoot(e.Root()), runtime.WithRunDir(e.RunDir()),
//		runtime.WithContainerd(e.ContainerdAddress(), e.Namespace()))
//	err = rt.Up(ctx, stack.Default(), runtime.UpOptions{Wait: true})
//
// # Containers
//
// Each service gets the container <stack>-<service>, labelled with its
// stack, service and config hash (image digest, environment, mounts, ports,
// secrets' content, limits, policy, health check...). Up recreates only the
// containers whose hash changed. The spec is containerd's default plus the
// image config, then one SpecOpts per concern (container_opts.go): own pid,
// ipc, uts and mount namespaces, the service's persistent network namespace,
// generated /etc/hosts, /etc/hostname and /etc/resolv.conf, tmpfs on /run and
// /tmp (the service's own, noexec say, when it names one there), volumes and
// secrets, cgroup limits, a reduced capability set (smaller still with
// cap_drop), no-new-privileges, containerd's default seccomp profile, and a
// read-only root filesystem when the service asks.
//
// # Network
//
// One bridge per stack through libcni (network.go). Every service has a
// network namespace of its own that outlives its tasks: made once,
// bind-mounted under <run dir>/netns, attached once with a fixed address
// (.10 + the service's position in the stack) and its published ports. A
// restarted task joins the same namespace, so its address and port mappings
// never change: nginx, which resolves its upstreams once, keeps working.
// Down detaches everything, removes the namespaces and the bridge.
//
// # Supervision
//
// Restart policies and health checks are the job of one small supervisor
// process per stack, `inceptionctl supervise --stack NAME`, that up starts
// detached (own session, log under <root>/logs) and down stops. It follows
// containerd's task events (and looks at every container every two seconds,
// for the events lost while containerd restarts), restarts exited tasks by
// their policy with exponential back-off (100 ms doubling to 1 min, reset
// after 10 s of running), runs the health checks in the containers, and
// records everything in <root>/runtime/<stack>/state.json, which ps and
// up --wait read. Task starts and stops by the commands and by the
// supervisor are serialised by that file's lock; a service the user stopped
// carries a flag there and is never restarted.
//
// Why not containerd's restart monitor, as nerdctl compose does: it is a
// plugin that polls every 10 s (its default interval) and starts a stopped
// container again on the next round, every time: a restart comes up to 10 s
// late and a crash loop is restarted every 10 s without back-off. It knows
// the policy labels but nothing of health checks, and nothing of the
// dependency order. A process of our own reacts to the exit event within
// milliseconds, applies compose's policies with back-off, runs the health
// checks, and survives inceptionctl exiting as containerd's shims do. It
// keeps no state of its own: it can be killed and started again at any
// time, and picks up from containerd and the state file.
//
// # Logs
//
// containerd's shim hands a task's stdout and stderr to a logging binary,
// `inceptionctl logger PATH` (cio.BinaryIO), which writes JSON lines to
// <root>/runtime/<stack>/<service>/container.log, rotated at 10 MiB with 3
// files kept. Logs reads and follows them.
//
// # Persistence
//
// Nothing in memory matters: containers and their labels live in containerd,
// volumes under the data dir, the state file under the engine root. After a
// reboot (or an engine restart that lost the tasks), up adopts the existing
// containers whose hash matches, makes their namespaces again with the same
// addresses and starts new tasks; leftovers of a crash (a task created and
// never started, a stale snapshot, a CNI attachment of a namespace that is
// gone) are cleaned on the way.
package runtime
