package build

import (
	"context"
	"sync"
	"testing"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memStore is an image store in memory.
type memStore struct {
	mu  sync.Mutex
	img map[string]images.Image
}

func (m *memStore) Get(_ context.Context, name string) (images.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	img, ok := m.img[name]
	if !ok {
		return images.Image{}, errdefs.ErrNotFound
	}
	return img, nil
}

func (m *memStore) List(context.Context, ...string) ([]images.Image, error) { return nil, nil }

func (m *memStore) Create(_ context.Context, img images.Image) (images.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.img[img.Name] = img
	return img, nil
}

func (m *memStore) Update(_ context.Context, img images.Image, fields ...string) (images.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.img[img.Name]
	if !ok {
		return images.Image{}, errdefs.ErrNotFound
	}
	for _, f := range fields {
		if k, ok := cutLabel(f); ok {
			if cur.Labels == nil {
				cur.Labels = map[string]string{}
			}
			cur.Labels[k] = img.Labels[k]
		}
	}
	m.img[img.Name] = cur
	return cur, nil
}

func cutLabel(f string) (string, bool) {
	const p = "labels."
	if len(f) > len(p) && f[:len(p)] == p {
		return f[len(p):], true
	}
	return "", false
}

func (m *memStore) Delete(_ context.Context, name string, _ ...images.DeleteOpt) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.img, name)
	return nil
}

// exportingSolver counts solves and, like the image exporter, stores a new
// image record (no labels) under the exported name.
type exportingSolver struct {
	store  *memStore
	solves int
}

func (s *exportingSolver) Build(ctx context.Context, opt client.SolveOpt, _ string, fn gateway.BuildFunc, ch chan *client.SolveStatus) (*client.SolveResponse, error) {
	defer close(ch)
	s.solves++
	if _, err := fn(ctx, &fakeGateway{}); err != nil {
		return nil, err
	}
	for _, e := range opt.Exports {
		if e.Output != nil {
			w, err := e.Output(nil)
			if err != nil {
				return nil, err
			}
			w.Close()
		}
		if e.Type == client.ExporterImage {
			d := digest.FromString(e.Attrs["name"] + string(rune('0'+s.solves)))
			_, _ = s.store.Create(ctx, images.Image{Name: e.Attrs["name"], Target: ocispec.Descriptor{Digest: d}})
		}
	}
	return &client.SolveResponse{}, nil
}

func TestBuildSkipsUpToDateImage(t *testing.T) {
	const base = "docker.io/library/debian:bookworm"
	store := &memStore{img: map[string]images.Image{base: {Name: base, Target: ocispec.Descriptor{Digest: digest.FromString("base v1")}}}}
	s := &exportingSolver{store: store}
	def := func(cmd string) *llb.Definition {
		d, err := llb.Image(base).Run(llb.Args([]string{"sh", "-c", cmd})).Root().
			File(llb.Mkfile("/etc/x.conf", 0o644, []byte("x"))).Marshal(t.Context(), llb.LinuxAmd64)
		require.NoError(t, err)
		return d
	}
	target := Target{Service: "x", Ref: "docker.io/library/x:test", Definition: def("true"), Config: []byte(`{"config":{}}`)}
	b, err := New(s, WithImageStore(store))
	require.NoError(t, err)
	build := func(t *testing.T, tg Target, b *Builder) ImageReport {
		rep, err := b.Build(t.Context(), []Target{tg})
		require.NoError(t, err)
		return rep.Images[0]
	}

	r := build(t, target, b)
	assert.Equal(t, 1, s.solves, "a first build solves")
	assert.False(t, r.UpToDate)
	key := store.img[target.Ref].Labels[LabelBuildKey]
	require.NotEmpty(t, key, "the exported image is labelled with its build key")

	r = build(t, target, b)
	assert.Equal(t, 1, s.solves, "nothing changed: no solve")
	assert.True(t, r.UpToDate)
	assert.Equal(t, 2, r.Vertices, "the graph's vertices with inputs: the run and the file")
	assert.Equal(t, 2, r.Cached)
	assert.Empty(t, r.Ran)
	assert.Equal(t, store.img[target.Ref].Target.Digest.String(), r.Digest)

	changes := map[string]func() (Target, *Builder){
		"command": func() (Target, *Builder) { tg := target; tg.Definition = def("false"); return tg, b },
		"config":  func() (Target, *Builder) { tg := target; tg.Config = []byte(`{"config":{"User":"1"}}`); return tg, b },
		"name":    func() (Target, *Builder) { tg := target; tg.Ref = "docker.io/library/x:other"; return tg, b },
		"base image": func() (Target, *Builder) {
			store.img[base] = images.Image{Name: base, Target: ocispec.Descriptor{Digest: digest.FromString("base v2")}}
			return target, b
		},
		"image removed": func() (Target, *Builder) { delete(store.img, target.Ref); return target, b },
		"tarball output": func() (Target, *Builder) {
			ob, err := New(s, WithImageStore(store), WithOutputs(Output{Type: client.ExporterOCI, Dest: t.TempDir()}))
			require.NoError(t, err)
			return target, ob
		},
	}
	for _, name := range []string{"command", "config", "name", "base image", "image removed", "tarball output"} {
		t.Run(name, func(t *testing.T) {
			tg, bb := changes[name]()
			before := s.solves
			build(t, tg, bb)
			assert.Equal(t, before+1, s.solves, "%s changed: solved again", name)
		})
	}

	// Without a store nothing is skipped.
	plain, err := New(s)
	require.NoError(t, err)
	before := s.solves
	build(t, target, plain)
	build(t, target, plain)
	assert.Equal(t, before+2, s.solves)
}

func TestWithKeyLabel(t *testing.T) {
	out, err := withKeyLabel([]byte(`{"architecture":"amd64","config":{"Labels":{"a":"b"},"User":"www"}}`), "sha256:k")
	require.NoError(t, err)
	assert.JSONEq(t, `{"architecture":"amd64","config":{"Labels":{"a":"b","`+LabelBuildKey+`":"sha256:k"},"User":"www"}}`, string(out))
	out, err = withKeyLabel([]byte(`{"architecture":"amd64"}`), "sha256:k")
	require.NoError(t, err)
	assert.JSONEq(t, `{"architecture":"amd64","config":{"Labels":{"`+LabelBuildKey+`":"sha256:k"}}}`, string(out))
	out, err = withKeyLabel([]byte(`{}`), "")
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(out), "no key, config untouched")
	_, err = withKeyLabel([]byte(`{`), "k")
	assert.Error(t, err)
}

func TestRegistryMode(t *testing.T) {
	push, err := PushOutput("127.0.0.1:5000/ns", "t")
	require.NoError(t, err)
	tarball := Output{Type: "oci", Dest: "/tmp/x"}
	r := docker.NewResolver(docker.ResolverOptions{})
	for _, tc := range []struct {
		name string
		opts []Option
		want bool
	}{
		{"push without store", []Option{WithoutStore(), WithOutputs(push), WithRegistryCheck(r)}, true},
		{"no resolver", []Option{WithoutStore(), WithOutputs(push)}, false},
		{"store", []Option{WithOutputs(push), WithRegistryCheck(r)}, false},
		{"nothing pushed", []Option{WithoutStore(), WithRegistryCheck(r)}, false},
		{"a tarball too", []Option{WithoutStore(), WithOutputs(push, tarball), WithRegistryCheck(r)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(&fakeSolver{}, append(tc.opts, WithDockerConfig(t.TempDir()))...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, b.registryMode())
		})
	}
}
