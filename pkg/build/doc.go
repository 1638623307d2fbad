// Package build solves image graphs on BuildKit: several images in parallel,
// one progress display, exports into the engine's containerd image store
// and optionally to OCI or Docker tarballs, with local cache import/export
// for CI. It knows LLB and BuildKit only; which images exist is pkg/stack's
// business and how they are made is pkg/llbdefs'.
//
//	bk, _ := client.New(ctx, e.BuildkitAddress())
//	b, _ := build.New(bk, build.WithProgress(os.Stderr, "auto"))
//	report, err := b.Build(ctx, targets)
//
// Every solve's status stream is tapped, so a Report says per image how many
// graph vertices ran and how many came from the cache: the figure benchmarks
// and the "nothing changed, nothing ran" tests read.
package build
