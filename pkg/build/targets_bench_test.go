package build_test

import (
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// BenchmarkMarshalStack marshals every image of the default stack into
// build targets: graph, image config and reference, what `inceptionctl
// build` does before it talks to BuildKit.
func BenchmarkMarshalStack(b *testing.B) {
	for _, d := range []llbdefs.Distro{llbdefs.Debian(), llbdefs.Alpine()} {
		b.Run(d.Name(), func(b *testing.B) {
			svcs := stack.Default().Services
			// Once, outside the measure: the targets are whole, so the
			// loop below cannot measure a short cut.
			ts, err := build.Targets(b.Context(), svcs, llbdefs.Recipes(), llbdefs.WithDistro(d))
			require.NoError(b, err)
			checkTargets(b, svcs, d, ts)

			b.ReportAllocs()
			for b.Loop() {
				ts, err := build.Targets(b.Context(), svcs, llbdefs.Recipes(), llbdefs.WithDistro(d))
				if err != nil {
					b.Fatal(err)
				}
				if len(ts) != len(svcs) {
					b.Fatalf("%d targets for %d services", len(ts), len(svcs))
				}
			}
		})
	}
}

// checkTargets checks that ts holds one whole target per service, in
// order: its reference, a graph of decodable ops with one terminal op, an
// exec (the package install) and the distro's base image, and an image
// config with a command.
func checkTargets(b *testing.B, svcs []stack.Service, d llbdefs.Distro, ts []build.Target) {
	b.Helper()
	require.Len(b, ts, len(svcs))
	for i, tg := range ts {
		name := svcs[i].Name
		assert.Equal(b, name, tg.Service)
		assert.Equal(b, stack.DefaultRegistry+name+":bookworm", tg.Ref)
		require.NotNil(b, tg.Definition, name)
		var terminals, execs int
		var sources []string
		for _, dt := range tg.Definition.Def {
			op := new(pb.Op)
			require.NoError(b, op.UnmarshalVT(dt), name)
			switch {
			case op.Op == nil:
				terminals++
			case op.GetExec() != nil:
				execs++
			case op.GetSource() != nil:
				sources = append(sources, op.GetSource().Identifier)
			}
		}
		assert.Equal(b, 1, terminals, "%s: one terminal op", name)
		assert.Positive(b, execs, "%s: an exec", name)
		assert.Contains(b, sources, "docker-image://"+d.Ref(), name)

		var cfg dockerspec.DockerOCIImage
		require.NoError(b, json.Unmarshal(tg.Config, &cfg), name)
		assert.Equal(b, "linux", cfg.OS, name)
		assert.Equal(b, "amd64", cfg.Architecture, name)
		assert.NotEmpty(b, append(cfg.Config.Entrypoint, cfg.Config.Cmd...), "%s: a command", name)
		assert.Equal(b, name, cfg.Config.Labels["org.opencontainers.image.title"])
	}
}

func TestDefaultStackTargets(t *testing.T) {
	st := stack.Default()
	targets, err := build.Targets(t.Context(), st.Services, llbdefs.Recipes())
	require.NoError(t, err)
	require.Len(t, targets, len(st.Services))
	for _, tg := range targets {
		assert.NotEmpty(t, tg.Definition.Def, tg.Service)
		assert.Contains(t, string(tg.Config), `"architecture":"amd64"`, tg.Service)
		assert.Equal(t, "docker.io/library/"+tg.Service+":bookworm", tg.Ref)
	}
}

func TestTargetsNeedARecipe(t *testing.T) {
	tests := []struct {
		name string
		svc  stack.Service
		want string
	}{
		{name: "image only", svc: stack.Service{Name: "cache", Image: "redis:7"}, want: "has no build recipe"},
		{name: "unknown recipe", svc: stack.Service{Name: "x", Image: "x:1", Build: &stack.Build{Recipe: "nope"}}, want: `recipe "nope" is not one of`},
		{name: "dockerfile", svc: stack.Service{Name: "x", Image: "x:1", Build: &stack.Build{Context: "."}}, want: "Dockerfile build"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build.Targets(t.Context(), []stack.Service{tc.svc}, llbdefs.Recipes())
			require.ErrorIs(t, err, build.ErrNoRecipe)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
