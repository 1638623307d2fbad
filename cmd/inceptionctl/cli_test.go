package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
)

// run executes inceptionctl in process and returns stdout, stderr and the error.
func run(ctx context.Context, args ...string) (string, string, error) {
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// usageCase is a command line that must be refused with a usage error
// whose message contains want.
type usageCase struct {
	name string
	args []string
	want string
}

// checkUsageErrors runs each case with the engine's root and run dir in
// dir, and checks that it is refused with a usage error (exit 2) and that
// nothing was made in dir: refused before any daemon is contacted.
func checkUsageErrors(t *testing.T, dir string, tests []usageCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--root", dir, "--run-dir", dir}, tc.args...)
			_, _, err := run(context.Background(), args...)
			require.Error(t, err)
			var ue *usageError
			assert.True(t, errors.As(err, &ue), "want a usage error (exit 2), got %T: %v", err, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a refused command must leave nothing behind")
}

func TestUsageErrors(t *testing.T) {
	// Every one of these must be refused before any daemon is contacted:
	// the run dir points nowhere a daemon could be.
	dir := t.TempDir()
	tests := []usageCase{
		{"unknown service", []string{"build", "nosuch"}, `unknown service "nosuch": the stack has `},
		{"two unknown services", []string{"build", "nginx", "a", "b"}, `unknown service "a", "b"`},
		{"bad progress", []string{"build", "--progress", "fancy"}, "use auto, tty, plain, rawjson or quiet"},
		{"bad output type", []string{"build", "-o", "type=zip,dest=x"}, "use oci, docker, image or registry"},
		{"push without registry", []string{"build", "--push", "--registry", ""}, "nothing to push to"},
		{"push to a name without registry", []string{"build", "--push", "--registry", "inception"}, "names no registry"},
		{"registry output without name", []string{"build", "-o", "type=registry"}, "no name"},
		{"unknown image attribute", []string{"build", "-o", "type=registry,name=r.example.com/{service}:1,nope=1"}, "unknown image output attribute"},
		{"registry cache without ref", []string{"build", "--cache-to", "type=registry,mode=max"}, "no name"},
		{"bad cache mode", []string{"build", "--cache-from", "type=registry,ref=r.example.com/c:1,mode=all"}, "use min or max"},
		{"bad distro", []string{"build", "--distro", "arch"}, "use debian or alpine"},
		{"base push without registry", []string{"base", "--push", "debian:bookworm"}, "name the registry"},
		{"ssh builder", []string{"--buildkit-addr", "ssh://u@h", "build"}, `scheme "ssh" is not supported`},
		{"tcp builder without port", []string{"--buildkit-addr", "tcp://builder", "build"}, "give a host and a port"},
		{"tls on a unix builder", []string{"--buildkit-addr", "unix:///run/b.sock", "--tlscacert", "/etc/hostname", "build"}, "tcp:// addresses only"},
		{"tls without a builder", []string{"--tlsdir", "/nonexistent", "build"}, "without an external buildkitd"},
		{"output without dest", []string{"build", "-o", "type=oci"}, "add dest=FILE"},
		{"bad cache", []string{"build", "--cache-to", "type=local"}, "needs dest=DIR"},
		{"latest tag", []string{"build", "--tag", "latest"}, "other than latest"},
		{"bad format", []string{"build", "--format", "xml"}, "use table or json"},
		{"extra argument", []string{"engine", "stop", "now"}, "unknown command"},
		{"unknown flag", []string{"build", "--nope"}, "unknown flag"},
	}
	checkUsageErrors(t, dir, tests)
}

// TestUnreachableBuildkit: an external buildkitd that does not answer is
// reported with its address and what to check, quickly.
func TestUnreachableBuildkit(t *testing.T) {
	testutil.Integration(t)
	root := t.TempDir()
	runDir, err := os.MkdirTemp("/run", "inc-cli-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(runDir) })
	flags := []string{"--root", root, "--run-dir", runDir}
	if p := os.Getenv("INCEPTION_BUILDKITD"); p != "" {
		flags = append(flags, "--buildkitd", p)
	}
	t.Cleanup(func() {
		_, _, err := run(context.Background(), append(flags, "engine", "stop")...)
		assert.NoError(t, err)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	_, _, err = run(ctx, append(flags, "--buildkit-addr", "unix:///run/inception-nothing-here.sock", "build", "nginx")...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unix:///run/inception-nothing-here.sock")
	assert.Contains(t, err.Error(), "BUILDKIT_HOST")
	assert.Less(t, time.Since(start), time.Minute, "an unreachable address must not hang")
}

// sharedEngine is the engine make test uses (flags from the environment).
func sharedEngine(t *testing.T) *engine.Engine {
	t.Helper()
	g := &globalOptions{root: envOr("INCEPTION_ROOT", engine.DefaultRoot), runDir: envOr("INCEPTION_RUN_DIR", engine.DefaultRunDir),
		namespace: engine.DefaultNamespace, buildkitdPath: os.Getenv("INCEPTION_BUILDKITD")}
	e, err := g.engine()
	require.NoError(t, err)
	return e
}

// TestBaseBadMirrorKeepsImage: --force with a mirror that does not answer
// fails with advice and leaves the existing base image untouched.
func TestBaseBadMirrorKeepsImage(t *testing.T) {
	testutil.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	_, _, err := run(ctx, "base")
	require.NoError(t, err)
	e := sharedEngine(t)
	cd, err := containerd.New(e.ContainerdAddress(), containerd.WithDefaultNamespace(e.Namespace()))
	require.NoError(t, err)
	defer cd.Close()
	before, err := cd.ImageService().Get(ctx, base.DefaultRef)
	require.NoError(t, err)

	_, _, err = run(ctx, "base", "--force", "--apt-mirror", "http://127.0.0.1:9/debian")
	require.Error(t, err)
	assert.ErrorIs(t, err, base.ErrMirrorUnreachable)
	assert.Contains(t, err.Error(), "--apt-mirror")

	after, err := cd.ImageService().Get(ctx, base.DefaultRef)
	require.NoError(t, err)
	assert.Equal(t, before.Target.Digest, after.Target.Digest)
}

// TestBuildOutputsAndCache: tarball outputs and a local cache export, then a
// second build reports everything cached (JSON summary).
func TestBuildOutputsAndCache(t *testing.T) {
	testutil.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir := t.TempDir()
	ociTar := filepath.Join(dir, "nginx-oci.tar")
	dockerTar := filepath.Join(dir, "nginx-docker.tar")
	cacheDir := filepath.Join(dir, "cache")
	_, _, err := run(ctx, "build", "--progress", "quiet", "nginx",
		"-o", "type=oci,dest="+ociTar, "-o", "type=docker,dest="+dockerTar,
		"--cache-to", "type=local,dest="+cacheDir)
	require.NoError(t, err)
	assert.Contains(t, tarNames(t, ociTar), "index.json")
	assert.Contains(t, tarNames(t, ociTar), "oci-layout")
	assert.Contains(t, tarNames(t, dockerTar), "manifest.json")
	assert.FileExists(t, filepath.Join(cacheDir, "nginx", "index.json"), "local cache goes to one directory per image")
	assert.NoFileExists(t, ociTar+".partial")

	out, _, err := run(ctx, "build", "--progress", "quiet", "--format", "json", "nginx")
	require.NoError(t, err)
	var rep build.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Images, 1)
	assert.True(t, rep.Images[0].AllCached(), "ran: %v", rep.Images[0].Ran)
	assert.Equal(t, "docker.io/library/nginx:bookworm", rep.Images[0].Ref)
}

func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var names []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
	}
	return names
}

// TestAlpineWithoutRegistry: an Alpine build starts from a registry. Where
// none serves the Alpine base (these machines), the error says so and is
// not a usage error (exit 1).
func TestAlpineWithoutRegistry(t *testing.T) {
	testutil.Integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, _, err := run(ctx, "build", "--progress", "quiet", "--distro", "alpine", "redis")
	if err == nil {
		t.Log("this machine reaches a registry that serves the Alpine base: nothing to check")
		return
	}
	var ue *usageError
	assert.False(t, errors.As(err, &ue), "a pull failure is not a usage error: %v", err)
	assert.Contains(t, err.Error(), "the Alpine base image docker.io/library/alpine:3.23 could not be pulled")
	assert.Contains(t, err.Error(), "--distro debian")
}
