package bench_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
)

// Measure how long an image of your own takes to rebuild unchanged, as the
// project's graphs build it: one warm-up, then five timed builds. It needs
// a running engine (`inceptionctl engine start`), so it has no output to
// check.
func ExampleRun() {
	ctx := context.Background()
	eng, err := engine.New(engine.WithRoot("/var/lib/inception-bench"), engine.WithRunDir("/run/inception-bench"))
	if err != nil {
		log.Fatal(err)
	}
	bk, err := eng.BuildkitClient(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer bk.Close()

	hello := bench.Image{Name: "hello", Build: func(...llbdefs.Option) (llbdefs.Image, error) {
		st := llb.Image("docker.io/library/debian:bookworm").
			Run(llb.Shlex("sh -c 'echo hello > /hello'"), llb.WithCustomName("hello: write /hello")).Root()
		return llbdefs.Image{Name: "hello", State: st}, nil
	}}
	cases := []report.Case{{Scenario: report.ScenarioNoChange, Scope: "hello", Images: []string{"hello"}}}

	rep, err := bench.Run(ctx, bk, []bench.Image{hello}, cases,
		bench.WithVariants(report.VariantLLB), bench.WithRepeats(5))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rep.Results {
		fmt.Printf("%s %s: %.2f s [%.2f-%.2f]\n", r.Name(), r.Variant, r.Median, r.Min, r.Max)
	}
}

// Time the stack at run time: boots, a service's start, HTTPS requests per
// second with and without the caches. The bench runs a stack of its own
// (NewRuntimeStack: its own name, data in a scratch directory, ports on
// 127.0.0.1), from the images `inceptionctl build` stored on the engine.
// It needs a running engine and the stack's images, so it has no output
// to check.
func ExampleRunRuntime() {
	ctx := context.Background()
	eng, err := engine.New(engine.WithRoot("/var/lib/inception-bench"), engine.WithRunDir("/run/inception-bench"))
	if err != nil {
		log.Fatal(err)
	}
	cd, err := containerd.New(eng.ContainerdAddress(), containerd.WithDefaultNamespace(eng.Namespace()))
	if err != nil {
		log.Fatal(err)
	}
	defer cd.Close()

	dir, err := os.MkdirTemp("/var/lib/inception-bench", "rt-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	rs, err := bench.NewRuntimeStack("benchrt", dir)
	if err != nil {
		log.Fatal(err)
	}
	rt, err := runtime.New(cd, append([]runtime.Option{
		runtime.WithRoot(eng.Root()),
		runtime.WithRunDir(eng.RunDir()),
		runtime.WithContainerd(eng.ContainerdAddress(), eng.Namespace()),
		runtime.WithHelper("/usr/local/bin/inceptionctl"),
	}, rs.RuntimeOptions("10.89.130.0/24")...)...)
	if err != nil {
		log.Fatal(err)
	}

	rr, err := bench.RunRuntime(ctx, rt, rs, []report.RuntimeScenario{report.RuntimeUp, report.RuntimeHTTPS},
		bench.WithRepeats(3), bench.WithLoad(5*time.Second, 8))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rr.Results {
		fmt.Printf("%s: %.1f %s [%.1f-%.1f]\n", r.Name(), r.Median, r.Unit, r.Min, r.Max)
	}
}
