package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/compose"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// loadCompose loads and converts a compose file of testdata/compose with
// env as its whole environment, and builds its Dockerfile builds on the
// engine through BuildKit's Dockerfile frontend.
func loadCompose(t *testing.T, e *env, file string, env ...string) compose.App {
	t.Helper()
	ctx := t.Context()
	p, err := compose.Load(ctx, compose.WithFiles(filepath.Join("../../testdata/compose", file)), compose.WithEnvironment(env))
	require.NoError(t, err)
	app, err := compose.Convert(p)
	require.NoError(t, err)
	targets, err := compose.Targets(app.Stack.Services)
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithProgress(os.Stderr, "quiet"))
	require.NoError(t, err)
	_, err = b.Build(ctx, targets)
	require.NoError(t, err)
	// Built: what newRuntime builds are Go recipes only.
	for i := range app.Stack.Services {
		app.Stack.Services[i].Build = nil
	}
	return app
}

// TestComposeRun runs testdata/compose/run/compose.yaml on the engine and
// checks each key on the running containers' specs and behaviour.
func TestComposeRun(t *testing.T) {
	ctx, e := setup(t)
	ports := freePortRange(t, 3)
	homeData := t.TempDir()
	app := loadCompose(t, e, "run/compose.yaml",
		"FLAVOUR=from-the-test", "HOME_DATA="+homeData, "WEB_PORT="+strconv.Itoa(ports[0]),
		"RANGE_LOW="+strconv.Itoa(ports[1]), "RANGE_HIGH="+strconv.Itoa(ports[2]))
	require.Equal(t, "10.89.150.0/24", app.Subnet)
	r := newRuntime(ctx, t, e, app.Stack, app.Subnet)
	// --wait: the job web waits for exits 0, which counts as ready.
	require.NoError(t, r.rt.Up(ctx, app.Stack, runtime.UpOptions{Wait: true, Timeout: 2 * time.Minute}))
	waitFor(t, "web running and answering", time.Minute, func() bool {
		if r.service(t, "web").Status != runtime.StatusRunning {
			return false
		}
		_, err := dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])))
		return err == nil
	})

	web, err := r.cd.LoadContainer(ctx, "compose-run-frontend")
	require.NoError(t, err, "container_name names the container")
	spec, err := web.Spec(ctx)
	require.NoError(t, err)
	labels, err := web.Labels(ctx)
	require.NoError(t, err)

	t.Run("image, build args and target", func(t *testing.T) {
		code, out := r.exec(ctx, t, "db", "cat", "/flavour")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "from-the-test\n", out)
	})
	t.Run("entrypoint and command", func(t *testing.T) {
		assert.Equal(t, []string{"/svc.sh", "ignored-argument"}, spec.Process.Args)
	})
	t.Run("environment, env_file", func(t *testing.T) {
		assert.Contains(t, spec.Process.Env, "GREETING=hello")
		assert.Contains(t, spec.Process.Env, "FROM_ENV_FILE=yes")
	})
	t.Run("user, working_dir", func(t *testing.T) {
		assert.Equal(t, uint32(1000), spec.Process.User.UID)
		assert.Equal(t, uint32(1000), spec.Process.User.GID)
		assert.Equal(t, "/app", spec.Process.Cwd)
		code, out := r.exec(ctx, t, "web", "sh", "-c", "id -u; pwd")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "1000\n/app\n", out)
	})
	t.Run("cap_add, cap_drop", func(t *testing.T) {
		assert.Contains(t, spec.Process.Capabilities.Bounding, "CAP_NET_ADMIN")
		assert.NotContains(t, spec.Process.Capabilities.Bounding, "CAP_CHOWN")
		assert.Contains(t, spec.Process.Capabilities.Bounding, "CAP_KILL", "the rest of the default set stays")
	})
	t.Run("read_only, tmpfs", func(t *testing.T) {
		assert.True(t, spec.Root.Readonly)
		i := slices.IndexFunc(spec.Mounts, func(m specs.Mount) bool { return m.Destination == "/scratch" })
		require.GreaterOrEqual(t, i, 0, "a /scratch mount")
		assert.Equal(t, "tmpfs", spec.Mounts[i].Type)
		assert.Contains(t, spec.Mounts[i].Options, "size=1048576")
		code, out := r.exec(ctx, t, "web", "sh", "-c", "touch /scratch/x && ! touch /x 2>/dev/null && echo ok")
		require.Equal(t, 0, code, out)
		// The service's own /tmp, noexec, in place of the runtime's.
		var tmps []specs.Mount
		for _, m := range spec.Mounts {
			if m.Destination == "/tmp" {
				tmps = append(tmps, m)
			}
		}
		require.Len(t, tmps, 1, "one /tmp: the service's")
		assert.Contains(t, tmps[0].Options, "size=2097152")
		assert.Contains(t, tmps[0].Options, "noexec")
		code, out = r.exec(ctx, t, "web", "sh", "-c", "cp /bin/sh /tmp/p && ! /tmp/p -c true 2>/dev/null && cp /bin/sh /scratch/p && /scratch/p -c 'echo ok'")
		require.Equal(t, 0, code, "a program runs from /scratch, not from the noexec /tmp: %s", out)
	})
	t.Run("mem_limit, pids_limit, cpus", func(t *testing.T) {
		res := spec.Linux.Resources
		require.NotNil(t, res.Memory)
		assert.Equal(t, int64(64<<20), *res.Memory.Limit)
		require.NotNil(t, res.Pids)
		assert.Equal(t, int64(50), *res.Pids.Limit)
		require.NotNil(t, res.CPU)
		assert.Equal(t, int64(50000), *res.CPU.Quota)
		assert.Equal(t, uint64(100000), *res.CPU.Period)
		task, err := web.Task(ctx, nil)
		require.NoError(t, err)
		out := cgroupLimits(t, task.Pid())
		assert.Equal(t, "67108864\n50\n50000 100000\n", out)
	})
	t.Run("hostname, extra_hosts, ipv4_address", func(t *testing.T) {
		assert.Equal(t, "webhost", spec.Hostname)
		code, out := r.exec(ctx, t, "web", "sh", "-c", "hostname; cat /etc/hosts")
		require.Equal(t, 0, code, out)
		assert.True(t, strings.HasPrefix(out, "webhost\n"), out)
		assert.Contains(t, out, "10.89.150.1\tgateway.test")
		assert.Contains(t, out, "10.89.150.50\tdb")
	})
	t.Run("ports, a range", func(t *testing.T) {
		for _, p := range ports {
			got, err := dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			require.NoError(t, err, "port %d", p)
			assert.Equal(t, "webhost", got)
		}
	})
	t.Run("secrets", func(t *testing.T) {
		code, out := r.exec(ctx, t, "web", "cat", "/run/secrets/token")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "compose-secret-value", out)
	})
	t.Run("volumes: named, bind read-only, local driver bind", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(homeData, "from-host"), []byte("x"), 0o644))
		code, out := r.exec(ctx, t, "web", "sh", "-c", "test -f /home/data/from-host && test -f /app/svc.sh && ! touch /app/new 2>/dev/null && test -d /data && echo ok")
		require.Equal(t, 0, code, out)
		assert.DirExists(t, filepath.Join(r.dataDir, "compose-run_data"), "named volumes are <project>_<name> under the data dir")
	})
	t.Run("depends_on: healthy and completed successfully", func(t *testing.T) {
		db, w := r.service(t, "db"), r.service(t, "web")
		assert.Equal(t, runtime.HealthHealthy, db.Health)
		assert.GreaterOrEqual(t, w.StartedAt.Sub(db.StartedAt), 1500*time.Millisecond, "web started before db was healthy")
		job := r.service(t, "job")
		require.NotNil(t, job.ExitCode)
		assert.Equal(t, uint32(0), *job.ExitCode)
		assert.True(t, w.StartedAt.After(job.FinishedAt), "web started before job completed")
	})
	t.Run("init, stop_signal, stop_grace_period", func(t *testing.T) {
		db, err := r.cd.LoadContainer(ctx, "compose-run-db")
		require.NoError(t, err)
		dbSpec, err := db.Spec(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"/sbin/docker-init", "--", "/svc.sh"}, dbSpec.Process.Args)
		code, out := r.exec(ctx, t, "db", "cat", "/proc/1/comm")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "init", "PID 1 is the init")
		assert.Equal(t, "SIGINT", labels[containerd.StopSignalLabel])
		assert.Equal(t, "3s", labels["io.inception.stop-grace"])
	})
	t.Run("restart after a crash", func(t *testing.T) {
		waitFor(t, "crashy restarted after its crash", time.Minute, func() bool {
			s := r.service(t, "crashy")
			return s.Restarts >= 1 && s.Status == runtime.StatusRunning
		})
		data, err := os.ReadFile(filepath.Join(r.dataDir, "compose-run_state", "crashed"))
		require.NoError(t, err)
		assert.Equal(t, "crashed\n", string(data))
	})
}

// TestComposePortTaken: a compose file whose host port another program
// holds is refused before anything starts.
func TestComposePortTaken(t *testing.T) {
	ctx, e := setup(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	app := loadCompose(t, e, "port-taken/compose.yaml", "PORT="+strconv.Itoa(port), "COMPOSE_PROJECT_NAME=compose-port")
	r := newRuntime(ctx, t, e, app.Stack, "10.89.151.0/24")
	err = r.rt.Up(ctx, app.Stack, runtime.UpOptions{})
	require.ErrorIs(t, err, runtime.ErrPortConflict)
	assert.ErrorIs(t, err, stack.ErrInvalid)
	assert.Zero(t, r.containerCount(ctx, t), "nothing started")
}

// cgroupLimits reads a task's memory, pids and CPU limits from the host's
// cgroup files, printed as cgroup v2 has them: on a v1 (hybrid) host from
// the memory, pids and cpu hierarchies.
func cgroupLimits(t *testing.T, pid uint32) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(t, err)
	paths := map[string]string{} // controller ("" for v2) -> cgroup path
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		require.Len(t, f, 3, line)
		for _, c := range strings.Split(f[1], ",") {
			paths[c] = f[2]
		}
	}
	read := func(elem ...string) string {
		b, err := os.ReadFile(filepath.Join(elem...))
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		d := filepath.Join("/sys/fs/cgroup", paths[""])
		return read(d, "memory.max") + "\n" + read(d, "pids.max") + "\n" + read(d, "cpu.max") + "\n"
	}
	cpu := filepath.Join("/sys/fs/cgroup/cpu", paths["cpu"])
	return read("/sys/fs/cgroup/memory", paths["memory"], "memory.limit_in_bytes") + "\n" +
		read("/sys/fs/cgroup/pids", paths["pids"], "pids.max") + "\n" +
		read(cpu, "cpu.cfs_quota_us") + " " + read(cpu, "cpu.cfs_period_us") + "\n"
}
