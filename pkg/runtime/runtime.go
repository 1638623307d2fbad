package runtime

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"

	"github.com/inceptionctl/inception/pkg/stack"
)

// Defaults of the runtime.
const (
	DefaultHostIP      = "0.0.0.0"
	DefaultTag         = stack.DefaultTag
	DefaultSnapshotter = "overlayfs"
	DefaultStopGrace   = 10 * time.Second
)

// Runtime runs stacks on one containerd. It holds configuration and a
// client only: what runs is read back from containerd, the container labels
// and the state file each time, so several inceptionctl processes and the
// supervisor can act on one stack.
type Runtime struct {
	cd  *containerd.Client
	cfg config

	unpackMu sync.Mutex // see unpack
}

type config struct {
	root              string // engine root: state under <root>/runtime, logs under <root>/logs
	runDir            string // network namespaces, secrets, supervisor pid files
	containerdAddress string // for the supervisor
	namespace         string // containerd namespace
	helper            string // inceptionctl (or a test binary) that implements supervise and logger
	dataDir           string
	secretsDir        string
	hostIP            string
	subnet            string
	cniBinDirs        []string
	puller            ImagePuller
	snapshotter       string
	log               io.Writer
}

// Option configures a Runtime.
type Option func(*config)

// WithRoot sets the engine's state directory; the runtime keeps its files
// under <root>/runtime and <root>/logs.
func WithRoot(dir string) Option { return func(c *config) { c.root = dir } }

// WithRunDir sets the engine's run directory (tmpfs): network namespaces,
// secrets and supervisor pid files live under it.
func WithRunDir(dir string) Option { return func(c *config) { c.runDir = dir } }

// WithContainerd names containerd's socket and namespace, which the
// supervisor process connects to.
func WithContainerd(address, namespace string) Option {
	return func(c *config) { c.containerdAddress, c.namespace = address, namespace }
}

// WithHelper names the program the runtime runs as its supervisor and log
// shipper: one that calls HelperMain first in main. Without it, a program
// that called HelperMain is its own helper (os.Executable); a program that
// did neither gets ErrNoHelper from Up and Start.
func WithHelper(path string) Option { return func(c *config) { c.helper = path } }

// WithDataDir sets where named volumes live: <dir>/<volume>.
func WithDataDir(dir string) Option { return func(c *config) { c.dataDir = dir } }

// WithSecretsDir sets where secret files are read from: <dir>/<secret>.
func WithSecretsDir(dir string) Option { return func(c *config) { c.secretsDir = dir } }

// WithHostIP sets the host address ports are published on when a port does
// not name one.
func WithHostIP(ip string) Option { return func(c *config) { c.hostIP = ip } }

// WithNetworkSubnet sets the stack network's IPv4 subnet; by default each
// project has its own (ProjectSubnet).
func WithNetworkSubnet(cidr string) Option { return func(c *config) { c.subnet = cidr } }

// WithCNIPluginDirs sets where the CNI plugins are found.
func WithCNIPluginDirs(dirs ...string) Option { return func(c *config) { c.cniBinDirs = dirs } }

// WithImagePuller makes the runtime fetch an image a service names that
// is not in the engine's image store; without one, such a service fails
// with ErrImageMissing.
func WithImagePuller(p ImagePuller) Option { return func(c *config) { c.puller = p } }

// WithProgress makes the runtime say what it does on w.
func WithProgress(w io.Writer) Option { return func(c *config) { c.log = w } }

// DefaultDataDir is /home/<login>/data, the login taken from $LOGIN, else
// $SUDO_USER, else $USER, else root.
func DefaultDataDir() string {
	login := "root"
	for _, k := range []string{"LOGIN", "SUDO_USER", "USER"} {
		if v := os.Getenv(k); v != "" {
			login = v
			break
		}
	}
	return filepath.Join("/home", login, "data")
}

// New returns a Runtime on the containerd client cd, whose default
// namespace must be the engine's.
//
//	rt, err := runtime.New(cd, runtime.WithRoot(e.Root()), runtime.WithRunDir(e.RunDir()),
//		runtime.WithContainerd(e.ContainerdAddress(), e.Namespace()))
func New(cd *containerd.Client, opts ...Option) (*Runtime, error) {
	c := config{
		root:        "/var/lib/inception",
		runDir:      "/run/inception",
		namespace:   "inception",
		dataDir:     DefaultDataDir(),
		secretsDir:  "secrets",
		hostIP:      DefaultHostIP,
		cniBinDirs:  []string{DefaultCNIBin},
		snapshotter: DefaultSnapshotter,
		log:         io.Discard,
	}
	for _, o := range opts {
		o(&c)
	}
	if cd == nil {
		return nil, errors.New("runtime: no containerd client: start the engine with `inceptionctl engine start`")
	}
	if c.helper == "" && helperMainCalled.Load() {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("runtime: find this program to run as the helper: %w", err)
		}
		c.helper = exe
	}
	var errs []error
	for _, d := range []struct{ name, dir string }{{"root", c.root}, {"run dir", c.runDir}} {
		if !filepath.IsAbs(d.dir) {
			errs = append(errs, fmt.Errorf("runtime %s %q is not an absolute path", d.name, d.dir))
		}
	}
	for _, d := range []*string{&c.dataDir, &c.secretsDir} {
		abs, err := filepath.Abs(*d)
		if err != nil {
			errs = append(errs, err)
		}
		*d = abs
	}
	if c.helper != "" && !filepath.IsAbs(c.helper) {
		errs = append(errs, fmt.Errorf("runtime helper %q is not an absolute path", c.helper))
	}
	if ip := net.ParseIP(c.hostIP); ip == nil || ip.To4() == nil {
		errs = append(errs, fmt.Errorf("host address %q: give an IPv4 address such as 127.0.0.1", c.hostIP))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", errdefs.ErrInvalidArgument, err)
	}
	return &Runtime{cd: cd, cfg: c}, nil
}

// Client is the containerd client the runtime uses.
func (r *Runtime) Client() *containerd.Client { return r.cd }

// paths of one stack's files.
type paths struct {
	root, runDir, stack string
}

func (r *Runtime) paths(stackName string) paths {
	return paths{root: r.cfg.root, runDir: r.cfg.runDir, stack: stackName}
}

// stateDir holds the state file, and one directory per service.
func (p paths) stateDir() string { return filepath.Join(p.root, "runtime", p.stack) }

// serviceDir holds a service's generated /etc files and its logs.
func (p paths) serviceDir(svc string) string { return filepath.Join(p.stateDir(), svc) }

func (p paths) logPath(svc string) string { return filepath.Join(p.serviceDir(svc), "container.log") }

// netnsPath is the bind mount that keeps a service's network namespace
// alive between its tasks.
func (p paths) netnsPath(svc string) string { return filepath.Join(p.netnsDir(), svc) }

// netnsDir holds the project's network namespaces, and nothing else.
func (p paths) netnsDir() string { return projectDir(p.runDir, "netns", p.stack) }

// legacyNetnsPath is where a runtime before per-project directories kept a
// service's namespace; down removes it by its exact name.
func (p paths) legacyNetnsPath(svc string) string {
	return filepath.Join(p.runDir, "netns", p.stack+"-"+svc)
}

// secretsDir holds a service's secret files (tmpfs: the run dir).
func (p paths) secretsDir(svc string) string { return filepath.Join(p.secretsRoot(), svc) }

func (p paths) secretsRoot() string { return projectDir(p.runDir, "secrets", p.stack) }

// probeDir holds the output files of health checks while they run (tmpfs).
func (p paths) probeDir(svc string) string { return filepath.Join(p.probesRoot(), svc) }

func (p paths) probesRoot() string { return projectDir(p.runDir, "probes", p.stack) }

func (p paths) cniStateDir() string { return filepath.Join(p.root, "cni") }

func (p paths) supervisorPID() string {
	return filepath.Join(p.runDir, "supervisor-"+p.stack+".pid")
}

func (p paths) supervisorLock() string {
	return filepath.Join(p.runDir, "supervisor-"+p.stack+".lock")
}

func (p paths) supervisorLog() string {
	return filepath.Join(p.root, "logs", "supervisor-"+p.stack+".log")
}

func (p paths) store() stateStore { return stateStore{dir: p.stateDir()} }

// subnet is the stack's subnet: the one given, else the project's own.
func (r *Runtime) subnet(stackName string) string {
	if r.cfg.subnet != "" {
		return r.cfg.subnet
	}
	return ProjectSubnet(stackName)
}

// network returns the stack's network.
func (r *Runtime) network(stackName string) (*Network, error) {
	return NewNetwork(stackName,
		WithSubnet(r.subnet(stackName)),
		WithStateDir(r.paths(stackName).cniStateDir()),
		WithCNIBinDirs(r.cfg.cniBinDirs...))
}

func (r *Runtime) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.log, format+"\n", args...)
}

// quote joins names for messages.
func quote(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
