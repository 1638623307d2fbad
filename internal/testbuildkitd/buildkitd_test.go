package testbuildkitd

import (
	"context"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/worker/label"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

// The builder has an OCI worker only, and answers clients with the test's
// certificate and nobody else.
func TestStart(t *testing.T) {
	testutil.Integration(t)
	b := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := b.Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, ws)
	for _, w := range ws {
		assert.Equal(t, "oci", w.Labels[label.Executor])
	}

	anon, err := bkclient.New(ctx, b.Address, bkclient.WithServerConfig("127.0.0.1", b.TLS.CACert))
	require.NoError(t, err)
	defer anon.Close()
	qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
	defer qcancel()
	_, err = anon.ListWorkers(qctx)
	assert.Error(t, err, "a client without a certificate is refused")
}
