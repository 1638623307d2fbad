package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testregistry"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/registry"
	"github.com/inceptionctl/inception/pkg/stack"
)

// Every image of the stack is pushed in the solve that stores it, and what
// comes back from the registry is what was built: same manifest digests in
// the engine's store, in the solve's answer, in the metadata file and in a
// fresh pull.
func TestRegistryPushPull(t *testing.T) {
	ctx, e := setup(t)
	reg := testregistry.Start(t)
	targets, err := build.Targets(ctx, stack.Default().Services, llbdefs.Recipes())
	require.NoError(t, err)
	push, err := build.PushOutput(reg.Host+"/inception", "bookworm")
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithProgress(os.Stderr, "plain"), build.WithImageStore(e.cd.ImageService()),
		build.WithOutputs(push), build.WithDockerConfig(t.TempDir()))
	require.NoError(t, err)
	rep, err := b.Build(ctx, targets)
	require.NoError(t, err)
	require.Len(t, rep.Images, 7)

	meta := filepath.Join(t.TempDir(), "metadata.json")
	require.NoError(t, rep.WriteMetadata(meta))
	var md map[string]map[string]any
	dt, err := os.ReadFile(meta)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(dt, &md))

	resolver, err := registry.NewResolver(registry.WithDockerConfig(t.TempDir()))
	require.NoError(t, err)
	for _, img := range rep.Images {
		ref := reg.Host + "/inception/" + img.Service + ":bookworm"
		assert.Equal(t, ref, img.Pushed)
		require.NotEmpty(t, img.Digest, img.Service)
		require.NotNil(t, img.Descriptor, img.Service)
		assert.Equal(t, img.Digest, img.Descriptor.Digest.String())

		local, err := e.cd.ImageService().Get(ctx, img.Ref)
		require.NoError(t, err)
		assert.Equal(t, img.Digest, local.Target.Digest.String(), "%s: the store holds what was pushed", img.Service)
		_, err = e.cd.ImageService().Get(ctx, ref)
		assert.True(t, errdefs.IsNotFound(err), "%s: the pushed name is the registry's, not a tag in the store: %v", img.Service, err)

		m := md[img.Service]
		assert.Equal(t, img.Digest, m["containerimage.digest"], img.Service)
		assert.Equal(t, ref, m["image.name"], img.Service)
		assert.NotEmpty(t, m["containerimage.descriptor"], img.Service)

		pulled, err := e.cd.Pull(ctx, ref, containerd.WithResolver(resolver))
		require.NoError(t, err, img.Service)
		assert.Equal(t, img.Digest, pulled.Target().Digest.String(), "%s: the registry gives back what was built", img.Service)
		require.NoError(t, e.cd.ImageService().Delete(ctx, ref))
	}
}

// A push with credentials the registry refuses fails with an error that
// names the registry and what it answered, and leaves no tag behind, in the
// registry or in the store.
func TestRegistryPushBadCredentials(t *testing.T) {
	ctx, e := setup(t)
	reg := testregistry.Start(t, testregistry.WithAuth("ci", "right"))
	targets, err := build.Targets(ctx, mustSelect(t, "redis"), llbdefs.Recipes())
	require.NoError(t, err)
	push, err := build.PushOutput(reg.Host+"/inception", "bookworm")
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithProgress(os.Stderr, "plain"), build.WithImageStore(e.cd.ImageService()),
		build.WithOutputs(push), build.WithDockerConfig(reg.DockerConfig(t, "ci", "wrong")))
	require.NoError(t, err)
	_, err = b.Build(ctx, targets)
	require.Error(t, err)
	var pe *build.PushError
	require.ErrorAs(t, err, &pe)
	assert.Contains(t, err.Error(), reg.Host)
	assert.Contains(t, err.Error(), "401 Unauthorized")

	req, err := http.NewRequest(http.MethodGet, reg.URL()+"/v2/inception/redis/tags/list", nil)
	require.NoError(t, err)
	req.SetBasicAuth("ci", "right")
	resp, err := reg.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "no repository, no tag")
	_, err = e.cd.ImageService().Get(ctx, reg.Host+"/inception/redis:bookworm")
	assert.True(t, errdefs.IsNotFound(err), "no tag in the store: %v", err)
}

// A registry nobody listens on: the push fails naming it.
func TestRegistryUnreachable(t *testing.T) {
	ctx, e := setup(t)
	targets, err := build.Targets(ctx, mustSelect(t, "redis"), llbdefs.Recipes())
	require.NoError(t, err)
	push, err := build.PushOutput("127.0.0.1:1/inception", "bookworm")
	require.NoError(t, err)
	b, err := build.New(e.bk, build.WithImageStore(e.cd.ImageService()), build.WithOutputs(push), build.WithDockerConfig(t.TempDir()))
	require.NoError(t, err)
	_, err = b.Build(ctx, targets)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "127.0.0.1:1")
	assert.Contains(t, err.Error(), "connection refused")
}

// The base goes to a TLS registry with a private CA (trusted through the
// engine's certs.d) and credentials from the docker config.
func TestRegistryBasePushTLS(t *testing.T) {
	ctx, e := setup(t)
	reg := testregistry.Start(t, testregistry.WithTLS(), testregistry.WithAuth("ci", "s3cret"))
	certs := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(certs, reg.Host), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(certs, reg.Host, "ca.crt"), reg.CA.CertPEM, 0o644))
	base, err := e.cd.ImageService().Get(ctx, "docker.io/library/debian:bookworm")
	require.NoError(t, err)
	ref := reg.Host + "/inception/debian:bookworm"

	bad, err := registry.NewResolver(registry.WithDockerConfig(reg.DockerConfig(t, "ci", "wrong")), registry.WithCertsDir(certs))
	require.NoError(t, err)
	err = e.cd.Push(ctx, ref, base.Target, containerd.WithResolver(bad))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "401")

	good, err := registry.NewResolver(registry.WithDockerConfig(reg.DockerConfig(t, "ci", "s3cret")), registry.WithCertsDir(certs))
	require.NoError(t, err)
	require.NoError(t, e.cd.Push(ctx, ref, base.Target, containerd.WithResolver(good)))
	_, desc, err := good.Resolve(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, base.Target.Digest, desc.Digest)

}

func mustSelect(t *testing.T, names ...string) []stack.Service {
	t.Helper()
	svcs, err := stack.Default().Select(names)
	require.NoError(t, err)
	return svcs
}
