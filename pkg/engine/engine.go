package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/errdefs"
)

// Defaults of the embedded engine.
const (
	DefaultRoot      = "/var/lib/inception"
	DefaultRunDir    = "/run/inception"
	DefaultNamespace = "inception"
)

// maxSocketPath is the longest unix socket path Linux accepts: sun_path is
// 108 bytes including the terminating NUL.
const maxSocketPath = 107

// Engine is the pair of daemons inception builds and runs with. It holds
// configuration only: every method talks to the daemons afresh.
type Engine struct {
	cfg config
}

type config struct {
	root              string
	runDir            string
	namespace         string
	containerdAddress string // external containerd when set
	buildkitAddress   string // external buildkitd when set
	buildkitTLS       BuildkitTLS
	buildkitdPath     string
	containerdPath    string

	readyTimeout time.Duration // per daemon, in Ensure
	stopTimeout  time.Duration // SIGTERM grace, per daemon, in Stop
	proc         string        // the proc file system
}

// Option configures an Engine.
type Option func(*config)

// WithRoot sets the state directory (containerd root, buildkit root, logs).
func WithRoot(dir string) Option { return func(c *config) { c.root = dir } }

// WithRunDir sets the directory for sockets and pid files.
func WithRunDir(dir string) Option { return func(c *config) { c.runDir = dir } }

// WithNamespace sets the containerd namespace shared by the buildkit worker
// and the runtime.
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithContainerdAddress uses an existing containerd at addr (a socket path)
// instead of the embedded one. Empty keeps the embedded one.
func WithContainerdAddress(addr string) Option {
	return func(c *config) { c.containerdAddress = addr }
}

// WithBuildkitAddress uses an existing buildkitd at addr (unix://, tcp://)
// instead of the embedded one. Empty keeps the embedded one.
func WithBuildkitAddress(addr string) Option {
	return func(c *config) { c.buildkitAddress = addr }
}

// WithBuildkitdPath sets the buildkitd binary of the embedded engine. Empty
// means: next to the running executable, then $PATH.
func WithBuildkitdPath(path string) Option { return func(c *config) { c.buildkitdPath = path } }

// Status reports each daemon of the engine.
type Status struct {
	Containerd DaemonStatus `json:"containerd"`
	Buildkitd  DaemonStatus `json:"buildkitd"`
}

// DaemonStatus describes one daemon.
type DaemonStatus struct {
	Address  string `json:"address"`
	External bool   `json:"external"`          // not started by inception
	Running  bool   `json:"running"`           // answered on its socket
	PID      int    `json:"pid,omitempty"`     // embedded daemons only
	Version  string `json:"version,omitempty"` // as the daemon reports it
	Log      string `json:"log,omitempty"`     // embedded daemons only
	Error    string `json:"error,omitempty"`   // why it is not running
}

// New returns an Engine; defaults first, options next, validation last.
// It neither touches the file system nor looks for binaries: that waits for
// Ensure, so that status and stop work where buildkitd is not installed.
//
//	e, err := engine.New(engine.WithRoot("/var/lib/inception"))
func New(opts ...Option) (*Engine, error) {
	cfg := config{
		root:         DefaultRoot,
		runDir:       DefaultRunDir,
		namespace:    DefaultNamespace,
		readyTimeout: defaultReadyTimeout,
		stopTimeout:  defaultStopTimeout,
		proc:         procDir,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg}, nil
}

// validate checks and normalises the configuration. Errors wrap
// errdefs.ErrInvalidArgument.
func (c *config) validate() error {
	for _, d := range []struct{ flag, dir string }{{"root", c.root}, {"run dir", c.runDir}} {
		if !filepath.IsAbs(d.dir) {
			return fmt.Errorf("engine %s %q is not an absolute path: %w", d.flag, d.dir, errdefs.ErrInvalidArgument)
		}
	}
	c.root, c.runDir = filepath.Clean(c.root), filepath.Clean(c.runDir)
	if err := identifiers.Validate(c.namespace); err != nil {
		return fmt.Errorf("containerd namespace: %w", err)
	}
	if c.containerdAddress != "" {
		p, ok := unixPath(c.containerdAddress)
		if !ok || !filepath.IsAbs(p) {
			return fmt.Errorf("containerd address %q: want a socket path (/run/containerd/containerd.sock) or unix://path: %w",
				c.containerdAddress, errdefs.ErrInvalidArgument)
		}
		c.containerdAddress = p
	}
	if err := c.validateRemote(); err != nil {
		return err
	}
	// The longest socket each embedded daemon creates in the run dir.
	var longest []string
	if c.containerdAddress == "" {
		longest = append(longest, filepath.Join(c.runDir, "containerd.sock.ttrpc"))
	}
	if c.buildkitAddress == "" {
		longest = append(longest, filepath.Join(c.runDir, "buildkitd.sock"))
	}
	for _, s := range longest {
		if len(s) > maxSocketPath {
			return fmt.Errorf("socket path %s is longer than %d bytes; use a shorter run dir: %w", s, maxSocketPath, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// ContainerdAddress is the containerd socket path to dial.
func (e *Engine) ContainerdAddress() string {
	if e.cfg.containerdAddress != "" {
		return e.cfg.containerdAddress
	}
	return filepath.Join(e.cfg.runDir, "containerd.sock")
}

// BuildkitAddress is the buildkitd address to dial (unix://... or tcp://...).
func (e *Engine) BuildkitAddress() string {
	if e.cfg.buildkitAddress != "" {
		return e.cfg.buildkitAddress
	}
	return "unix://" + filepath.Join(e.cfg.runDir, "buildkitd.sock")
}

// Namespace is the containerd namespace for images and containers.
func (e *Engine) Namespace() string { return e.cfg.namespace }

// Root is the state directory.
func (e *Engine) Root() string { return e.cfg.root }

func (e *Engine) containerdExternal() bool { return e.cfg.containerdAddress != "" }
func (e *Engine) buildkitExternal() bool   { return e.cfg.buildkitAddress != "" }

// Ensure starts whatever embedded daemon is not running and waits until
// every daemon the engine uses answers. Safe to call repeatedly.
//
// containerd comes first: the buildkit worker connects to it at start.
// External daemons are never started, only asked; when one does not answer
// the error wraps ErrNotRunning and names its address.
func (e *Engine) Ensure(ctx context.Context) error {
	if !e.containerdExternal() || !e.buildkitExternal() {
		unlock, err := lockRunDir(ctx, e.cfg.runDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if e.containerdExternal() {
		if err := e.checkExternal(ctx, "containerd", e.ContainerdAddress(), "--containerd-address or CONTAINERD_ADDRESS", containerdVersion); err != nil {
			return err
		}
	} else if err := e.containerdDaemon().ensure(ctx, e.cfg.proc, e.cfg.readyTimeout); err != nil {
		return err
	}
	if e.buildkitExternal() {
		return e.checkExternal(ctx, "buildkitd", e.BuildkitAddress(), "--buildkit-addr or BUILDKIT_HOST", e.externalBuildkitVersion)
	}
	return e.buildkitdDaemon().ensure(ctx, e.cfg.proc, e.cfg.readyTimeout)
}

// EnsureContainerd is Ensure for containerd alone: what needs no build
// (the base image, the content store) can start before buildkitd is
// installed. Safe to call repeatedly, and before or after Ensure.
func (e *Engine) EnsureContainerd(ctx context.Context) error {
	if e.containerdExternal() {
		return e.checkExternal(ctx, "containerd", e.ContainerdAddress(), "--containerd-address or CONTAINERD_ADDRESS", containerdVersion)
	}
	unlock, err := lockRunDir(ctx, e.cfg.runDir)
	if err != nil {
		return err
	}
	defer unlock()
	return e.containerdDaemon().ensure(ctx, e.cfg.proc, e.cfg.readyTimeout)
}

// checkExternal asks an external daemon once, within probeTimeout.
func (e *Engine) checkExternal(ctx context.Context, name, address, setting string, version func(context.Context, string) (string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if _, err := version(ctx, address); err != nil {
		return fmt.Errorf("%w: external %s at %s does not answer; check that it runs and that %s points at it: %w",
			ErrNotRunning, name, address, setting, err)
	}
	return nil
}

// Stop stops the embedded daemons gracefully (SIGTERM, grace, SIGKILL) and
// removes their sockets and pid files. External daemons are left alone.
//
// buildkitd goes first, so no build is cut off from its containerd. Only the
// daemons are signalled: containerd's shims, and the containers they run,
// survive, and the next containerd picks them up again. Stopping a stopped
// engine is not an error.
func (e *Engine) Stop(ctx context.Context) error {
	if e.containerdExternal() && e.buildkitExternal() {
		return nil
	}
	if !dirExists(e.cfg.runDir) {
		return nil // never started
	}
	unlock, err := lockRunDir(ctx, e.cfg.runDir)
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	if !e.buildkitExternal() {
		errs = append(errs, e.buildkitdDaemon().stop(ctx, e.cfg.proc, e.cfg.stopTimeout))
	}
	if !e.containerdExternal() {
		errs = append(errs, e.containerdDaemon().stop(ctx, e.cfg.proc, e.cfg.stopTimeout))
	}
	return errors.Join(errs...)
}

// Status asks each daemon whether it answers. A daemon that does not is
// reported in its DaemonStatus, not as an error: the error is for a
// cancelled ctx only.
func (e *Engine) Status(ctx context.Context) (Status, error) {
	var s Status
	if e.containerdExternal() {
		s.Containerd = externalStatus(ctx, e.ContainerdAddress(), containerdVersion)
	} else {
		s.Containerd = e.containerdDaemon().status(ctx, e.cfg.proc, e.ContainerdAddress())
	}
	if e.buildkitExternal() {
		s.Buildkitd = externalStatus(ctx, e.BuildkitAddress(), e.externalBuildkitVersion)
	} else {
		s.Buildkitd = e.buildkitdDaemon().status(ctx, e.cfg.proc, e.BuildkitAddress())
	}
	return s, ctx.Err()
}

func externalStatus(ctx context.Context, address string, version func(context.Context, string) (string, error)) DaemonStatus {
	ds := DaemonStatus{Address: address, External: true}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	v, err := version(ctx, address)
	if err != nil {
		ds.Error = strings.TrimSpace(err.Error())
		return ds
	}
	ds.Running, ds.Version = true, v
	return ds
}
