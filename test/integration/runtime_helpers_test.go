package integration

import (
	"context"
	_ "embed" // the test service script
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/util/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// The small images the runtime tests build and run: rtsvc, and the same
// with a health check in its image config, like an image that ships its own
// HEALTHCHECK. Services share them: they name them by reference.
const (
	rtRef       = "rtsvc:rt-test"
	rtHealthRef = "rtsvc-health:rt-test"
)

var (
	rtBuild       = &stack.Build{Recipe: "rtsvc"}
	rtHealthBuild = &stack.Build{Recipe: "rtsvc-health"}
)

// rtRecipes are the recipes of the runtime tests' images.
func rtRecipes() map[string]llbdefs.Recipe {
	return map[string]llbdefs.Recipe{
		"rtsvc": rtImage(nil),
		"rtsvc-health": rtImage(&dockerspec.HealthcheckConfig{Test: []string{"CMD-SHELL", "test -f /tmp/ready"},
			Interval: time.Second, StartPeriod: 20 * time.Second, StartInterval: 100 * time.Millisecond, Retries: 3}),
	}
}

// rtServiceScript is the one program of the runtime tests' services; its
// environment says what to do (serve ports, crash, become ready late).
//
//go:embed testdata/rtsvc.sh
var rtServiceScript []byte

// rtImage is a small test image: the Debian base plus rtsvc.sh in a layer of
// its own. health, when set, goes into the image config.
func rtImage(health *dockerspec.HealthcheckConfig) llbdefs.Recipe {
	return func(...llbdefs.Option) (llbdefs.Image, error) {
		layer := llb.Scratch().File(llb.Mkdir("/app", 0o755).Mkfile("/app/rtsvc", 0o755, rtServiceScript), llb.WithCustomName("rtsvc: script"))
		st := llb.Merge([]llb.State{llb.Image(base.DefaultRef, llb.ResolveModePreferLocal), layer}, llb.WithCustomName("rtsvc: merge"))
		var img dockerspec.DockerOCIImage
		img.Platform = ocispec.Platform{OS: "linux", Architecture: "amd64"}
		img.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}}
		img.Config.Env = []string{"PATH=" + system.DefaultPathEnvUnix}
		img.Config.Entrypoint = []string{"/app/rtsvc"}
		img.Config.WorkingDir = "/"
		img.Config.StopSignal = "SIGTERM"
		img.Config.Healthcheck = health
		return llbdefs.Image{Name: "rtsvc", State: st, Config: img}, nil
	}
}

// buildStack builds the images of a test stack, each image once.
func buildStack(ctx context.Context, t *testing.T, e *env, st stack.Stack) {
	t.Helper()
	var svcs []stack.Service
	seen := map[string]bool{}
	for _, s := range st.Services {
		if s.Build != nil && !seen[s.Image] {
			seen[s.Image] = true
			svcs = append(svcs, s)
		}
	}
	if len(svcs) == 0 {
		return // images by reference only, built by the test itself
	}
	targets, err := build.Targets(ctx, svcs, rtRecipes())
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithProgress(os.Stderr, "quiet"))
	require.NoError(t, err)
	_, err = b.Build(ctx, targets)
	require.NoError(t, err)
}

// rtEnv is a test stack with its runtime, data and secrets dirs.
type rtEnv struct {
	*env
	rt         *runtime.Runtime
	st         stack.Stack
	dataDir    string
	secretsDir string
}

// engineRuntime opens a runtime on the shared engine as the CLI does
// (cmd/inceptionctl/runtime.go), with the test binary as the supervisor and
// logger helper, and opts on top.
func engineRuntime(t *testing.T, e *env, opts ...runtime.Option) *runtime.Runtime {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	rt, err := runtime.New(e.cd, append([]runtime.Option{
		runtime.WithRoot(e.engine.Root()),
		runtime.WithRunDir(e.engine.RunDir()),
		runtime.WithContainerd(e.engine.ContainerdAddress(), e.engine.Namespace()),
		runtime.WithHelper(exe),
		runtime.WithProgress(testWriter{t}),
	}, opts...)...)
	require.NoError(t, err)
	return rt
}

// stackOptions are the runtime options of a stack's data and secrets
// directories, published address and network.
func stackOptions(dataDir, secretsDir, hostIP, subnet string) []runtime.Option {
	return []runtime.Option{
		runtime.WithDataDir(dataDir),
		runtime.WithSecretsDir(secretsDir),
		runtime.WithHostIP(hostIP),
		runtime.WithNetworkSubnet(subnet),
	}
}

// localDotenv is the .env of a stack of a test's own: its login, its data
// and secrets under dir, HTTPS on a free port of 127.0.0.1, and extra.
func localDotenv(t *testing.T, login, dir string, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"LOGIN":       login,
		"DATA_DIR":    filepath.Join(dir, "data"),
		"SECRETS_DIR": filepath.Join(dir, "secrets"),
		"HOST_IP":     "127.0.0.1",
		"HTTPS_PORT":  strconv.Itoa(freePort(t)),
	}
	maps.Copy(env, extra)
	return env
}

// newRuntime builds the stack's images and returns a runtime for it on the
// shared engine, with the test binary as helper. The stack is taken down
// (volumes too) when the test ends, and on failure the supervisor's log and
// the services' logs are printed.
func newRuntime(ctx context.Context, t *testing.T, e *env, st stack.Stack, subnet string, opts ...runtime.Option) *rtEnv {
	t.Helper()
	buildStack(ctx, t, e, st)
	r := &rtEnv{env: e, st: st, dataDir: t.TempDir(), secretsDir: t.TempDir()}
	r.rt = engineRuntime(t, e, append(stackOptions(r.dataDir, r.secretsDir, "127.0.0.1", subnet), opts...)...)
	// A run that crashed may have left the stack behind.
	require.NoError(t, r.rt.Down(ctx, st, runtime.DownOptions{}))
	t.Cleanup(func() {
		cctx := context.WithoutCancel(ctx)
		if t.Failed() {
			r.dumpLogs(cctx, t)
		}
		if err := r.rt.Down(cctx, st, runtime.DownOptions{Volumes: true}); err != nil {
			t.Errorf("down: %v", err)
		}
	})
	return r
}

func (r *rtEnv) dumpLogs(ctx context.Context, t *testing.T) {
	var b strings.Builder
	_ = r.rt.Logs(ctx, r.st.Name, runtime.LogsOptions{Tail: 30}, &b)
	t.Logf("service logs:\n%s", b.String())
	if data, err := os.ReadFile(filepath.Join(r.engine.Root(), "logs", "supervisor-"+r.st.Name+".log")); err == nil {
		lines := strings.Split(string(data), "\n")
		t.Logf("supervisor log (end):\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
	if s, err := r.state(); err == nil {
		for n, ss := range s.Services {
			t.Logf("state %s: %+v", n, *ss)
		}
	}
}

// state reads the stack's state file.
func (r *rtEnv) state() (*runtime.State, error) {
	data, err := os.ReadFile(filepath.Join(r.engine.Root(), "runtime", r.st.Name, "state.json"))
	if err != nil {
		return nil, err
	}
	var s runtime.State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// service returns a service's state (zero when it has none yet).
func (r *rtEnv) service(t *testing.T, name string) runtime.ServiceState {
	t.Helper()
	s, err := r.state()
	require.NoError(t, err)
	if ss := s.Services[name]; ss != nil {
		return *ss
	}
	return runtime.ServiceState{}
}

// waitFor polls cond until it holds or the test's patience ends.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exec runs a command in a service and returns its exit code and output.
func (r *rtEnv) exec(ctx context.Context, t *testing.T, svc string, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code, err := r.rt.Exec(ctx, r.st.Name, svc, runtime.ExecOptions{Args: args, Stdout: &out, Stderr: &out})
	require.NoError(t, err)
	return code, out.String()
}

// ps returns one service's line of ps.
func (r *rtEnv) ps(ctx context.Context, t *testing.T, svc string) runtime.ServiceReport {
	t.Helper()
	reps, err := r.rt.PS(ctx, r.st.Name)
	require.NoError(t, err)
	for _, rep := range reps {
		if rep.Service == svc {
			return rep
		}
	}
	t.Fatalf("ps has no %s", svc)
	return runtime.ServiceReport{}
}

// containerCount counts the containers of a stack in containerd.
func (r *rtEnv) containerCount(ctx context.Context, t *testing.T) int {
	t.Helper()
	cs, err := r.cd.Containers(ctx, `labels."`+runtime.LabelStack+`"==`+r.st.Name)
	if errdefs.IsNotFound(err) {
		return 0
	}
	require.NoError(t, err)
	return len(cs)
}

// testWriter sends the runtime's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
