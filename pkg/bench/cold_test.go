package bench

import (
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestColdPrune: a cold case prunes every record, the cache mounts with the
// packages apt downloaded included; WithColdKeepingPackages keeps those.
func TestColdPrune(t *testing.T) {
	info := func(opts []client.PruneOption) client.PruneInfo {
		var pi client.PruneInfo
		for _, o := range opts {
			o.SetPruneOption(&pi)
		}
		return pi
	}
	r := &runner{}
	got := info(r.coldPrune())
	assert.True(t, got.All)
	assert.Empty(t, got.Filter, "nothing kept")

	WithColdKeepingPackages().applyBuild(&r.config)
	got = info(r.coldPrune())
	assert.True(t, got.All)
	assert.Equal(t, []string{"type!=" + string(client.UsageRecordTypeCacheMount)}, got.Filter, "the cache mounts kept")
}

// TestColdBase: the base a cold case checks after its prune is the one the
// image options build on; options that name no valid base are refused
// before anything is built.
func TestColdBase(t *testing.T) {
	cases, err := Plan(stack.Default().Names(), []string{"nginx"}, []report.Scenario{report.ScenarioCold}, false)
	require.NoError(t, err)
	var bk *client.Client // never called: nothing is built before a pass
	tests := []struct {
		name string
		opts []BuildOption
		want string
	}{
		{"default", nil, llbdefs.DebianRef},
		{"alpine", []BuildOption{WithImageOptions(llbdefs.WithDistro(llbdefs.Alpine()))}, llbdefs.AlpineRef},
		{"a base of its own", []BuildOption{WithImageOptions(llbdefs.WithBase("localhost/inception/debian:bookworm-1"))},
			"localhost/inception/debian:bookworm-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]BuildOption{WithImageStore(noStore{}), withTempDir(t.TempDir())}, tc.opts...)
			b, err := NewBuildBench(t.Context(), bk, nil, cases, opts...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, b.r.baseRef)
		})
	}
	_, err = NewBuildBench(t.Context(), bk, nil, cases, WithImageStore(noStore{}), WithImageOptions(llbdefs.WithBase("debian:latest")))
	require.ErrorIs(t, err, llbdefs.ErrBaseRef)
}

// noStore is an image store that is never called: a bench uses its store
// after its builds only.
type noStore struct{ ImageStore }
