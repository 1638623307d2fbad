package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// running is a container started by runContainer: the minimal helper the
// build tests need before pkg/runtime runs whole stacks.
type running struct {
	ID        string
	IP        net.IP
	LogPath   string
	Container containerd.Container
	Task      containerd.Task
}

// exec runs args in the container and returns its exit code and output
// (stdout and stderr together).
func (r running) exec(ctx context.Context, t *testing.T, args ...string) (int, string) {
	t.Helper()
	spec, err := r.Container.Spec(ctx)
	require.NoError(t, err)
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	// Output goes to a file the shim writes: FIFO streams lose the output of
	// short execs on Debian's containerd 1.6 shim (seen here: most runs of
	// `cat /proc/1/comm` came back empty).
	outPath := filepath.Join(t.TempDir(), "exec.log")
	id := fmt.Sprintf("exec-%d", time.Now().UnixNano())
	p, err := r.Task.Exec(ctx, id, &pspec, cio.LogFile(outPath))
	require.NoError(t, err)
	defer p.Delete(context.WithoutCancel(ctx)) //nolint:errcheck // best effort
	st, err := p.Wait(ctx)
	require.NoError(t, err)
	require.NoError(t, p.Start(ctx))
	select {
	case es := <-st:
		if _, err := p.Delete(ctx); err != nil {
			t.Logf("delete exec: %v", err)
		}
		return int(es.ExitCode()), settledFile(t, outPath)
	case <-ctx.Done():
		t.Fatalf("exec %v: %v", args, ctx.Err())
	}
	return -1, ""
}

// settledFile reads path once its size has stopped changing: the shim may
// still be copying the last writes of a process that has already exited.
func settledFile(t *testing.T, path string) string {
	t.Helper()
	// The last writes can land tens of milliseconds after the exit is
	// reported: wait until the size has held for 150 ms (at most 3 s).
	last, stable := int64(-1), 0
	for i := 0; i < 60 && stable < 3; i++ {
		time.Sleep(50 * time.Millisecond)
		st, err := os.Stat(path)
		if err != nil {
			continue
		}
		if st.Size() == last {
			stable++
		} else {
			last, stable = st.Size(), 0
		}
	}
	out, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(out)
}

// logs returns what the container printed so far.
func (r running) logs(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(r.LogPath)
	require.NoError(t, err)
	return string(data)
}

// runContainer runs image ref as one container on a test network, with
// ports published and extra spec options (env, mounts, see withHosts), and
// registers its removal with t.Cleanup.
func runContainer(ctx context.Context, t *testing.T, e *env, name, ref string, ports []runtime.PortMapping, opts ...oci.SpecOpts) running {
	t.Helper()
	id := fmt.Sprintf("it-%s-%d", name, time.Now().UnixNano()%1e6)
	img, err := e.cd.GetImage(ctx, ref)
	require.NoError(t, err)
	require.NoError(t, img.Unpack(ctx, "overlayfs"))

	dir := t.TempDir()
	logPath := filepath.Join(dir, "container.log")
	specOpts := append([]oci.SpecOpts{oci.WithImageConfig(img), oci.WithHostname(name)}, opts...)

	c, err := e.cd.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithSnapshotter("overlayfs"),
		containerd.WithNewSnapshot(id+"-rootfs", img),
		containerd.WithNewSpec(specOpts...),
	)
	require.NoError(t, err)
	nw, err := imageTestNetwork(e)
	require.NoError(t, err)

	task, err := c.NewTask(ctx, cio.LogFile(logPath))
	require.NoError(t, err)
	netns := fmt.Sprintf("/proc/%d/ns/net", task.Pid())
	t.Cleanup(func() {
		cctx := context.WithoutCancel(ctx)
		if err := nw.Detach(cctx, id, netns, ports); err != nil {
			t.Logf("detach: %v", err)
		}
		if st, err := task.Wait(cctx); err == nil {
			_ = task.Kill(cctx, syscall.SIGKILL)
			select {
			case <-st:
			case <-time.After(10 * time.Second):
			}
		}
		if _, err := task.Delete(cctx); err != nil && !errdefs.IsNotFound(err) {
			t.Logf("delete task: %v", err)
		}
		if err := c.Delete(cctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
			t.Logf("delete container: %v", err)
		}
		if t.Failed() {
			if data, err := os.ReadFile(logPath); err == nil {
				t.Logf("container log:\n%s", data)
			}
		}
	})
	ip, err := nw.Attach(ctx, id, netns, nil, ports)
	require.NoError(t, err)
	_, err = task.Wait(ctx)
	require.NoError(t, err)
	require.NoError(t, task.Start(ctx))
	return running{ID: id, IP: ip, LogPath: logPath, Container: c, Task: task}
}

// withHosts mounts an /etc/hosts with localhost and the given extra lines
// ("127.0.0.1 wordpress\n").
func withHosts(t *testing.T, extra string) oci.SpecOpts {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hosts")
	require.NoError(t, os.WriteFile(p, []byte("127.0.0.1 localhost\n"+extra), 0o644))
	return withBind(p, "/etc/hosts", true)
}

// withBind bind-mounts a host path into the container.
func withBind(src, dst string, readOnly bool) oci.SpecOpts {
	opts := []string{"rbind", "rw"}
	if readOnly {
		opts = []string{"rbind", "ro"}
	}
	return oci.WithMounts([]specs.Mount{{Destination: dst, Type: "bind", Source: src, Options: opts}})
}

// freePort returns a TCP port on 127.0.0.1 nobody listens on, never one
// it or freePortRange returned before in this test binary.
func freePort(t *testing.T) int {
	t.Helper()
	return freePortRange(t, 1)[0]
}

// imageTestNetwork is the network runContainer attaches the image tests'
// containers to; TestMain tears it down after the last test.
func imageTestNetwork(e *env) (*runtime.Network, error) {
	return runtime.NewNetwork("inctest", runtime.WithSubnet("10.89.250.0/24"), runtime.WithStateDir(filepath.Join(e.engine.Root(), "cni-test")))
}
