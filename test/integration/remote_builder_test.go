package integration

import (
	"errors"
	"os"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testbuildkitd"
	"github.com/inceptionctl/inception/internal/testregistry"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/registry"
	"github.com/inceptionctl/inception/pkg/stack"
)

// A builder that shares nothing with this machine (OCI worker, own state,
// TCP with mutual TLS) builds from the base in a registry, with the cache
// another builder exported there: every vertex comes from that cache. Its
// result is pushed, and the next build asks the registry whether it is up
// to date instead of the local store.
func TestRemoteBuilderRegistryCache(t *testing.T) {
	ctx, e := setup(t)
	reg := testregistry.Start(t)
	noCreds := registry.WithDockerConfig(t.TempDir())
	resolver, err := registry.NewResolver(noCreds)
	require.NoError(t, err)

	// The base, into the registry.
	baseImg, err := e.cd.ImageService().Get(ctx, "docker.io/library/debian:bookworm")
	require.NoError(t, err)
	baseRef := reg.Host + "/inception/debian:bookworm"
	require.NoError(t, e.cd.Push(ctx, baseRef, baseImg.Target, containerd.WithResolver(resolver)))

	svcs, err := stack.Default().Select([]string{"redis"})
	require.NoError(t, err)
	targets, err := build.Targets(ctx, svcs, llbdefs.Recipes(), llbdefs.WithBase(baseRef))
	require.NoError(t, err)
	cacheTo, err := build.ParseCache("type=registry,ref=" + reg.Host + "/inception/{service}:buildcache,mode=max")
	require.NoError(t, err)
	cacheFrom, err := build.ParseCache("type=registry,ref=" + reg.Host + "/inception/{service}:buildcache")
	require.NoError(t, err)

	// Builder A: the engine's own, exporting its cache to the registry.
	pushA, err := build.PushOutput(reg.Host+"/builder-a", "bookworm")
	require.NoError(t, err)
	a, err := build.New(e.bk, build.WithProgress(os.Stderr, "plain"), build.WithImageStore(e.cd.ImageService()),
		build.WithOutputs(pushA), build.WithCacheTo(cacheTo), build.WithDockerConfig(t.TempDir()))
	require.NoError(t, err)
	_, err = a.Build(ctx, targets)
	require.NoError(t, err)

	// Builder B: fresh, remote, reached the way a CI runner reaches it.
	bkd := testbuildkitd.Start(t)
	remote, err := engine.New(engine.WithRoot(t.TempDir()), engine.WithRunDir(t.TempDir()),
		engine.WithContainerdAddress(e.engine.ContainerdAddress()),
		engine.WithBuildkitAddress(bkd.Address), engine.WithBuildkitTLS(bkd.TLS))
	require.NoError(t, err)
	require.NoError(t, remote.Ensure(ctx), "the remote builder answers over mutual TLS")
	bk, err := remote.BuildkitClient(ctx)
	require.NoError(t, err)
	defer bk.Close()
	shares, err := remote.SharesStore(ctx, bk)
	require.NoError(t, err)
	assert.False(t, shares, "an OCI worker does not share the engine's store")

	pushB, err := build.PushOutput(reg.Host+"/builder-b", "bookworm")
	require.NoError(t, err)
	newB := func() *build.Builder {
		b, err := build.New(bk, build.WithProgress(os.Stderr, "plain"), build.WithoutStore(),
			build.WithRegistryCheck(resolver), build.WithOutputs(pushB), build.WithCacheFrom(cacheFrom),
			build.WithDockerConfig(t.TempDir()))
		require.NoError(t, err)
		return b
	}
	rep, err := newB().Build(ctx, targets)
	require.NoError(t, err)
	img := rep.Images[0]
	require.Positive(t, img.Vertices)
	assert.Equal(t, img.Vertices, img.Cached, "every vertex from builder A's cache; ran: %v", img.Ran)
	assert.False(t, img.UpToDate)
	_, desc, err := resolver.Resolve(ctx, reg.Host+"/builder-b/redis:bookworm")
	require.NoError(t, err)
	assert.Equal(t, img.Digest, desc.Digest.String(), "the registry holds what builder B built")

	again, err := newB().Build(ctx, targets)
	require.NoError(t, err)
	assert.True(t, again.Images[0].UpToDate, "the registry's image carries the build key")
	assert.Equal(t, img.Digest, again.Images[0].Digest)
}

// A builder nobody answers at: a clear error naming its address.
func TestRemoteBuilderUnreachable(t *testing.T) {
	ctx, e := setup(t)
	remote, err := engine.New(engine.WithRoot(t.TempDir()), engine.WithRunDir(t.TempDir()),
		engine.WithContainerdAddress(e.engine.ContainerdAddress()),
		engine.WithBuildkitAddress("tcp://127.0.0.1:1"))
	require.NoError(t, err)
	err = remote.Ensure(ctx)
	require.Error(t, err)
	assert.True(t, errors.Is(err, engine.ErrNotRunning), "%v", err)
	assert.Contains(t, err.Error(), "tcp://127.0.0.1:1")
}
