package integration

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchreport"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// The run-time bench's stack in this test: a name and subnet of its own,
// apart from inceptionctl bench's (benchrt, 10.89.130.0/24) and the
// acceptance stack's, so they can run side by side on one host.
const (
	benchRTStack  = "benchrtit"
	benchRTSubnet = "10.89.131.0/24"
)

// TestBenchRuntime runs every run-time figure of `inceptionctl bench` once
// (no warm-up boot, 2 s HTTPS runs) on the real engine with the stack's
// images, and checks the report: every figure measured, none failed, sane
// values; and that the bench's stack is gone afterwards, volumes included.
// No timing is asserted:
//
//	INCEPTION_INTEGRATION=1 go test -count=1 -v -run TestBenchRuntime ./test/integration/
func TestBenchRuntime(t *testing.T) {
	ctx, e := setup(t)
	buildServices(ctx, t, e, stack.Default().Names()...)
	dir := t.TempDir()
	rs, err := bench.NewRuntimeStack(benchRTStack, dir)
	require.NoError(t, err)
	rt := engineRuntime(t, e, rs.RuntimeOptions(benchRTSubnet)...)

	start := time.Now()
	rep, err := bench.RunRuntime(ctx, rt, rs, nil, bench.WithRepeats(1), bench.WithoutUpWarmup(),
		bench.WithLoad(2*time.Second, 4), bench.WithLog(testLog{t}))
	t.Logf("run-time figures measured in %v", time.Since(start).Round(time.Second))
	require.NoError(t, err)

	var table bytes.Buffer
	require.NoError(t, benchreport.WriteTable(&table, &report.Report{Runtime: rep}))
	t.Logf("report:\n%s", table.String())
	var js bytes.Buffer
	require.NoError(t, (&report.Report{Runtime: rep}).WriteJSON(&js))
	var back report.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.NotNil(t, back.Runtime)

	var names []string
	for _, r := range back.Runtime.Results {
		names = append(names, r.Name())
		require.Len(t, r.Runs, 1, r.Name())
		assert.Empty(t, r.Failed, r.Name())
		assert.Positive(t, r.Median, r.Name())
		switch r.Scenario {
		case report.RuntimeUp:
			assert.Positive(t, r.UpSeconds, r.Name())
			assert.LessOrEqual(t, r.UpSeconds, r.Median, "%s: the home page is asked after Up returns", r.Name())
			assert.Less(t, r.Median, 600.0, "%s: seconds, not nanoseconds", r.Name())
		case report.RuntimeStart:
			assert.Less(t, r.Median, 60.0, "%s: seconds, not nanoseconds", r.Name())
		case report.RuntimeHTTPS, report.RuntimePageCache:
			assert.Equal(t, "req/s", r.Unit)
			run := r.Runs[0].Load
			require.NotNil(t, run, r.Name())
			assert.Positive(t, run.Requests, r.Name())
			assert.LessOrEqual(t, run.Errors*100, run.Requests+run.Errors, "%s: at most 1%% errors", r.Name())
			assert.Equal(t, 4, run.Concurrency)
			assert.Positive(t, run.P50ms, r.Name())
			assert.LessOrEqual(t, run.P50ms, run.P99ms, r.Name())
			assert.GreaterOrEqual(t, run.Seconds, 2.0, "%s: the run lasts its duration", r.Name())
		}
	}
	assert.Equal(t, []string{"up/first-boot", "up/second-boot", "start/running", "start/healthy", "https/redis-cache", "https/no-cache",
		"page-cache/anonymous", "page-cache/logged-in", "page-cache/miss",
		"page-cache/anonymous-off", "page-cache/logged-in-off", "page-cache/miss-off"}, names)
	h := back.Runtime.Results[3].Median
	assert.LessOrEqual(t, back.Runtime.Results[2].Median, h, "the task runs before its health check passes")

	// Nothing of the bench's stack is left: containers, network, state,
	// volumes.
	ps, err := rt.PS(ctx, benchRTStack)
	require.NoError(t, err)
	assert.Empty(t, ps, "no container of the stack")
	cs, err := e.cd.Containers(ctx)
	require.NoError(t, err)
	for _, c := range cs {
		assert.False(t, strings.HasPrefix(c.ID(), benchRTStack+"-"), "container %s is left", c.ID())
	}
	_, err = net.InterfaceByName(runtime.BridgeName(benchRTStack))
	assert.Error(t, err, "the stack's bridge is gone")
	_, err = os.Stat(filepath.Join(e.engine.Root(), "runtime", benchRTStack))
	assert.True(t, os.IsNotExist(err), "the stack's state is gone: %v", err)
	vols, err := os.ReadDir(rs.Config.DataDir)
	if err == nil {
		assert.Empty(t, vols, "the volumes are gone")
	} else {
		assert.True(t, os.IsNotExist(err), err)
	}
	_, err = os.Stat(filepath.Join(e.engine.RunDir(), "netns", benchRTStack))
	assert.True(t, os.IsNotExist(err), "the stack's network namespaces are gone: %v", err)
}
