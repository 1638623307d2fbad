package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestRuntimeSafeRecreate: a changed configuration recreates the service
// under its own container id; a change whose new container cannot start (a
// program that does not exist, a user the image does not have) fails up,
// naming the service and the reason, and leaves the old container running
// and answering, with no trial container left behind.
func TestRuntimeSafeRecreate(t *testing.T) {
	ctx, e := setup(t)
	port := freePort(t)
	web := stack.Service{Name: "sr-web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": "8080", "V": "1"},
		Ports: []stack.Port{{HostPort: port, ContainerPort: 8080}}}
	st := stack.Stack{Name: "rt-recreate", Services: []stack.Service{web}}
	r := newRuntime(ctx, t, e, st, "10.89.108.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	serving := func() bool {
		name, err := dial(addr)
		return err == nil && name == "sr-web"
	}
	waitFor(t, "the service on its published port", 20*time.Second, serving)
	trials := func() int {
		cs, err := r.cd.Containers(ctx, `labels."io.inception.check-of"==`+st.Name)
		require.NoError(t, err)
		return len(cs)
	}

	// A change that runs: recreated, same container id, new configuration.
	first := r.service(t, "sr-web")
	st.Services[0].Env = map[string]string{"PORTS": "8080", "V": "2"}
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	second := r.service(t, "sr-web")
	assert.True(t, second.StartedAt.After(first.StartedAt), "recreated")
	assert.NotEqual(t, first.PID, second.PID)
	assert.Equal(t, runtime.ContainerID(st.Name, "sr-web"), second.Container)
	code, out := r.exec(ctx, t, "sr-web", "printenv", "V")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "2\n", out)
	assert.Equal(t, 1, r.containerCount(ctx, t), "recreated, not duplicated")
	assert.Zero(t, trials(), "the trial container is removed")
	waitFor(t, "the recreated service on its published port", 20*time.Second, serving)

	for _, tc := range []struct {
		name   string
		change func(*stack.Service)
		reason string
	}{
		{"program missing", func(s *stack.Service) { s.Entrypoint = []string{"/app/no-such-program"} }, "/app/no-such-program"},
		{"unknown user", func(s *stack.Service) { s.User = "no-such-user" }, `user "no-such-user": no users found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := st
			bad.Services = []stack.Service{st.Services[0]}
			bad.Services[0].Env = map[string]string{"PORTS": "8080", "V": "3"}
			tc.change(&bad.Services[0])
			err := r.rt.Up(ctx, bad, runtime.UpOptions{Wait: true, Timeout: time.Minute})
			require.ErrorIs(t, err, runtime.ErrServiceFailed)
			t.Logf("up: %v", err)
			assert.Contains(t, err.Error(), `service "sr-web"`)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), "the current one was left as it is")

			now := r.service(t, "sr-web")
			assert.Equal(t, second.PID, now.PID, "the old task runs on")
			assert.Equal(t, second.StartedAt, now.StartedAt)
			assert.Equal(t, runtime.StatusRunning, r.ps(ctx, t, "sr-web").State)
			assert.True(t, serving(), "the old container still answers")
			code, out := r.exec(ctx, t, "sr-web", "printenv", "V")
			require.Equal(t, 0, code, out)
			assert.Equal(t, "2\n", out, "the old configuration")
			assert.Equal(t, 1, r.containerCount(ctx, t))
			assert.Zero(t, trials(), "the trial container is removed")
		})
	}

}
