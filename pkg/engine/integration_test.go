package engine

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/worker/label"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

// TestEngineIntegration runs the real containerd and buildkitd in a private
// root and run dir: start, idempotence, recovery from a SIGKILLed daemon,
// stop, and an external address that does not answer.
func TestEngineIntegration(t *testing.T) {
	testutil.Integration(t)
	bk := os.Getenv("INCEPTION_BUILDKITD")
	if bk == "" {
		bk = "../../bin/buildkitd"
	}
	if !isExecutable(bk) {
		testutil.Skip(t, "no buildkitd at "+bk+": run `make deps` or set INCEPTION_BUILDKITD")
	}

	root := t.TempDir()
	// Short: unix socket paths end at 107 bytes.
	runDir, err := os.MkdirTemp("/run", "inc-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(runDir) })
	const ns = "inception-test"
	e, err := New(WithRoot(root), WithRunDir(runDir), WithNamespace(ns), WithBuildkitdPath(bk))
	require.NoError(t, err)
	// Registered after the run dir's cleanup, so it runs first: no daemon
	// outlives the test, whatever fails.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	ctdPID := filepath.Join(runDir, "containerd.pid")
	bkPID := filepath.Join(runDir, "buildkitd.pid")
	ctdSock := filepath.Join(runDir, "containerd.sock")
	bkSock := filepath.Join(runDir, "buildkitd.sock")

	// Start both.
	require.NoError(t, e.Ensure(ctx), "logs in %s", filepath.Join(root, "logs"))
	st, err := e.Status(ctx)
	require.NoError(t, err)
	requireRunning(t, st)
	assert.Equal(t, ctdSock, st.Containerd.Address)
	assert.Equal(t, "unix://"+bkSock, st.Buildkitd.Address)
	assert.Equal(t, filepath.Join(root, "logs", "containerd.log"), st.Containerd.Log)
	assert.DirExists(t, filepath.Join(root, "containerd"), "containerd uses our root")
	assert.DirExists(t, filepath.Join(root, "buildkit"), "buildkitd uses our root")

	// The worker is configured as the config file says: containerd executor,
	// our namespace, host network, overlayfs. buildkitd ignores unknown
	// config keys, so this is where a wrong key name would show.
	bc, err := bkclient.New(ctx, e.BuildkitAddress())
	require.NoError(t, err)
	workers, err := bc.ListWorkers(ctx)
	require.NoError(t, err)
	bc.Close()
	require.Len(t, workers, 1, "the OCI worker is disabled")
	assert.Equal(t, "containerd", workers[0].Labels[label.Executor])
	assert.Equal(t, ns, workers[0].Labels[label.ContainerdNamespace])
	assert.Equal(t, "host", workers[0].Labels[label.Network])
	assert.Equal(t, "overlayfs", workers[0].Labels[label.Snapshotter])

	// A second Ensure changes nothing.
	require.NoError(t, e.Ensure(ctx))
	st2, err := e.Status(ctx)
	require.NoError(t, err)
	requireRunning(t, st2)
	assert.Equal(t, st.Containerd.PID, st2.Containerd.PID)
	assert.Equal(t, st.Buildkitd.PID, st2.Buildkitd.PID)

	// Another namespace for the same root: buildkitd is not silently restarted.
	other, err := New(WithRoot(root), WithRunDir(runDir), WithNamespace("other"), WithBuildkitdPath(bk))
	require.NoError(t, err)
	require.ErrorIs(t, other.Ensure(ctx), ErrConfigChanged)

	// A SIGKILLed buildkitd leaves its pid file and socket behind.
	require.NoError(t, syscall.Kill(st.Buildkitd.PID, syscall.SIGKILL))
	require.Eventually(t, func() bool { return processExited(procDir, st.Buildkitd.PID) }, 10*time.Second, 20*time.Millisecond)
	require.FileExists(t, bkPID)
	require.FileExists(t, bkSock)
	assert.Equal(t, socketStale, socketStateOf(bkSock))
	st3, err := e.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st3.Buildkitd.Running)
	assert.Contains(t, st3.Buildkitd.Error, "stale")

	require.NoError(t, e.Ensure(ctx))
	st4, err := e.Status(ctx)
	require.NoError(t, err)
	requireRunning(t, st4)
	assert.NotEqual(t, st.Buildkitd.PID, st4.Buildkitd.PID, "a new buildkitd")
	assert.Equal(t, st.Containerd.PID, st4.Containerd.PID, "containerd untouched")

	// External buildkitd that does not answer, with the embedded containerd
	// (running) of the same engine: a quick, clear error.
	t.Run("external buildkitd does not answer", func(t *testing.T) {
		nope := "unix://" + filepath.Join(runDir, "nope.sock")
		ext, err := New(WithRoot(root), WithRunDir(runDir), WithNamespace(ns), WithBuildkitAddress(nope))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		err = ext.Ensure(ctx)
		require.ErrorIs(t, err, ErrNotRunning)
		assert.Contains(t, err.Error(), nope)
		assert.Contains(t, err.Error(), "--buildkit-addr or BUILDKIT_HOST")
		assert.Less(t, time.Since(start), 5*time.Second)
		est, err := ext.Status(ctx)
		require.NoError(t, err)
		assert.True(t, est.Containerd.Running)
		assert.True(t, est.Buildkitd.External)
		assert.False(t, est.Buildkitd.Running)
		assert.NotEmpty(t, est.Buildkitd.Error)
	})

	// Stop stops both and cleans up; then again.
	require.NoError(t, e.Stop(ctx))
	for _, f := range []string{ctdPID, bkPID, ctdSock, ctdSock + ".ttrpc", bkSock} {
		assert.NoFileExists(t, f)
	}
	assert.True(t, processExited(procDir, st4.Buildkitd.PID))
	assert.True(t, processExited(procDir, st4.Containerd.PID))
	require.NoError(t, e.Stop(ctx), "stopping a stopped engine")
	st5, err := e.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st5.Containerd.Running)
	assert.False(t, st5.Buildkitd.Running)
	assert.Zero(t, st5.Containerd.PID)
}

func requireRunning(t *testing.T, st Status) {
	t.Helper()
	require.Truef(t, st.Containerd.Running, "containerd: %+v", st.Containerd)
	require.Truef(t, st.Buildkitd.Running, "buildkitd: %+v", st.Buildkitd)
	assert.NotZero(t, st.Containerd.PID)
	assert.NotZero(t, st.Buildkitd.PID)
	assert.NotEmpty(t, st.Containerd.Version)
	assert.Equal(t, "v0.34.2", st.Buildkitd.Version)
	assert.False(t, st.Containerd.External)
	assert.False(t, st.Buildkitd.External)
}

// TestEnsureContainerdIntegration starts containerd alone, where no
// buildkitd is installed: the base image needs nothing more.
func TestEnsureContainerdIntegration(t *testing.T) {
	testutil.Integration(t)
	root := t.TempDir()
	runDir, err := os.MkdirTemp("/run", "inc-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(runDir) })
	e, err := New(WithRoot(root), WithRunDir(runDir), WithNamespace("inception-test"),
		WithBuildkitdPath(filepath.Join(root, "no-buildkitd")))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	require.NoError(t, e.EnsureContainerd(ctx), "logs in %s", filepath.Join(root, "logs"))
	require.NoError(t, e.EnsureContainerd(ctx), "idempotent")
	st, err := e.Status(ctx)
	require.NoError(t, err)
	assert.True(t, st.Containerd.Running, "containerd: %+v", st.Containerd)
	assert.False(t, st.Buildkitd.Running, "buildkitd is not started")
	assert.NoFileExists(t, filepath.Join(runDir, "buildkitd.pid"))

	err = e.Ensure(ctx)
	require.ErrorIs(t, err, ErrBinaryNotFound, "the whole engine still wants buildkitd")
}
