package dockerpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrMissing is returned by Find when docker.io or the compose plugin is
// not installed.
var ErrMissing = errors.New("docker peer not installed")

// The binaries of Debian's docker.io: never another docker on PATH.
const (
	DockerBin  = "/usr/bin/docker"
	DockerdBin = "/usr/sbin/dockerd"
)

// Tools are the peer's programs: Debian's docker CLI and dockerd, and
// the private DOCKER_CONFIG whose cli-plugins hold docker compose.
type Tools struct {
	Docker  string
	Dockerd string
	Config  string
}

// ComposePlugin is the compose plugin's path under the config directory.
func (t Tools) ComposePlugin() string {
	return filepath.Join(t.Config, "cli-plugins", "docker-compose")
}

// Find checks that docker.io and the compose plugin in config (the
// DOCKER_CONFIG directory `make docker-peer` fills, bin/docker-config)
// are installed; ErrMissing names what is not.
//
//	tools, err := dockerpeer.Find("bin/docker-config")
func Find(config string) (Tools, error) {
	t := Tools{Docker: DockerBin, Dockerd: DockerdBin, Config: config}
	if config == "" {
		return Tools{}, fmt.Errorf("%w: no docker config directory: give the one `make docker-peer` fills (bin/docker-config)", ErrMissing)
	}
	var missing []string
	for _, p := range []string{t.Docker, t.Dockerd, t.ComposePlugin()} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return Tools{}, fmt.Errorf("%w: %s missing: run `make docker-peer` (Debian's docker.io, no daemon started, and docker compose v2 in bin/docker-config)",
			ErrMissing, strings.Join(missing, ", "))
	}
	return t, nil
}

// Option configures Start.
type Option func(*config)

type config struct {
	bridge, bip, pool string
	runDir            string
	startTimeout      time.Duration
}

// WithBridge gives dockerd the bridge name (made when missing, with
// address bip, e.g. 10.215.0.1/24) and the address pool of the networks
// docker compose makes (e.g. base=10.216.0.0/16,size=24). Pick ones no
// other daemon on the host uses: names and addresses are host-wide.
func WithBridge(name, bip, pool string) Option {
	return func(c *config) { c.bridge, c.bip, c.pool = name, bip, pool }
}

// WithRunDir puts the socket, exec root, pid file and log in dir instead
// of the directory Start is given, which keeps the data root.
func WithRunDir(dir string) Option { return func(c *config) { c.runDir = dir } }

// WithStartTimeout bounds the wait for dockerd to answer (default 60 s).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// Daemon is a running private dockerd.
type Daemon struct {
	tools   Tools
	dir     string
	host    string // unix://…/docker.sock
	bridge  string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when dockerd has exited, exitErr set
	exitErr error
	log     *os.File
	api     *http.Client
	stopped bool
}

// Start runs dockerd with everything it keeps in dir: docker.sock,
// data/ (images, build cache, volumes), exec/, dockerd.pid, dockerd.log
// (all but data/ in WithRunDir's directory, when given).
// It returns once dockerd answers on its socket. dir is kept: the next
// Start finds the images and the build cache there.
//
//	d, err := dockerpeer.Start(ctx, tools, "/var/lib/inception/bench-compose", dockerpeer.WithBridge(...))
func Start(ctx context.Context, tools Tools, dir string, opts ...Option) (*Daemon, error) {
	c := config{startTimeout: 60 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.bridge == "" || c.bip == "" || c.pool == "":
		return nil, errors.New("dockerd: no bridge: give dockerpeer.WithBridge a name, an address and a pool no other daemon uses")
	case !filepath.IsAbs(dir):
		return nil, fmt.Errorf("dockerd directory %q: give an absolute path", dir)
	}
	run := dir
	if c.runDir != "" {
		run = c.runDir
	}
	sock := filepath.Join(run, "docker.sock")
	d := &Daemon{tools: tools, dir: dir, host: "unix://" + sock, bridge: c.bridge, exited: make(chan struct{})}
	d.api = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dl net.Dialer
			return dl.DialContext(ctx, "unix", sock)
		},
	}}
	for _, p := range []string{dir, run} {
		if err := os.MkdirAll(p, 0o711); err != nil {
			return nil, fmt.Errorf("dockerd directory: %w", err)
		}
	}
	stopStale(filepath.Join(run, "dockerd.pid"))
	if err := ensureBridge(c.bridge, c.bip); err != nil {
		return nil, err
	}
	// Containers and RUN steps reach Debian's mirror through the bridge:
	// forwarding on, as the project's CNI bridge turns it on. dockerd is
	// told not to: when it does, it also sets the FORWARD policy to DROP,
	// which would cut the project's own stacks off.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		return nil, fmt.Errorf("turn IPv4 forwarding on: %w", err)
	}
	logPath := filepath.Join(run, "dockerd.log")
	var err error
	if d.log, err = os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err != nil {
		return nil, fmt.Errorf("dockerd log: %w", err)
	}
	d.cmd = exec.Command(tools.Dockerd,
		"--host", d.host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(run, "exec"),
		"--pidfile", filepath.Join(run, "dockerd.pid"),
		"--bridge", c.bridge,
		"--default-address-pool", c.pool,
		"--ip-forward=false",
		"--iptables=true",
		"--userland-proxy=false",
		"--storage-driver", "overlay2",
		"--log-level", "warn",
	)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	// Its own process group, so that a Ctrl-C reaches it through Stop,
	// which lets it stop its containers. No Pdeathsig: it fires when the
	// OS thread that started dockerd exits, and Go ends threads that a
	// goroutine locked (pkg/runtime does, for network namespaces); a
	// dockerd left by a crash is stopped by the next Start (stopStale).
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		d.log.Close()
		removeBridge(c.bridge)
		return nil, fmt.Errorf("start dockerd: %w", err)
	}
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()

	deadline := time.Now().Add(c.startTimeout)
	for {
		if err := d.ping(ctx); err == nil {
			return d, nil
		}
		select {
		case <-d.exited:
			_ = d.Stop()
			return nil, fmt.Errorf("dockerd exited (%w); its log, %s:\n%s", d.exitErr, logPath, Tail(logPath, 30))
		case <-ctx.Done():
			_ = d.Stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = d.Stop()
			return nil, fmt.Errorf("dockerd did not answer on %s in %v; its log, %s:\n%s", d.host, c.startTimeout, logPath, Tail(logPath, 30))
		}
	}
}

// Host is DOCKER_HOST for the private dockerd.
func (d *Daemon) Host() string { return d.host }

// Dir is the directory Start was given.
func (d *Daemon) Dir() string { return d.dir }

// Stop stops dockerd (SIGTERM: it stops its containers and its
// containerd; SIGKILL after 60 s) and removes the bridge. Safe to call
// again.
func (d *Daemon) Stop() error {
	if d.stopped {
		return nil
	}
	d.stopped = true
	var err error
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(60 * time.Second):
			_ = d.cmd.Process.Kill()
			<-d.exited
			err = errors.New("dockerd did not stop in 60 s after SIGTERM: killed")
		}
	}
	if d.log != nil {
		d.log.Close()
	}
	removeBridge(d.bridge)
	return err
}

// Env is the environment of the private dockerd's clients, on top of
// extra: the host's DOCKER_* and COMPOSE_* variables left out.
func (d *Daemon) Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "COMPOSE_") {
			env = append(env, kv)
		}
	}
	// The compose plugin's own builder (BuildKit through dockerd's API);
	// bake would need a buildx plugin this set-up does not have.
	env = append(env, "DOCKER_HOST="+d.host, "DOCKER_CONFIG="+d.tools.Config, "DOCKER_BUILDKIT=1", "COMPOSE_BAKE=false")
	return append(env, extra...)
}

// Command is the docker CLI with args against the private dockerd, env
// added to its environment (see Env); the caller runs it.
func (d *Daemon) Command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.tools.Docker, args...)
	cmd.Env = d.Env(env...)
	return cmd
}

// Docker runs the docker CLI with args and returns its stdout and
// stderr; an error carries the last lines of stderr.
//
//	out, _, err := d.Docker(ctx, nil, "image", "ls")
func (d *Daemon) Docker(ctx context.Context, env []string, args ...string) (stdout, stderr string, err error) {
	cmd := d.Command(ctx, env, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		return o.String(), e.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, LastLines(e.String(), 40))
	}
	return o.String(), e.String(), nil
}

// stopStale stops a private dockerd that a crashed run left behind: its
// pid file names it, and the process must be dockerd.
func stopStale(pidfile string) {
	data, err := os.ReadFile(pidfile)
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
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for range 600 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// ensureBridge makes the bridge when missing; dockerd uses a bridge it is
// given as it is.
func ensureBridge(name, bip string) error {
	if _, err := net.InterfaceByName(name); err == nil {
		return nil
	}
	for _, args := range [][]string{
		{"link", "add", "name", name, "type", "bridge"},
		{"addr", "add", bip, "dev", name},
		{"link", "set", name, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			removeBridge(name)
			return fmt.Errorf("bridge %s for dockerd: ip %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	return nil
}

func removeBridge(name string) {
	if _, err := net.InterfaceByName(name); err == nil {
		_ = exec.Command("ip", "link", "del", name).Run()
	}
}

// LastLines is the last n lines of s.
func LastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Tail is the last n lines of the file at path, or why it cannot be read.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return LastLines(string(data), n)
}

// drain reads and closes a response body, so that its connection is
// reused.
func drain(r io.ReadCloser) {
	_, _ = io.Copy(io.Discard, r)
	r.Close()
}
