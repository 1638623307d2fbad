package integration

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// dial reads the one line a test service answers on addr.
func dial(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

// TestRuntimeHealthDependency: b waits for a's health check (the image's
// own, a's service sets none) before it starts; up --wait returns once both
// are healthy; every service name resolves to its fixed address.
func TestRuntimeHealthDependency(t *testing.T) {
	ctx, e := setup(t)
	quick := &stack.HealthCheck{Test: []string{"CMD", "test", "-f", "/tmp/ready"}, Interval: time.Second, StartPeriod: 20 * time.Second, StartInterval: 100 * time.Millisecond}
	st := stack.Stack{Name: "rt-health", Services: []stack.Service{
		{Name: "hc-a", Image: rtHealthRef, Build: rtHealthBuild, Env: map[string]string{"READY_AFTER": "1.5"}},
		{Name: "hc-b", Image: rtRef, Build: rtBuild, Health: quick, DependsOn: map[string]stack.Condition{"hc-a": stack.ConditionHealthy}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.101.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))

	a, b := r.service(t, "hc-a"), r.service(t, "hc-b")
	assert.Equal(t, runtime.HealthHealthy, a.Health)
	assert.Equal(t, runtime.HealthHealthy, b.Health, "up --wait returned before b was healthy")
	// a cannot be healthy before /tmp/ready exists, 1.5 s after it starts.
	assert.GreaterOrEqual(t, b.StartedAt.Sub(a.StartedAt), 1500*time.Millisecond, "b started before a was healthy")
	assert.False(t, a.HealthAt.IsZero())

	code, out := r.exec(ctx, t, "hc-b", "cat", "/etc/hosts", "/etc/hostname")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "10.89.101.10\thc-a")
	assert.Contains(t, out, "10.89.101.11\thc-b")
	assert.Contains(t, out, "\nhc-b\n", "hostname file")
	assert.Equal(t, runtime.HealthHealthy, r.ps(ctx, t, "hc-a").Health)

	// Idempotent: a second up changes nothing and restarts nothing.
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{}))
	assert.Equal(t, a.StartedAt, r.service(t, "hc-a").StartedAt, "an unchanged running service is left alone")
	assert.Equal(t, 2, r.containerCount(ctx, t))

	// A changed service is recreated, the other one left running.
	st.Services[1].Env = map[string]string{"CHANGED": "1"}
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	assert.Equal(t, a.StartedAt, r.service(t, "hc-a").StartedAt)
	assert.True(t, r.service(t, "hc-b").StartedAt.After(b.StartedAt), "b was recreated")
	code, out = r.exec(ctx, t, "hc-b", "printenv", "CHANGED")
	assert.Equal(t, 0, code)
	assert.Equal(t, "1\n", out)
	assert.Equal(t, 2, r.containerCount(ctx, t), "recreated, not duplicated")
}

// TestRuntimeRestartAndBackoff: a kill -9 of a main process is restarted at
// once, on the same address and ports; a crash loop backs off by doubling;
// on-failure:N gives up after N restarts.
func TestRuntimeRestartAndBackoff(t *testing.T) {
	ctx, e := setup(t)
	port := freePort(t)
	st := stack.Stack{Name: "rt-restart", Services: []stack.Service{
		{Name: "rs-web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": "8080"},
			Ports:   []stack.Port{{HostPort: port, ContainerPort: 8080}},
			Restart: stack.RestartPolicy{Mode: stack.RestartAlways}},
		{Name: "rs-loop", Image: rtRef, Build: rtBuild, Env: map[string]string{"MODE": "crash"},
			Restart: stack.RestartPolicy{Mode: stack.RestartAlways}},
		{Name: "rs-fail", Image: rtRef, Build: rtBuild, Env: map[string]string{"MODE": "crash", "EXIT_CODE": "4"},
			Restart: stack.RestartPolicy{Mode: stack.RestartOnFailure, MaxRetries: 2}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.102.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Services: []string{"rs-web"}, Wait: true, Timeout: time.Minute}))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitFor(t, "rs-web to answer", 20*time.Second, func() bool { _, err := dial(addr); return err == nil })
	before := r.ps(ctx, t, "rs-web")

	c, err := e.cd.LoadContainer(ctx, "rt-restart-rs-web")
	require.NoError(t, err)
	task, err := c.Task(ctx, nil)
	require.NoError(t, err)
	oldPID := task.Pid()
	killed := time.Now()
	require.NoError(t, task.Kill(ctx, syscall.SIGKILL))
	waitFor(t, "rs-web to answer again after kill -9", 30*time.Second, func() bool {
		s := r.service(t, "rs-web")
		if s.Restarts < 1 || s.PID == oldPID {
			return false
		}
		name, err := dial(addr)
		return err == nil && name == "rs-web"
	})
	t.Logf("killed rs-web answered again after %v", time.Since(killed).Round(time.Millisecond))
	after := r.ps(ctx, t, "rs-web")
	assert.Equal(t, 1, after.Restarts)
	assert.Equal(t, before.IP, after.IP, "same address after a restart")
	assert.Equal(t, runtime.StatusRunning, after.State)
	require.NotNil(t, r.service(t, "rs-web").ExitCode)
	assert.Equal(t, uint32(137), *r.service(t, "rs-web").ExitCode)

	// The crash loop and the limited policy.
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Services: []string{"rs-loop", "rs-fail"}}))
	waitFor(t, "5 restarts of the crash loop", time.Minute, func() bool { return r.service(t, "rs-loop").Restarts >= 5 })
	loop := r.service(t, "rs-loop")
	require.GreaterOrEqual(t, len(loop.Backoffs), 5)
	for i := 1; i < 5; i++ {
		assert.Equal(t, 2*loop.Backoffs[i-1], loop.Backoffs[i], "back-off doubles: %v", loop.Backoffs)
	}
	assert.Equal(t, 100*time.Millisecond, loop.Backoffs[0])
	// Starts[0] is up's start; each restart waited at least its back-off.
	for i := 1; i < len(loop.Starts) && i <= len(loop.Backoffs); i++ {
		gap := loop.Starts[i].Sub(loop.Starts[i-1])
		assert.GreaterOrEqual(t, gap, loop.Backoffs[i-1], "restart %d came before its back-off", i)
	}
	assert.Greater(t, loop.Starts[5].Sub(loop.Starts[4]), loop.Starts[1].Sub(loop.Starts[0]), "the gaps grow")

	waitFor(t, "on-failure:2 to give up", 30*time.Second, func() bool { return r.service(t, "rs-fail").Status == runtime.StatusExited })
	fail := r.service(t, "rs-fail")
	assert.Equal(t, 2, fail.Restarts, "on-failure:2 restarts twice")
	require.NotNil(t, fail.ExitCode)
	assert.Equal(t, uint32(4), *fail.ExitCode)
}

// TestRuntimeStopIsGraceful: stop sends the stop signal and the service
// exits by itself (its trap writes a marker into a volume, exit code 0, not
// SIGKILL's 137); a stopped service stays stopped whatever its policy; start
// brings it back.
func TestRuntimeStopIsGraceful(t *testing.T) {
	ctx, e := setup(t)
	st := stack.Stack{Name: "rt-stop", Services: []stack.Service{
		{Name: "sg-svc", Image: rtRef, Build: rtBuild, Env: map[string]string{"MARKER_DIR": "/data"},
			Mounts:          []stack.Mount{{Kind: stack.MountVolume, Source: "rt-stop-data", Target: "/data"}},
			Restart:         stack.RestartPolicy{Mode: stack.RestartAlways},
			StopGracePeriod: 20 * time.Second},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.103.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	require.NoError(t, r.rt.Stop(ctx, st.Name, nil))
	events, err := os.ReadFile(filepath.Join(r.dataDir, "rt-stop-data", "events"))
	require.NoError(t, err)
	assert.Equal(t, "start\nterm\n", string(events), "the process saw SIGTERM")
	s := r.service(t, "sg-svc")
	require.NotNil(t, s.ExitCode)
	assert.Equal(t, uint32(0), *s.ExitCode, "it exited by itself, no SIGKILL")
	assert.True(t, s.UserStopped)

	// Longer than the supervisor's reconcile interval: still stopped.
	time.Sleep(3 * time.Second)
	rep := r.ps(ctx, t, "sg-svc")
	assert.Equal(t, runtime.StatusStopped, rep.State, "restart always, but stopped by the user")
	assert.Equal(t, 0, r.service(t, "sg-svc").Restarts)

	require.NoError(t, r.rt.Start(ctx, st.Name, nil))
	assert.Equal(t, runtime.StatusRunning, r.ps(ctx, t, "sg-svc").State)
	require.NoError(t, r.rt.Restart(ctx, st.Name, []string{"sg-svc"}))
	waitFor(t, "the events of stop, start, restart", 10*time.Second, func() bool {
		events, err = os.ReadFile(filepath.Join(r.dataDir, "rt-stop-data", "events"))
		return err == nil && string(events) == "start\nterm\nstart\nterm\nstart\n"
	})
}

// TestRuntimePortsVolumesSecrets: a published port answers on 127.0.0.1, an
// unpublished one does not (though the service listens on it); a named
// volume survives down and up; a secret is a read-only 0400 file owned by the
// service's user; the container runs with reduced capabilities, seccomp and
// no-new-privileges.
func TestRuntimePortsVolumesSecrets(t *testing.T) {
	ctx, e := setup(t)
	pub, unpub := freePort(t), freePort(t)
	st := stack.Stack{Name: "rt-ports", Services: []stack.Service{
		{Name: "pv-web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": fmt.Sprintf("8080 %d", unpub)},
			Ports:        []stack.Port{{HostPort: pub, ContainerPort: 8080}},
			Mounts:       []stack.Mount{{Kind: stack.MountVolume, Source: "rt-ports-data", Target: "/data", UID: 1000, GID: 1000}},
			Secrets:      []string{"api_key"},
			User:         "1000:1000",
			ReadOnlyRoot: true,
			Limits:       stack.Limits{MemoryBytes: 64 << 20, Pids: 64},
		},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.104.0/24")
	require.NoError(t, os.WriteFile(filepath.Join(r.secretsDir, "api_key"), []byte("k3y-value"), 0o600))
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))

	waitFor(t, "the published port", 20*time.Second, func() bool {
		name, err := dial(fmt.Sprintf("127.0.0.1:%d", pub))
		return err == nil && name == "pv-web"
	})
	ip := r.ps(ctx, t, "pv-web").IP
	waitFor(t, "the unpublished port on the container's address", 20*time.Second, func() bool {
		_, err := dial(net.JoinHostPort(ip, strconv.Itoa(unpub)))
		return err == nil
	})
	_, err := dial(fmt.Sprintf("127.0.0.1:%d", unpub))
	assert.Error(t, err, "an unpublished port must not answer on the host")

	code, out := r.exec(ctx, t, "pv-web", "stat", "-c", "%a %u %g", "/run/secrets/api_key")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "400 1000 1000\n", out)
	code, out = r.exec(ctx, t, "pv-web", "cat", "/run/secrets/api_key")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "k3y-value", out)
	code, _ = r.exec(ctx, t, "pv-web", "sh", "-c", "echo x > /run/secrets/api_key")
	assert.NotEqual(t, 0, code, "secrets are read-only")
	code, out = r.exec(ctx, t, "pv-web", "printenv")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "k3y-value", "never in the environment")
	code, out = r.exec(ctx, t, "pv-web", "grep", "-E", "^(CapBnd|Seccomp|NoNewPrivs):", "/proc/1/status")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "Seccomp:\t2")
	assert.Contains(t, out, "NoNewPrivs:\t1")
	assert.Contains(t, out, "CapBnd:\t00000000000405fb", "containerd's default set minus MKNOD, NET_RAW, AUDIT_WRITE, SETFCAP")
	code, _ = r.exec(ctx, t, "pv-web", "touch", "/x")
	assert.NotEqual(t, 0, code, "the root filesystem is read-only")
	code, out = r.exec(ctx, t, "pv-web", "touch", "/tmp/x")
	assert.Equal(t, 0, code, "/tmp is a writable tmpfs: %s", out)
	// The cgroup is the engine's own: <namespace>-<hash of the root>/<id>
	// (the default engine's is containerd's, <namespace>/<id>).
	c, err := e.cd.LoadContainer(ctx, runtime.ContainerID(st.Name, "pv-web"))
	require.NoError(t, err)
	spec, err := c.Spec(ctx)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(spec.Linux.CgroupsPath, "/"+e.engine.Namespace()) && strings.HasSuffix(spec.Linux.CgroupsPath, "/rt-ports-pv-web"), spec.Linux.CgroupsPath)
	cg := "/sys/fs/cgroup/memory" + spec.Linux.CgroupsPath + "/memory.limit_in_bytes"
	if limit, err := os.ReadFile(cg); err == nil { // cgroup v1, as on Debian 12 here
		assert.Equal(t, strconv.Itoa(64<<20)+"\n", string(limit))
		pids, err := os.ReadFile("/sys/fs/cgroup/pids" + spec.Linux.CgroupsPath + "/pids.max")
		require.NoError(t, err)
		assert.Equal(t, "64\n", string(pids))
	} else {
		t.Logf("no cgroup v1 memory controller at %s: limits not checked", cg)
	}
	var tty strings.Builder
	code, err = r.rt.Exec(ctx, st.Name, "pv-web", runtime.ExecOptions{Args: []string{"sh", "-c", "test -t 0 && test -t 1 && echo on a tty"}, TTY: true, Stdout: &tty})
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "on a tty\r\n", tty.String(), "a terminal: newlines come back as CRLF")
	code, out = r.exec(ctx, t, "pv-web", "sh", "-c", "exit 7")
	assert.Equal(t, 7, code, out)
	// Short execs stream through FIFOs: their output must arrive whole every
	// time (run_test.go's helper saw it lost on containerd 1.6's shim).
	for i := range 20 {
		code, out = r.exec(ctx, t, "pv-web", "cat", "/etc/hostname")
		require.Equal(t, 0, code)
		require.Equal(t, "pv-web\n", out, "exec %d lost its output", i)
	}

	code, out = r.exec(ctx, t, "pv-web", "sh", "-c", "echo kept > /data/f && stat -c %u /data")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "1000\n", out, "the volume was created with the mount's owner")
	require.NoError(t, r.rt.Down(ctx, st, runtime.DownOptions{}))
	assert.Equal(t, 0, r.containerCount(ctx, t))
	_, err = os.Stat("/sys/class/net/inc-rt-ports")
	assert.True(t, errors.Is(err, os.ErrNotExist), "down removes the bridge")
	_, err = dial(fmt.Sprintf("127.0.0.1:%d", pub))
	assert.Error(t, err, "down removes the port mapping")

	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	code, out = r.exec(ctx, t, "pv-web", "cat", "/data/f")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "kept\n", out, "the named volume survived down and up")
	require.NoError(t, r.rt.Down(ctx, st, runtime.DownOptions{Volumes: true}))
	_, err = os.Stat(filepath.Join(r.dataDir, "rt-ports-data"))
	assert.True(t, errors.Is(err, os.ErrNotExist), "down --volumes removes the volume")
}

// TestRuntimeValidationBeforeAction: an invalid stack starts nothing, and a
// service that fails during up stops what this up started, naming the
// service and showing its log.
func TestRuntimeValidationBeforeAction(t *testing.T) {
	ctx, e := setup(t)
	st := stack.Stack{Name: "rt-valid", Services: []stack.Service{
		{Name: "va-db", Image: rtRef, Build: rtBuild, Env: map[string]string{"MODE": "crash", "EXIT_CODE": "9"},
			Health: &stack.HealthCheck{Test: []string{"CMD", "true"}, Interval: time.Second}},
		{Name: "va-app", Image: rtRef, Build: rtBuild, Secrets: []string{"missing_secret"},
			DependsOn: map[string]stack.Condition{"va-db": stack.ConditionHealthy}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.105.0/24")
	err := r.rt.Up(ctx, st, runtime.UpOptions{})
	require.ErrorIs(t, err, stack.ErrInvalid)
	require.ErrorIs(t, err, runtime.ErrSecretMissing)
	assert.Contains(t, err.Error(), filepath.Join(r.secretsDir, "missing_secret"))
	assert.Equal(t, 0, r.containerCount(ctx, t), "nothing is created for an invalid stack")

	require.NoError(t, os.WriteFile(filepath.Join(r.secretsDir, "missing_secret"), []byte("x"), 0o600))
	err = r.rt.Up(ctx, st, runtime.UpOptions{Timeout: time.Minute})
	require.ErrorIs(t, err, runtime.ErrServiceFailed)
	assert.Contains(t, err.Error(), `"va-db"`)
	assert.Contains(t, err.Error(), "exited (code 9)")
	assert.Contains(t, err.Error(), "rtsvc crashing", "the failing service's log")
	assert.Equal(t, runtime.StatusStopped, r.ps(ctx, t, "va-db").State, "what this up started is stopped again")
}

// TestRuntimeEngineRestart: after a stand-in for a reboot (supervisor and
// tasks killed, network namespaces gone, engine stopped and started), up
// brings the stack back: the same containers, addresses and data, and no
// duplicates.
func TestRuntimeEngineRestart(t *testing.T) {
	ctx, e := setup(t)
	port := freePort(t)
	st := stack.Stack{Name: "rt-reboot", Services: []stack.Service{
		{Name: "rb-db", Image: rtRef, Build: rtBuild, Mounts: []stack.Mount{{Kind: stack.MountVolume, Source: "rt-reboot-db", Target: "/data"}},
			Health:  &stack.HealthCheck{Test: []string{"CMD", "test", "-f", "/tmp/ready"}, Interval: time.Second, StartPeriod: 10 * time.Second, StartInterval: 100 * time.Millisecond},
			Restart: stack.RestartPolicy{Mode: stack.RestartUnlessStopped}},
		{Name: "rb-web", Image: rtRef, Build: rtBuild, Env: map[string]string{"PORTS": "8080"},
			Ports:     []stack.Port{{HostPort: port, ContainerPort: 8080}},
			DependsOn: map[string]stack.Condition{"rb-db": stack.ConditionHealthy},
			Restart:   stack.RestartPolicy{Mode: stack.RestartUnlessStopped}},
	}}
	r := newRuntime(ctx, t, e, st, "10.89.106.0/24")
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	code, out := r.exec(ctx, t, "rb-db", "sh", "-c", "echo persisted > /data/f")
	require.Equal(t, 0, code, out)
	before := map[string]runtime.ServiceReport{"rb-db": r.ps(ctx, t, "rb-db"), "rb-web": r.ps(ctx, t, "rb-web")}

	// The reboot: the supervisor dies with the machine, the tasks with it,
	// /run is emptied (network namespaces gone), then the engine starts again.
	pidData, err := os.ReadFile(filepath.Join(e.engine.RunDir(), "supervisor-"+st.Name+".pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	for _, n := range []string{"rb-web", "rb-db"} {
		c, err := e.cd.LoadContainer(ctx, "rt-reboot-"+n)
		require.NoError(t, err)
		task, err := c.Task(ctx, nil)
		require.NoError(t, err)
		exited, err := task.Wait(ctx)
		require.NoError(t, err)
		require.NoError(t, task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll))
		<-exited
		_, err = task.Delete(ctx)
		require.NoError(t, err)
		ns := filepath.Join(e.engine.RunDir(), "netns", st.Name, n) // <run dir>/netns/<project>/<service>
		require.NoError(t, syscall.Unmount(ns, syscall.MNT_DETACH))
		require.NoError(t, os.Remove(ns))
	}
	require.NoError(t, e.engine.Stop(ctx))
	require.NoError(t, e.engine.Ensure(ctx))

	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: time.Minute}))
	assert.Equal(t, 2, r.containerCount(ctx, t), "containers adopted, not duplicated")
	for n, b := range before {
		after := r.ps(ctx, t, n)
		assert.Equal(t, runtime.StatusRunning, after.State, n)
		assert.Equal(t, b.IP, after.IP, "%s keeps its address", n)
		assert.Equal(t, b.Container, after.Container)
	}
	code, out = r.exec(ctx, t, "rb-db", "cat", "/data/f")
	require.Equal(t, 0, code, out)
	assert.Equal(t, "persisted\n", out)
	waitFor(t, "rb-web's published port after the reboot", 20*time.Second, func() bool {
		name, err := dial(fmt.Sprintf("127.0.0.1:%d", port))
		return err == nil && name == "rb-web"
	})
}
