// Package bench measures rebuild times of the stack's images on a BuildKit
// engine, and run-time figures of the stack they make.
//
// Rebuild times come side by side in three variants of the same images:
// the project's LLB graphs (config layers joined with Merge), the same
// graphs as a linear chain (what a Dockerfile does), and the images
// converted to Dockerfiles (pkg/dockerfile) built by BuildKit's Dockerfile
// frontend. A fourth variant, compose, measured only when asked for
// (WithCompose), is the real peer: the stack exported by pkg/export and
// built by `docker compose build` on a private dockerd (internal/dockerpeer).
//
// A Plan lists the cases (scenario × scope: one image or the whole stack);
// Run measures each case in every variant: a warm-up (none for cold, which
// prunes before every run), then N runs with the variants' order rotated
// run by run. A change (one config line, one package, one line of the
// site) is made in a scratch copy of the image's files, never in the
// user's, and undone after each measured build: the
// cache records that build made are pruned by id and the original rebuilt
// from the cache, so every run starts from the same cache state. The cold
// scenario prunes the whole build cache first; the base image survives in
// containerd's image store, and Run checks that it does.
//
// WithPasses spreads each figure's runs over passes of the whole bench, so
// that its min-max band shows the machine's drift over minutes, not over
// the seconds its runs take in a row. BuildBench and RuntimeBench measure
// pass by pass, for a caller that interleaves them (`inceptionctl bench`
// measures the run-time figures, then the build figures, in each pass).
// WithMachineReference times a fixed piece of CPU work now and then, so
// that a report says how fast the machine itself was, and a comparison how
// far that moved between two runs.
//
// Every run keeps what pkg/build's Report says of each image: how many
// vertices could be cached, which ran and for how long. The Report is a
// table, JSON or an SVG chart.
//
// RunRuntime measures run-time figures the same way (a warm-up, N runs,
// passes, median/min/max) on a stack of the bench's own (NewRuntimeStack: the
// Inception stack under another name, its data and secrets in a scratch
// directory, HTTPS on a free port of 127.0.0.1), through pkg/runtime: Up
// --wait to the home page answering 200 on first and second boot, the
// start latency of one small service, and HTTPS requests per second on the
// WordPress home page through nginx (RunLoad, a Go load generator on the
// loopback interface) with the Redis object cache and without it. The
// stack is always taken down at the end, volumes included. The run-time
// figures go in the same Report (Report.Runtime).
//
// SecondRunnerBench measures what a registry gives a second machine
// (the opt-in SecondRunner scenario): in every round a registry of its own
// (internal/daemons starts Debian's docker-registry), the engine's builder
// pushing the images with their cache, then fresh OCI-worker builders
// (a new empty state each) building them with that cache and without,
// their ratio against SecondRunnerRatio; with the whole stack, the pull of
// the images into the engine and up to the home page. Its figures go in
// Report.SecondRunner.
//
// Usage:
//
//	cases, err := bench.Plan(stack.Default().Names(), nil, nil, false)
//	if err != nil {
//		return err
//	}
//	rep, err := bench.Run(ctx, bk, images, cases, bench.WithImageStore(cd.ImageService()))
//	if err != nil {
//		return err
//	}
//	err = rep.WriteTable(os.Stdout)
package bench
