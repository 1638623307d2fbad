package bench

import (
	"fmt"
	"math"
	"slices"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// summary is one line of a measured build for the log.
func summary(r report.Measurement) string {
	v, c := 0, 0
	for _, img := range r.Images {
		v += img.Vertices
		c += img.Cached
	}
	return fmt.Sprintf("%7.2fs  ran %d/%d", r.Seconds, v-c, v)
}

// summarise computes the statistics of the result's runs.
func summarise(res *report.Result) {
	if len(res.Runs) == 0 {
		return
	}
	secs := make([]float64, len(res.Runs))
	for i, r := range res.Runs {
		secs[i] = r.Seconds
	}
	res.Median = benchstat.Median(secs)
	res.Min, res.Max = slices.Min(secs), slices.Max(secs)
	// The run closest to the median gives the vertex counts.
	best := 0
	for i, s := range secs {
		if math.Abs(s-res.Median) < math.Abs(secs[best]-res.Median) {
			best = i
		}
	}
	res.Vertices, res.Cached = 0, 0
	for _, img := range res.Runs[best].Images {
		res.Vertices += img.Vertices
		res.Cached += img.Cached
	}
	res.Ran = map[string][]string{}
	for _, r := range res.Runs {
		for _, img := range r.Images {
			if _, ok := res.Ran[img.Image]; !ok {
				res.Ran[img.Image] = []string{}
			}
			for _, s := range img.Ran {
				if !slices.Contains(res.Ran[img.Image], s.Name) {
					res.Ran[img.Image] = append(res.Ran[img.Image], s.Name)
				}
			}
		}
	}
	for _, names := range res.Ran {
		slices.Sort(names)
	}
}
