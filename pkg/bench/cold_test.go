package bench

import (
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
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
