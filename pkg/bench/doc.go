// Package bench measures rebuild times of the stack's images on a BuildKit
// engine, side by side in three variants of the same images: the project's
// LLB graphs (config layers joined with Merge), the same graphs as a
// linear chain (what a Dockerfile does), and the images converted to
// Dockerfiles (pkg/dockerfile) built by BuildKit's Dockerfile frontend.
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
// Every run keeps what pkg/build's Report says of each image: how many
// vertices could be cached, which ran and for how long. The Report is a
// table, JSON or an SVG chart.
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
