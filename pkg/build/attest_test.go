package build

import (
	"context"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReproOpts(t *testing.T) {
	b, err := New(&client.Client{})
	require.NoError(t, err)
	opt := client.SolveOpt{Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": "x"}}}}
	b.reproOpts(&opt)
	assert.Equal(t, map[string]string{"name": "x"}, opt.Exports[0].Attrs, "nothing asked, nothing added")
	assert.Empty(t, opt.FrontendAttrs)
	assert.Empty(t, b.reproKey(), "build keys stay as they were")

	hook := func(context.Context, gateway.Client, Target, *gateway.Result) error { return nil }
	b, err = New(&client.Client{}, WithSourceDateEpoch(time.Unix(1704067200, 0)), WithProvenance("max"), WithResultHook(hook))
	require.NoError(t, err)
	b.reproOpts(&opt)
	for _, e := range opt.Exports {
		assert.Equal(t, "1704067200", e.Attrs["source-date-epoch"])
		assert.Equal(t, "true", e.Attrs["rewrite-timestamp"])
		assert.Equal(t, "x", e.Attrs["name"])
	}
	assert.Equal(t, "mode=max", opt.FrontendAttrs["attest:provenance"])
	assert.Equal(t, "1704067200", opt.FrontendAttrs["build-arg:SOURCE_DATE_EPOCH"])
	assert.Equal(t, "epoch=1704067200 provenance=max hooks=1", b.reproKey())
}
