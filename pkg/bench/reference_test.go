package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbe(t *testing.T) {
	off := config{}
	ref := off.newReference()
	ref.Time(1)
	assert.Nil(t, ref, "no reference unless asked for")

	on := config{reference: true}
	ref = on.newReference()
	require.NotNil(t, ref)
	assert.Contains(t, ref.Work, "SHA-256 of 128 MiB")
	// How it times and summarises: internal/benchstat's TestReference.
	ref.Time(1)
	assert.Len(t, ref.Runs, 1)
}
