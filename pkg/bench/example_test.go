package bench_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/moby/buildkit/client/llb"

	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
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
	cases := []bench.Case{{Scenario: bench.ScenarioNoChange, Scope: "hello", Images: []string{"hello"}}}

	rep, err := bench.Run(ctx, bk, []bench.Image{hello}, cases,
		bench.WithVariants(bench.VariantLLB), bench.WithRepeats(5))
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rep.Results {
		fmt.Printf("%s %s: %.2f s [%.2f-%.2f]\n", r.Name(), r.Variant, r.Median, r.Min, r.Max)
	}
}

// Read the JSON report of an earlier run (`inceptionctl bench --format
// json` or --export-json) and print some of its figures.
func ExampleReadReport() {
	rep, err := bench.ReadReport("testdata/report-before.json")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for _, r := range rep.Results {
		if r.Scenario == bench.ScenarioPackage {
			fmt.Printf("%s %s: median %.2f s, %d of %d vertices ran\n", r.Name(), r.Variant, r.Median, r.Vertices-r.Cached, r.Vertices)
		}
	}
	for _, r := range rep.Runtime.Results {
		if r.Scenario == bench.RuntimeUp {
			fmt.Printf("%s: median %.1f %s\n", r.Name(), r.Median, r.Unit)
		}
	}
	// Output:
	// package-change/nginx llb: median 1.64 s, 3 of 4 vertices ran
	// package-change/nginx linear: median 5.51 s, 3 of 3 vertices ran
	// package-change/nginx dockerfile: median 5.63 s, 3 of 3 vertices ran
	// up/first-boot: median 8.8 s
	// up/second-boot: median 3.7 s
}
