// Package proc reads, starts and stops processes the way the engine does
// with its daemons: command lines and states from /proc, detached starts in
// a session of their own, SIGTERM then SIGKILL. It imports nothing of
// BuildKit or containerd, so the runtime uses it without the engine.
//
//	pid, err := proc.SpawnDetached([]string{exe, "supervise", "--stack", "inception"}, logPath)
package proc
