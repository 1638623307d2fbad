package build

import (
	"context"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tonistiigi/fsutil"
)

// fakeGateway records the one solve request a build function makes.
type fakeGateway struct {
	gateway.Client
	req gateway.SolveRequest
}

func (f *fakeGateway) Solve(_ context.Context, req gateway.SolveRequest) (*gateway.Result, error) {
	f.req = req
	return gateway.NewResult(), nil
}

// fakeSolver runs the build function against fakeGateway and reports
// vertices on the status stream, as buildkitd does.
type fakeSolver struct {
	opt      client.SolveOpt
	gw       fakeGateway
	vertices []*client.Vertex
}

func (f *fakeSolver) Build(ctx context.Context, opt client.SolveOpt, _ string, fn gateway.BuildFunc, ch chan *client.SolveStatus) (*client.SolveResponse, error) {
	defer close(ch)
	f.opt = opt
	if _, err := fn(ctx, &f.gw); err != nil {
		return nil, err
	}
	ch <- &client.SolveStatus{Vertexes: f.vertices}
	return &client.SolveResponse{}, nil
}

func at(s int) *time.Time {
	t := time.Unix(1000+int64(s), 0)
	return &t
}

func TestBuildFrontendTarget(t *testing.T) {
	local, err := fsutil.NewFS(t.TempDir())
	require.NoError(t, err)
	s := &fakeSolver{vertices: []*client.Vertex{
		{Digest: "sha256:a", Name: "[internal] load build context", Started: at(0), Completed: at(1)},
		{Digest: "sha256:b", Name: "[x 2/3] RUN apt-get install", Inputs: []digest.Digest{"sha256:a"}, Started: at(1), Completed: at(4)},
		{Digest: "sha256:c", Name: "[x 3/3] COPY conf/ /", Inputs: []digest.Digest{"sha256:b"}, Cached: true, Started: at(4), Completed: at(4)},
	}}
	b, err := New(s)
	require.NoError(t, err)
	rep, err := b.Build(t.Context(), []Target{{
		Service: "x", Ref: "docker.io/library/x:test",
		Frontend: "dockerfile.v0", FrontendAttrs: map[string]string{"image-resolve-mode": "local"},
		LocalMounts: map[string]fsutil.FS{"context": local, "dockerfile": local},
	}})
	require.NoError(t, err)

	assert.Equal(t, "dockerfile.v0", s.gw.req.Frontend)
	assert.Equal(t, "local", s.gw.req.FrontendOpt["image-resolve-mode"])
	assert.Nil(t, s.gw.req.Definition)
	assert.Contains(t, s.opt.LocalMounts, "context")
	assert.Contains(t, s.opt.LocalMounts, "dockerfile")

	// With no definition, every vertex with inputs is the image's.
	r := rep.Images[0]
	assert.Equal(t, 2, r.Vertices)
	assert.Equal(t, 1, r.Cached)
	assert.Equal(t, []string{"[x 2/3] RUN apt-get install"}, r.Ran)
	require.Len(t, r.Steps, 2)
	assert.Equal(t, Step{Name: "[x 2/3] RUN apt-get install", Duration: 3 * time.Second}, r.Steps[0])
	assert.Equal(t, Step{Name: "[x 3/3] COPY conf/ /", Cached: true}, r.Steps[1])
}

func TestBuildDefinitionTarget(t *testing.T) {
	def, err := llb.Image("docker.io/library/debian:bookworm").
		Run(llb.Args([]string{"true"}), llb.WithCustomName("run true")).Root().
		Marshal(t.Context(), llb.LinuxAmd64)
	require.NoError(t, err)
	var run digest.Digest
	for d, m := range def.Metadata {
		if m.Description["llb.customname"] == "run true" {
			run = d
		}
	}
	require.NotEmpty(t, run)
	s := &fakeSolver{vertices: []*client.Vertex{
		{Digest: run, Name: "run true", Inputs: []digest.Digest{"sha256:base"}, Started: at(0), Completed: at(2)},
		// Not in the graph: an exporter's or another solve's vertex.
		{Digest: "sha256:other", Name: "exporting", Inputs: []digest.Digest{run}, Started: at(2), Completed: at(3)},
	}}
	b, err := New(s)
	require.NoError(t, err)
	rep, err := b.Build(t.Context(), []Target{{Service: "x", Ref: "docker.io/library/x:test", Definition: def}})
	require.NoError(t, err)
	assert.NotNil(t, s.gw.req.Definition)
	assert.Empty(t, s.gw.req.Frontend)
	r := rep.Images[0]
	assert.Equal(t, 1, r.Vertices)
	assert.Equal(t, []Step{{Name: "run true", Duration: 2 * time.Second}}, r.Steps)

	_, err = b.Build(t.Context(), []Target{{Service: "empty", Ref: "docker.io/library/x:test"}})
	require.ErrorContains(t, err, "no definition and no frontend")
}
