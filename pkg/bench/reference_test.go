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
	ref.Time(1)
	ref.Time(2)
	require.NotNil(t, ref)
	require.Len(t, ref.Runs, 2)
	assert.Contains(t, ref.Work, "SHA-256 of 128 MiB")
	for i, run := range ref.Runs {
		assert.Positive(t, run.Seconds)
		assert.Less(t, run.Seconds, 60.0, "seconds, not nanoseconds")
		assert.Equal(t, i+1, run.Pass)
	}
	ref = ref.Summarised()
	assert.LessOrEqual(t, ref.Min, ref.Median)
	assert.LessOrEqual(t, ref.Median, ref.Max)
}
