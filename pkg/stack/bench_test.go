package stack

import (
	"testing"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// BenchmarkMarshalStack marshals every image of the default stack into
// build targets: graph, image config and reference, what `inceptionctl
// build` does before it talks to BuildKit.
func BenchmarkMarshalStack(b *testing.B) {
	for _, d := range []llbdefs.Distro{llbdefs.Debian(), llbdefs.Alpine()} {
		b.Run(d.Name(), func(b *testing.B) {
			svcs := Default().Services
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
