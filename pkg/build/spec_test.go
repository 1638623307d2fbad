package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/metadata"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Output
		err  string
	}{
		{name: "oci", in: "type=oci,dest=/tmp/x.tar", want: Output{Type: "oci", Dest: "/tmp/x.tar"}},
		{name: "docker", in: "type=docker,dest=out/{service}.tar", want: Output{Type: "docker", Dest: "out/{service}.tar"}},
		{name: "no type", in: "dest=x", err: "has no type"},
		{name: "no dest", in: "type=oci", err: "has no dest"},
		{name: "unknown type", in: "type=tar,dest=x", err: "not supported"},
		{name: "registry is a push", in: "type=registry,name=reg.example.com/ns/{service}:bookworm",
			want: Output{Type: "image", Name: "reg.example.com/ns/{service}:bookworm", Attrs: map[string]string{"push": "true", "store": "false"}}},
		{name: "image push with insecure", in: "type=image,name=127.0.0.1:5000/ns/{service}:t,push=true,registry.insecure=true",
			want: Output{Type: "image", Name: "127.0.0.1:5000/ns/{service}:t", Attrs: map[string]string{"push": "true", "store": "false", "registry.insecure": "true"}}},
		{name: "image stored only", in: "type=image,name=localhost/{service}:t",
			want: Output{Type: "image", Name: "localhost/{service}:t", Attrs: map[string]string{}}},
		{name: "quoted names", in: `type=registry,"name=r.example.com/a/{service}:1,r.example.com/b/{service}:1"`,
			want: Output{Type: "image", Name: "r.example.com/a/{service}:1,r.example.com/b/{service}:1", Attrs: map[string]string{"push": "true", "store": "false"}}},
		{name: "registry without push", in: "type=registry,name=r.example.com/x:1,push=false", err: "always pushes"},
		{name: "image without name", in: "type=image,push=true", err: "no name"},
		{name: "name without registry", in: "type=registry,name=inception/{service}:1", err: "names no registry"},
		{name: "bad reference", in: "type=registry,name=r.example.com/UPPER:1", err: "UPPER"},
		{name: "unknown image attribute", in: "type=registry,name=r.example.com/x:1,dest=x", err: "unknown image output attribute"},
		{name: "bad boolean", in: "type=registry,name=r.example.com/x:1,registry.insecure=yes", err: "true or false"},
		{name: "unknown attribute", in: "type=oci,dest=x,push=true", err: "unknown output attribute"},
		{name: "not key=value", in: "oci", err: "key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOutput(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrInvalidOutput)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPushOutput(t *testing.T) {
	o, err := PushOutput("127.0.0.1:5000/inception/", "bookworm")
	require.NoError(t, err)
	assert.True(t, o.Push())
	assert.Equal(t, "127.0.0.1:5000/inception/nginx:bookworm", o.names("nginx"))
	_, err = PushOutput("", "bookworm")
	assert.ErrorIs(t, err, ErrInvalidOutput)
	_, err = PushOutput("inception", "bookworm")
	assert.ErrorIs(t, err, ErrInvalidOutput, "a namespace alone names no registry")
}

func TestParseCache(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Cache
		err  string
	}{
		{name: "registry", in: "type=registry,ref=reg.example.com/ns/{service}:buildcache,mode=max",
			want: Cache{Type: "registry", Attrs: map[string]string{"ref": "reg.example.com/ns/{service}:buildcache", "mode": "max"}}},
		{name: "bare reference", in: "reg.example.com/ns/nginx:buildcache",
			want: Cache{Type: "registry", Attrs: map[string]string{"ref": "reg.example.com/ns/nginx:buildcache"}}},
		{name: "insecure registry", in: "type=registry,ref=127.0.0.1:5000/c:{service},registry.insecure=true",
			want: Cache{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5000/c:{service}", "registry.insecure": "true"}}},
		{name: "inline", in: "type=inline", want: Cache{Type: "inline", Attrs: map[string]string{}}},
		{name: "local", in: "type=local,dest=/c", want: Cache{Type: "local", Attrs: map[string]string{"dest": "/c"}}},
		{name: "gha passes through", in: "type=gha,scope=x", want: Cache{Type: "gha", Attrs: map[string]string{"scope": "x"}}},
		{name: "registry without ref", in: "type=registry,mode=max", err: "no name"},
		{name: "registry ref without registry", in: "type=registry,ref=ns/x:cache", err: "names no registry"},
		{name: "two refs", in: `type=registry,"ref=r.example.com/a:1,r.example.com/b:1"`, err: "one ref per cache"},
		{name: "bad mode", in: "type=registry,ref=r.example.com/a:1,mode=all", err: "min or max"},
		{name: "inline with attributes", in: "type=inline,mode=max", err: "no attributes"},
		{name: "no type", in: "ref=r.example.com/a:1", err: "has no type"},
		{name: "unterminated quote", in: `type=registry,"ref=x`, err: "key=value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCache(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, ErrInvalidOutput)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	c, err := ParseCache("type=registry,ref=r.example.com/ns/{service}:buildcache,mode=max")
	require.NoError(t, err)
	e := c.entry("mariadb")
	assert.Equal(t, "r.example.com/ns/mariadb:buildcache", e.Attrs["ref"])
	assert.Equal(t, "r.example.com/ns/{service}:buildcache", c.Attrs["ref"], "entry must not change the parsed cache")
}

func TestOutputPath(t *testing.T) {
	dir := t.TempDir()
	p, err := Output{Type: "oci", Dest: "a.tar"}.path("nginx", 1)
	require.NoError(t, err)
	assert.Equal(t, "a.tar", p)
	_, err = Output{Type: "oci", Dest: "a.tar"}.path("nginx", 2)
	assert.ErrorIs(t, err, ErrInvalidOutput)
	p, err = Output{Type: "oci", Dest: dir}.path("nginx", 2)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "nginx.tar"), p)
	p, err = Output{Type: "oci", Dest: "out/{service}.oci"}.path("redis", 2)
	require.NoError(t, err)
	assert.Equal(t, "out/redis.oci", p)
}

func TestCacheEntryPerService(t *testing.T) {
	c, err := ParseCache("type=local,dest=/cache")
	require.NoError(t, err)
	e := c.entry("nginx")
	assert.Equal(t, "local", e.Type)
	assert.Equal(t, "/cache/nginx", e.Attrs["dest"])
	assert.Equal(t, "max", e.Attrs["mode"], "local export keeps intermediate layers by default")
	assert.Equal(t, "/cache", c.Attrs["dest"], "entry must not change the parsed cache")

	c, err = ParseCache("type=local,src=/cache")
	require.NoError(t, err)
	assert.Equal(t, "/cache/wordpress", c.entry("wordpress").Attrs["src"])

	_, err = ParseCache("type=local")
	assert.ErrorIs(t, err, ErrInvalidOutput)
	_, err = ParseCache("src=/x")
	assert.ErrorIs(t, err, ErrInvalidOutput)
}

func TestWithoutContainerdNamespace(t *testing.T) {
	ctx := namespaces.WithNamespace(context.Background(), "inception")
	md, _ := metadata.FromOutgoingContext(ctx)
	require.NotEmpty(t, md.Get(namespaces.GRPCHeader), "precondition: the header is set")

	stripped := WithoutContainerdNamespace(metadata.AppendToOutgoingContext(ctx, "other", "kept"))
	md, _ = metadata.FromOutgoingContext(stripped)
	assert.Empty(t, md.Get(namespaces.GRPCHeader))
	assert.Equal(t, []string{"kept"}, md.Get("other"))
	orig, _ := metadata.FromOutgoingContext(ctx)
	assert.NotEmpty(t, orig.Get(namespaces.GRPCHeader), "the caller's context is left as it was")
}

func TestMetadata(t *testing.T) {
	desc := &ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: "sha256:aa", Size: 7}
	r := Report{Images: []ImageReport{
		{Service: "nginx", Ref: "docker.io/library/nginx:bookworm", Digest: "sha256:aa", ConfigDigest: "sha256:cc", Descriptor: desc, Pushed: "r.example.com/ns/nginx:bookworm"},
		{Service: "redis", Ref: "docker.io/library/redis:bookworm", Digest: "sha256:bb", UpToDate: true},
	}}
	path := filepath.Join(t.TempDir(), "meta.json")
	require.NoError(t, r.WriteMetadata(path))
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"nginx": {"containerimage.digest": "sha256:aa", "containerimage.config.digest": "sha256:cc",
			"containerimage.descriptor": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "size": 7},
			"image.name": "r.example.com/ns/nginx:bookworm"},
		"redis": {"containerimage.digest": "sha256:bb", "image.name": "docker.io/library/redis:bookworm"}
	}`, string(dt))
	_, err = os.Stat(path + ".partial")
	assert.True(t, os.IsNotExist(err))
}

func TestPushError(t *testing.T) {
	err := error(&PushError{Image: "nginx", Refs: "127.0.0.1:5000/ns/nginx:1,other.example.com/nginx:1",
		Err: errors.New("failed to authorize: 401 Unauthorized")})
	assert.Contains(t, err.Error(), "push nginx to 127.0.0.1:5000: ")
	assert.Contains(t, err.Error(), "401 Unauthorized")
	assert.Contains(t, err.Error(), "DOCKER_CONFIG")
	assert.True(t, isPushError(errors.New(`failed to push 127.0.0.1:5000/ns/nginx:1: unexpected status from HEAD request`)))
	assert.False(t, isPushError(errors.New(`process "/bin/sh -c apt-get install" did not complete successfully: exit code: 100`)))
	decoded := decodeDescriptor("eyJtZWRpYVR5cGUiOiJhIiwiZGlnZXN0Ijoic2hhMjU2OmFhIiwic2l6ZSI6N30=")
	require.NotNil(t, decoded)
	assert.Equal(t, int64(7), decoded.Size)
	assert.Nil(t, decodeDescriptor("not base64"))
}

// TestStoreExportUncompressed: the image store's export keeps its layers
// uncompressed; an image pushed in the same build is compressed as usual
// (BuildKit's default, gzip).
func TestStoreExportUncompressed(t *testing.T) {
	push, err := PushOutput("registry.example.com/inception", "v1")
	require.NoError(t, err)
	b := &Builder{cfg: config{outputs: []Output{push}}}
	opt, done, err := b.solveOpt(Target{Service: "nginx", Ref: "docker.io/library/nginx:v1"}, 1)
	require.NoError(t, err)
	require.NoError(t, done(true))
	require.Len(t, opt.Exports, 2)
	assert.Equal(t, map[string]string{"name": "docker.io/library/nginx:v1", "compression": "uncompressed"}, opt.Exports[0].Attrs)
	assert.Equal(t, "registry.example.com/inception/nginx:v1", opt.Exports[1].Attrs["name"])
	assert.NotContains(t, opt.Exports[1].Attrs, "compression", "a push is compressed")
}

// resolverClient is a gateway client that resolves image configs only.
type resolverClient struct {
	gateway.Client
	configs map[string][]byte
	asked   []string
}

func (c *resolverClient) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	c.asked = append(c.asked, ref+" "+opt.ImageOpt.ResolveMode)
	dt, ok := c.configs[ref]
	if !ok {
		return "", "", nil, errors.New("not found")
	}
	return ref, digest.FromBytes(dt), dt, nil
}

// TestBaseConfig: the base an image config names is resolved as the graph
// resolves it (the image store first) and handed to the exporter; an image
// that names none, or a base that does not resolve, gives nothing.
func TestBaseConfig(t *testing.T) {
	const base = "docker.io/library/debian:bookworm"
	baseCfg := []byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:aa"]}}`)
	c := &resolverClient{configs: map[string][]byte{base: baseCfg}}
	named := []byte(`{"config":{"Labels":{"org.opencontainers.image.base.name":"` + base + `"}}}`)
	assert.Equal(t, baseCfg, baseConfig(t.Context(), c, named))
	assert.Equal(t, []string{base + " local"}, c.asked)

	assert.Nil(t, baseConfig(t.Context(), c, []byte(`{"config":{}}`)), "no base named")
	assert.Nil(t, baseConfig(t.Context(), c, []byte(`{"config":{"Labels":{"org.opencontainers.image.base.name":"registry.example.com/x:1"}}}`)), "a base that does not resolve")
	assert.Nil(t, baseConfig(t.Context(), c, []byte(`not json`)))
}
