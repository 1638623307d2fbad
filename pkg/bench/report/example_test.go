package report_test

import (
	"fmt"
	"os"

	"github.com/inceptionctl/inception/pkg/bench/report"
)

// Read the JSON report of an earlier run (`inceptionctl bench --format
// json` or --export-json) and print some of its figures.
func ExampleRead() {
	rep, err := report.Read("../testdata/report-before.json")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	for _, r := range rep.Results {
		if r.Scenario == report.ScenarioPackage {
			fmt.Printf("%s %s: median %.2f s, %d of %d vertices ran\n", r.Name(), r.Variant, r.Median, r.Vertices-r.Cached, r.Vertices)
		}
	}
	for _, r := range rep.Runtime.Results {
		if r.Scenario == report.RuntimeUp {
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
