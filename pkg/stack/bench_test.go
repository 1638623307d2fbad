package stack

import (
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// BenchmarkMarshalStack marshals every image of the default stack into
// build targets: graph, image config and reference, what `inceptionctl
// build` does before it talks to BuildKit.
func BenchmarkMarshalStack(b *testing.B) {
	for _, d := range []llbdefs.Distro{llbdefs.Debian(), llbdefs.Alpine()} {
		b.Run(d.Name(), func(b *testing.B) {
			svcs := Default().Services
			// Once, outside the measure: the targets are whole, so the
			// loop below cannot measure a short cut.
			ts, err := Targets(b.Context(), svcs, "bookworm", llbdefs.WithDistro(d))
			require.NoError(b, err)
			checkTargets(b, svcs, d, ts)

			b.ReportAllocs()
			for b.Loop() {
				ts, err := Targets(b.Context(), svcs, "bookworm", llbdefs.WithDistro(d))
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
func checkTargets(b *testing.B, svcs []Service, d llbdefs.Distro, ts []build.Target) {
	b.Helper()
	require.Len(b, ts, len(svcs))
	for i, tg := range ts {
		name := svcs[i].Name
		assert.Equal(b, name, tg.Service)
		assert.Equal(b, DefaultRegistry+name+":bookworm", tg.Ref)
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
