package build

import (
	"context"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"google.golang.org/grpc/metadata"
	"path/filepath"
	"testing"

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
		{name: "unknown type", in: "type=registry,dest=x", err: "not supported"},
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
