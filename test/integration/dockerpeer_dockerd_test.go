package integration

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/base"
)

// The private dockerd of the docker-peer tests (internal/dockerpeer): its
// own socket, data root, exec root and pid file, with a bridge and address
// pool of its own (so it never meets the project's CNI bridges,
// 10.89.0.0/16, the bench's incbench0, nor a host's docker0). The data
// root is kept between runs: the loaded base and the build cache make the
// next run shorter.
const (
	dockerdBridge = "incdk0"
	dockerdBIP    = "10.213.0.1/24"
	dockerdPool   = "base=10.214.0.0/16,size=24"
	dockerBin     = dockerpeer.DockerBin // Debian's CLI, never another docker on PATH
)

// dockerd is a running private dockerd, stopped when the test ends.
type dockerd struct {
	*dockerpeer.Daemon
}

// dockerPeerDirs are the private dockerd's directories: under
// INCEPTION_DOCKERD_ROOT and INCEPTION_DOCKERD_RUN_DIR, or next to the
// engine's own (short paths: containerd's sockets live in the exec root).
func dockerPeerDirs() (root, run string) {
	root = os.Getenv("INCEPTION_DOCKERD_ROOT")
	if root == "" {
		root = "/var/lib/inception-dockerd"
	}
	run = os.Getenv("INCEPTION_DOCKERD_RUN_DIR")
	if run == "" {
		run = "/run/inception-dockerd"
	}
	return root, run
}

// startDockerd starts the private dockerd and stops it when the test
// ends. It skips (fails under CI) when docker.io or the compose plugin
// are missing: make docker-peer installs them.
func startDockerd(ctx context.Context, t *testing.T) *dockerd {
	t.Helper()
	testutil.Integration(t)
	config := os.Getenv("INCEPTION_DOCKER_CONFIG")
	if config == "" {
		config = filepath.Join(repoRoot(t), "bin", "docker-config")
	}
	tools, err := dockerpeer.Find(config)
	if errors.Is(err, dockerpeer.ErrMissing) {
		testutil.Skip(t, err.Error())
	}
	require.NoError(t, err)
	root, run := dockerPeerDirs()
	d, err := dockerpeer.Start(ctx, tools, root, dockerpeer.WithRunDir(run), dockerpeer.WithBridge(dockerdBridge, dockerdBIP, dockerdPool))
	require.NoError(t, err)
	dd := &dockerd{d}
	t.Cleanup(func() { dd.stop(t) })
	return dd
}

// stop stops dockerd and removes its bridge; safe to call again.
func (d *dockerd) stop(t *testing.T) {
	t.Helper()
	if err := d.Stop(); err != nil {
		t.Error(err)
	}
}

// env is the environment of the private dockerd's clients, on top of
// extra: the host's DOCKER_* variables left out.
func (d *dockerd) env(extra ...string) []string { return d.Env(extra...) }

// docker runs Debian's docker CLI against the private dockerd and returns
// its stdout and stderr.
func (d *dockerd) docker(ctx context.Context, extra []string, args ...string) (string, string, error) {
	return d.Docker(ctx, extra, args...)
}

// loadBase loads the engine's Debian base into the private dockerd as
// debian:bookworm, so FROM debian:bookworm resolves there without a
// registry.
func (d *dockerd) loadBase(ctx context.Context, t *testing.T, e *env) {
	t.Helper()
	require.NoError(t, d.LoadFromContainerd(ctx, e.cd, base.DefaultRef))
	id, err := d.ImageID(ctx, "debian:bookworm")
	require.NoError(t, err, "debian:bookworm in the private dockerd")
	t.Logf("debian:bookworm in the private dockerd: %s", strings.TrimSpace(id))
}

func lastLines(s string, n int) string { return dockerpeer.LastLines(s, n) }
