package integration

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestRuntimeMeasure measures, five times each, the time from up to all
// healthy for a stack of three already-built small images, and the time
// for a service killed with SIGKILL to answer on its published port again.
// It logs medians and asserts nothing about time, only that every up gets
// the stack healthy and every kill is followed by the service answering
// again (it takes a minute: kills are 11 s apart so each restart starts
// from the first back-off step):
//
//	INCEPTION_INTEGRATION=1 go test -count=1 -v -run TestRuntimeMeasure ./test/integration/
func TestRuntimeMeasure(t *testing.T) {
	ctx, e := setup(t)
	port := freePort(t)
	health := func() *stack.HealthCheck {
		return &stack.HealthCheck{Test: []string{"CMD", "test", "-f", "/tmp/ready"}, Interval: 5 * time.Second,
			StartPeriod: 30 * time.Second, StartInterval: 100 * time.Millisecond}
	}
	st := stack.Stack{Name: "rt-measure", Services: []stack.Service{
		{Name: "ms-db", Image: rtRef, Build: rtBuild, Health: health(), Restart: stack.RestartPolicy{Mode: stack.RestartAlways}},
		{Name: "ms-app", Image: rtRef, Build: rtBuild, Health: health(), Restart: stack.RestartPolicy{Mode: stack.RestartAlways},
			DependsOn: map[string]stack.Condition{"ms-db": stack.ConditionHealthy}},
		{Name: "ms-web", Image: rtRef, Build: rtBuild, Health: health(), Restart: stack.RestartPolicy{Mode: stack.RestartAlways},
			Env: map[string]string{"PORTS": "8080"}, Ports: []stack.Port{{HostPort: port, ContainerPort: 8080}},
			DependsOn: map[string]stack.Condition{"ms-app": stack.ConditionHealthy}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.107.0/24")

	var ups []time.Duration
	for range 5 {
		require.NoError(t, r.rt.Down(ctx, st, runtime.DownOptions{}))
		start := time.Now()
		require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
		ups = append(ups, time.Since(start))
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var kills []time.Duration
	for i := range 5 {
		time.Sleep(11 * time.Second) // past the 10 s that reset the back-off
		c, err := e.cd.LoadContainer(ctx, "rt-measure-ms-web")
		require.NoError(t, err)
		task, err := c.Task(ctx, nil)
		require.NoError(t, err)
		pid := task.Pid()
		killed := time.Now()
		require.NoError(t, task.Kill(ctx, syscall.SIGKILL))
		waitFor(t, "ms-web to answer again", 30*time.Second, func() bool {
			if r.service(t, "ms-web").Restarts < i+1 || r.service(t, "ms-web").PID == pid {
				return false
			}
			name, err := dial(addr)
			return err == nil && name == "ms-web"
		})
		kills = append(kills, time.Since(killed))
	}
	t.Logf("up to all healthy (3 services, healthy chain), 5 runs: %v, median %v", round(ups), median(ups))
	t.Logf("kill -9 to answering again, 5 runs: %v, median %v", round(kills), median(kills))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

func round(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
