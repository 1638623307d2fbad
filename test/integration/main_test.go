// Package integration runs inception against the real engine that make test
// starts: containerd, buildkitd, runc and the CNI plugins.
package integration

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	bkclient "github.com/moby/buildkit/client"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// env is the engine every test in this package shares: the default one, so
// the build cache that make build filled is reused.
type env struct {
	engine *engine.Engine
	cd     *containerd.Client
	bk     *bkclient.Client
}

var (
	envOnce sync.Once
	shared  *env
	envErr  error
)

func engineOptions() []engine.Option {
	var opts []engine.Option
	if v := os.Getenv("INCEPTION_ROOT"); v != "" {
		opts = append(opts, engine.WithRoot(v))
	}
	if v := os.Getenv("INCEPTION_RUN_DIR"); v != "" {
		opts = append(opts, engine.WithRunDir(v))
	}
	if v := os.Getenv("INCEPTION_BUILDKITD"); v != "" {
		opts = append(opts, engine.WithBuildkitdPath(v))
	}
	return opts
}

// setup starts the engine and makes the base image once per test binary.
func setup(t *testing.T) (context.Context, *env) {
	t.Helper()
	testutil.Integration(t)
	envOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		e, err := engine.New(engineOptions()...)
		if err != nil {
			envErr = err
			return
		}
		if err = e.Ensure(ctx); err != nil {
			envErr = err
			return
		}
		cd, err := containerd.New(e.ContainerdAddress(), containerd.WithDefaultNamespace(e.Namespace()))
		if err != nil {
			envErr = err
			return
		}
		nctx := namespaces.WithNamespace(ctx, e.Namespace())
		if _, err = base.Ensure(nctx, cd.ContentStore(), cd.ImageService(), base.WithLog(os.Stderr), base.WithTempDir(e.Root())); err != nil {
			envErr = fmt.Errorf("base: %w", err)
			return
		}
		bk, err := bkclient.New(ctx, e.BuildkitAddress())
		if err != nil {
			envErr = err
			return
		}
		shared = &env{engine: e, cd: cd, bk: bk}
	})
	require.NoError(t, envErr, "engine set-up")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	return namespaces.WithNamespace(ctx, shared.engine.Namespace()), shared
}

// buildServices builds the named services of the default stack.
func buildServices(ctx context.Context, t *testing.T, e *env, names ...string) build.Report {
	t.Helper()
	svcs, err := stack.Default().Select(names)
	require.NoError(t, err)
	targets, err := build.Targets(ctx, svcs, llbdefs.Recipes())
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithProgress(os.Stderr, "plain"))
	require.NoError(t, err)
	rep, err := b.Build(ctx, targets)
	require.NoError(t, err)
	return rep
}
