package main

import (
	"testing"

	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/stack"
	"github.com/stretchr/testify/assert"
)

// TestBenchPlanSecondRunner: the second-runner scenario is measured only
// when asked for, on every image or on those --images names, apart from
// the build and run-time scenarios.
func TestBenchPlanSecondRunner(t *testing.T) {
	plan := planOf
	tests := []struct {
		name    string
		args    []string
		images  []string
		cases   bool
		runtime []report.RuntimeScenario
	}{
		{"not by default", nil, nil, true, report.RuntimeScenarios()},
		{"not in build", []string{"--scenarios", "build"}, nil, true, nil},
		{"not in runtime", []string{"--scenarios", "runtime"}, nil, false, report.RuntimeScenarios()},
		{"alone: every image, nothing else", []string{"--scenarios", "second-runner", "--repeats", "3", "--passes", "1"}, stack.Default().Names(), false, nil},
		{"one image", []string{"--scenarios", "second-runner", "--images", "nginx", "--repeats", "1", "--passes", "1"}, []string{"nginx"}, false, nil},
		{"with a build scenario, same images", []string{"--scenarios", "second-runner,no-change", "--images", "redis"}, []string{"redis"}, true, nil},
		{"with a run-time scenario", []string{"--scenarios", "up,second-runner"}, stack.Default().Names(), false, []report.RuntimeScenario{report.RuntimeUp}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(t, tc.args...)
			assert.Equal(t, tc.images, p.srImages)
			assert.Equal(t, tc.cases, len(p.cases) > 0, "build cases")
			assert.Equal(t, tc.runtime, p.runtime)
			if tc.images != nil {
				assert.NotEmpty(t, p.srOpts)
			}
		})
	}
}

// TestBenchSecondRunnerUsageErrors: flags the second-runner scenario
// cannot take are usage errors (exit 2), before any daemon.
func TestBenchSecondRunnerUsageErrors(t *testing.T) {
	tests := []usageCase{
		{"unknown image", []string{"bench", "--scenarios", "second-runner", "--images", "apache"}, `unknown image "apache": the stack has `},
		{"variants", []string{"bench", "--scenarios", "second-runner", "--variants", "llb"}, "--variants applies to the build scenarios"},
		{"cold stack", []string{"bench", "--scenarios", "second-runner", "--cold-stack"}, "--cold-stack applies to the build scenarios"},
		{"more passes than repeats", []string{"bench", "--scenarios", "second-runner", "--repeats", "1"}, "--passes 2 is more than --repeats 1"},
		{"typo", []string{"bench", "--scenarios", "second-runners"}, "page-cache, second-runner, build or runtime"},
	}
	checkUsageErrors(t, t.TempDir(), tests)
}

func TestCutSecondRunner(t *testing.T) {
	in := []string{"up", "second-runner", "cold"}
	out, ok := cutSecondRunner(in)
	assert.True(t, ok)
	assert.Equal(t, []string{"up", "cold"}, out)
	assert.Equal(t, []string{"up", "second-runner", "cold"}, in, "the flag's value is left alone")
	out, ok = cutSecondRunner([]string{"up"})
	assert.False(t, ok)
	assert.Equal(t, []string{"up"}, out)
}
