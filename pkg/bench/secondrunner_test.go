package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// noSolver is a BuildKit client that is never called.
type noSolver struct{}

func (noSolver) Build(context.Context, client.SolveOpt, string, gateway.BuildFunc, chan *client.SolveStatus) (*client.SolveResponse, error) {
	panic("no build expected")
}

func srResult(figure string, secs ...float64) report.SecondRunnerResult {
	r := report.SecondRunnerResult{Figure: figure}
	for _, s := range secs {
		r.Runs = append(r.Runs, report.Measurement{Seconds: s, Images: []report.ImageRun{{Image: "nginx", Vertices: 10, Cached: int(10 - s/10)}}})
	}
	summariseSecondRunner(&r)
	return r
}

// The statistics, and the vertex counts of the run closest to the median.
func TestSecondRunnerSummarise(t *testing.T) {
	r := srResult(report.FigureWithCache, 30, 10, 20)
	assert.Equal(t, 20.0, r.Median)
	assert.Equal(t, 10.0, r.Min)
	assert.Equal(t, 30.0, r.Max)
	assert.Equal(t, 10, r.Vertices)
	assert.Equal(t, 8, r.Cached, "the 20 s run's")
}

func secondRunnerReport(pullUp bool) *report.SecondRunnerReport {
	sr := &report.SecondRunnerReport{Images: []string{"nginx", "redis"}, Repeats: 3, PullAndUp: pullUp, Stack: "benchpull",
		Registry: "a registry", Builder: "a builder", Output: "pushed",
		Results: []report.SecondRunnerResult{srResult(report.FigurePush, 40), srResult(report.FigureWithCache, 20, 22, 21), srResult(report.FigureWithoutCache, 100, 90, 95)}}
	if pullUp {
		sr.Results = append(sr.Results, report.SecondRunnerResult{Figure: report.FigurePull, Runs: []report.Measurement{{Seconds: 12}}, Median: 12, Min: 12, Max: 12})
	}
	sr.Target = benchstat.TargetCheck{Name: "second-runner with-cache/without-cache", Ratio: 21.0 / 95, Limit: 0.25, Pass: true}
	return sr
}

// The JSON report carries the figures and the target, and reads back.
func TestSecondRunnerJSON(t *testing.T) {
	rep := report.New()
	rep.SecondRunner = secondRunnerReport(true)
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &raw))
	require.Contains(t, raw, "second_runner")
	var got report.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &got))
	require.NotNil(t, got.SecondRunner)
	assert.Len(t, got.SecondRunner.Results, 4)
	assert.True(t, got.SecondRunner.Target.Pass)
	assert.InDelta(t, 21.0/95, got.SecondRunner.Target.Ratio, 1e-9)
	assert.Equal(t, report.FigureWithCache, got.SecondRunner.Results[1].Figure)
	assert.Equal(t, 21.0, got.SecondRunner.Results[1].Median)
}

// NewSecondRunnerBench refuses what it cannot run with an error that says
// what to give, before it starts anything.
func TestNewSecondRunnerBenchErrors(t *testing.T) {
	ok := func() SecondRunnerSetup {
		return SecondRunnerSetup{Engine: noSolver{}, Containerd: &containerd.Client{}, Images: []Image{{Name: "nginx"}},
			BuildkitdBinary: "/bin/true", RegistryBinary: "/bin/true", Dir: t.TempDir()}
	}
	tests := []struct {
		name  string
		setup func(*SecondRunnerSetup)
		opts  []BuildOption
		want  string
	}{
		{"no engine", func(s *SecondRunnerSetup) { s.Engine = nil }, nil, "no BuildKit client"},
		{"no containerd", func(s *SecondRunnerSetup) { s.Containerd = nil }, nil, "no containerd client"},
		{"no image", func(s *SecondRunnerSetup) { s.Images = nil }, nil, "nothing to measure: no image"},
		{"no buildkitd", func(s *SecondRunnerSetup) { s.BuildkitdBinary = "" }, nil, "buildkitd: run `make deps`"},
		{"relative directory", func(s *SecondRunnerSetup) { s.Dir = "scratch" }, nil, "give an absolute path"},
		{"more passes than repeats", nil, []BuildOption{WithRepeats(1), WithPasses(2)}, "2 passes for 1 repeats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			if tc.setup != nil {
				tc.setup(&s)
			}
			_, err := NewSecondRunnerBench(context.Background(), s, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	b, err := NewSecondRunnerBench(context.Background(), ok(), WithRepeats(3))
	require.NoError(t, err)
	assert.False(t, b.pullUp, "no runtime, no pull-and-up")
	rep, err := b.Close(context.Background())
	require.NoError(t, err)
	assert.Empty(t, rep.Results)
	assert.Equal(t, benchstat.TargetCheck{}, rep.Target, "the bench checks no target: its caller does")
}

// Pull-and-up needs every service of the stack.
func TestSecondRunnerPullUpNeedsTheStack(t *testing.T) {
	rs, err := NewRuntimeStack("benchpull", t.TempDir())
	require.NoError(t, err)
	all := rs.Stack.Names()
	assert.Empty(t, stackMissing(rs.Stack, all))
	assert.Equal(t, all[1:], stackMissing(rs.Stack, all[:1]))
}
