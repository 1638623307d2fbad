package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/images/archive"
	"github.com/containerd/platforms"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/base"
)

// The private dockerd of the docker-peer tests: Debian's docker.io, on
// its own socket, data root, exec root and pid file, with a bridge and
// address pool of its own (so it never meets the project's CNI bridges,
// 10.89.0.0/16, nor a host's docker0). The data root is kept between runs:
// the loaded base and the build cache make the next run shorter.
const (
	dockerdBridge = "incdk0"
	dockerdBIP    = "10.213.0.1/24"
	dockerdPool   = "base=10.214.0.0/16,size=24"
	dockerBin     = "/usr/bin/docker" // Debian's CLI, never another docker on PATH
	dockerdBin    = "/usr/sbin/dockerd"
)

// dockerd is a running private dockerd and the environment its clients
// need (DOCKER_HOST, the private DOCKER_CONFIG with the compose plugin).
type dockerd struct {
	root, run string
	host      string
	config    string
	cmd       *exec.Cmd
	exited    chan error
	log       *os.File
	stopped   bool
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
	for _, p := range []string{dockerBin, dockerdBin, filepath.Join(config, "cli-plugins", "docker-compose")} {
		if _, err := os.Stat(p); err != nil {
			testutil.Skip(t, fmt.Sprintf("%s missing: run make docker-peer", p))
		}
	}
	root, run := dockerPeerDirs()
	d := &dockerd{root: root, run: run, config: config, host: "unix://" + filepath.Join(run, "docker.sock"), exited: make(chan error, 1)}
	require.NoError(t, os.MkdirAll(root, 0o711))
	require.NoError(t, os.MkdirAll(run, 0o711))
	d.stopStale(t)
	d.ensureBridge(t)
	// Containers reach Debian's mirror through the bridge: forwarding on,
	// as the project's CNI bridge turns it on. dockerd is told not to:
	// when it does, it also sets the FORWARD policy to DROP, which would
	// cut the project's own stacks off.
	require.NoError(t, os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644))

	logPath := filepath.Join(run, "dockerd.log")
	var err error
	d.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(t, err)
	d.cmd = exec.Command(dockerdBin,
		"--host", d.host,
		"--data-root", filepath.Join(root, "data"),
		"--exec-root", filepath.Join(run, "exec"),
		"--pidfile", filepath.Join(run, "dockerd.pid"),
		"--bridge", dockerdBridge,
		"--default-address-pool", dockerdPool,
		"--ip-forward=false",
		"--iptables=true",
		"--userland-proxy=false",
		"--storage-driver", "overlay2",
		"--log-level", "warn",
	)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	// Its own process group: a Ctrl-C of the test stops it through Stop,
	// not half-way through a signal to the group.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, d.cmd.Start(), "start dockerd")
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() { d.stop(t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, _, err := d.docker(ctx, nil, "version", "--format", "{{.Server.Version}}"); err == nil {
			break
		}
		select {
		case err := <-d.exited:
			d.exited <- err
			require.FailNow(t, "dockerd exited", "%v; its log (%s):\n%s", err, logPath, tail(logPath))
		default:
		}
		require.True(t, time.Now().Before(deadline), "dockerd did not answer on %s in 60 s; its log:\n%s", d.host, tail(logPath))
		time.Sleep(200 * time.Millisecond)
	}
	return d
}

// stopStale stops a private dockerd that a crashed run left behind (its
// pid file names it; the process must be dockerd).
func (d *dockerd) stopStale(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(d.run, "dockerd.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "dockerd" {
		return
	}
	t.Logf("stopping the private dockerd a previous run left (pid %d)", pid)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 300 {
		if gone(pid) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// ensureBridge makes the private dockerd's bridge; dockerd uses a bridge
// it is given as it is.
func (d *dockerd) ensureBridge(t *testing.T) {
	t.Helper()
	if _, err := net.InterfaceByName(dockerdBridge); err == nil {
		return
	}
	for _, args := range [][]string{
		{"link", "add", "name", dockerdBridge, "type", "bridge"},
		{"addr", "add", dockerdBIP, "dev", dockerdBridge},
		{"link", "set", dockerdBridge, "up"},
	} {
		out, err := exec.Command("ip", args...).CombinedOutput()
		require.NoError(t, err, "ip %s: %s", strings.Join(args, " "), out)
	}
}

// stop stops dockerd (SIGTERM: it stops its containers and its
// containerd), SIGKILL after 60 s, and removes the bridge.
func (d *dockerd) stop(t *testing.T) {
	t.Helper()
	if d.stopped {
		return
	}
	d.stopped = true
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-d.exited:
			t.Logf("dockerd stopped: %v", err)
		case <-time.After(60 * time.Second):
			t.Errorf("dockerd did not stop in 60 s after SIGTERM: killing it")
			_ = d.cmd.Process.Kill()
			t.Logf("dockerd killed: %v", <-d.exited)
		}
	}
	if d.log != nil {
		d.log.Close()
	}
	if out, err := exec.Command("ip", "link", "del", dockerdBridge).CombinedOutput(); err != nil {
		t.Logf("ip link del %s: %v: %s", dockerdBridge, err, out)
	}
}

// env is the environment of the private dockerd's clients, on top of
// extra: the host's DOCKER_* variables left out.
func (d *dockerd) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "COMPOSE_") {
			env = append(env, kv)
		}
	}
	// The compose plugin's own builder (BuildKit through dockerd's API);
	// bake would need a buildx plugin this set-up does not have.
	env = append(env, "DOCKER_HOST="+d.host, "DOCKER_CONFIG="+d.config, "DOCKER_BUILDKIT=1", "COMPOSE_BAKE=false")
	return append(env, extra...)
}

// docker runs Debian's docker CLI against the private dockerd and returns
// its stdout and stderr.
func (d *dockerd) docker(ctx context.Context, extra []string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, dockerBin, args...)
	cmd.Env = d.env(extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, lastLines(stderr.String(), 40))
	}
	return stdout.String(), stderr.String(), err
}

// loadBase loads the engine's Debian base into the private dockerd as
// debian:bookworm, so FROM debian:bookworm resolves there without a
// registry: the engine's image exported as a docker archive (containerd's
// exporter writes the manifest.json docker load reads).
func (d *dockerd) loadBase(ctx context.Context, t *testing.T, e *env) {
	t.Helper()
	f, err := os.CreateTemp(d.root, "base-*.tar")
	require.NoError(t, err)
	defer os.Remove(f.Name())
	err = e.cd.Export(ctx, f,
		archive.WithImage(e.cd.ImageService(), base.DefaultRef),
		archive.WithPlatform(platforms.Only(platforms.MustParse("linux/amd64"))))
	require.NoError(t, err, "export %s from the engine", base.DefaultRef)
	require.NoError(t, f.Close())
	out, _, err := d.docker(ctx, nil, "load", "--input", f.Name())
	require.NoError(t, err)
	t.Logf("docker load: %s", strings.TrimSpace(out))
	id, _, err := d.docker(ctx, nil, "image", "inspect", "--format", "{{.Id}}", "debian:bookworm")
	require.NoError(t, err, "debian:bookworm in the private dockerd")
	t.Logf("debian:bookworm in the private dockerd: %s", strings.TrimSpace(id))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, io.EOF) {
		return err.Error()
	}
	return lastLines(string(data), 40)
}
