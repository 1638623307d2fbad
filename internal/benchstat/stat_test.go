package benchstat

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	assert.InDelta(t, 2.5, Median([]float64{4, 1, 2, 3}), 1e-9)
	assert.InDelta(t, 2.0, Median([]float64{3, 1, 2}), 1e-9)
	assert.Zero(t, Median(nil))
	xs := []float64{3, 1, 2}
	Median(xs)
	assert.Equal(t, []float64{3, 1, 2}, xs, "the input is not sorted")
}

func TestReference(t *testing.T) {
	var none *Reference
	none.Time(1)
	assert.Nil(t, none.Summarised(), "a nil reference times nothing")

	ref := NewReference()
	ref.Time(1)
	ref.Time(2)
	require.Len(t, ref.Runs, 2)
	for i, run := range ref.Runs {
		assert.Positive(t, run.Seconds)
		assert.Less(t, run.Seconds, 60.0, "seconds, not nanoseconds")
		assert.Equal(t, i+1, run.Pass)
	}
	ref = ref.Summarised()
	assert.LessOrEqual(t, ref.Min, ref.Median)
	assert.LessOrEqual(t, ref.Median, ref.Max)
}

func TestReferenceLine(t *testing.T) {
	assert.Empty(t, (*Reference)(nil).Line())
	assert.Empty(t, (&Reference{}).Line())

	ref := &Reference{Work: "w", Runs: []ReferenceRun{{0.1, 1}, {0.12, 1}, {0.2, 1}, {0.09, 2}, {0.11, 2}}}
	ref = ref.Summarised()
	assert.Equal(t, "machine reference (w): 0.110 s [0.090-0.200], 5 times; pass 1 0.120 s, pass 2 0.100 s", ref.Line())

	one := &Reference{Work: "w", Runs: []ReferenceRun{{0.1, 0}}}
	one = one.Summarised()
	assert.Equal(t, "machine reference (w): 0.100 s [0.100-0.100], 1 times", one.Line())
}

func TestMachineChange(t *testing.T) {
	for _, tc := range []struct {
		cur, base float64
		want      string
	}{
		{0.1, 0.12, "the machine was 20 % faster than in the baseline's run"},
		{0.12, 0.1, "the machine was 17 % slower than in the baseline's run"},
		{0.1, 0.1004, "the machine was as fast as in the baseline's run"},
	} {
		m := MachineChange{Work: "w", Median: tc.cur, Baseline: tc.base}
		assert.Contains(t, m.Line(), tc.want)
	}
	ref := func(work string, secs ...float64) *Reference {
		r := &Reference{Work: work}
		for _, s := range secs {
			r.Runs = append(r.Runs, ReferenceRun{Seconds: s})
		}
		return r
	}
	m := CompareMachine([]*Reference{ref("w", 0.1, 0.1), nil, ref("w", 0.1)}, []*Reference{ref("w", 0.2), ref("w", 0.2, 0.3)})
	require.NotNil(t, m)
	assert.InDelta(t, 0.1, m.Median, 1e-9)
	assert.InDelta(t, 0.2, m.Baseline, 1e-9, "every timing of both references")
	assert.Nil(t, CompareMachine([]*Reference{ref("w", 0.1)}, []*Reference{nil}), "a baseline without a reference")
	assert.Nil(t, CompareMachine([]*Reference{ref("w", 0.1)}, []*Reference{ref("v", 0.1)}), "another reference work")
}

// TestCompare: inside, outside, failed, unmatched and unmeasured figures,
// the band compared as printed.
func TestCompare(t *testing.T) {
	twoDigits := func(v float64) float64 { p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64); return p }
	fig := func(key string, median, lo, hi float64) Figure {
		return Figure{Key: key, Name: key, Unit: "s", Printed: twoDigits, Measured: true, Median: median, Min: lo, Max: hi}
	}
	base := []Figure{fig("a", 1, 0.9, 1.1), fig("b", 1, 0.9, 1.1), fig("c", 1, 0.14, 0.15), fig("f", 1, 1, 1)}
	failed := fig("f", 1, 1, 1)
	failed.Failed = true
	unmeasured := fig("u", 0, 0, 0)
	unmeasured.Measured = false
	cur := []Figure{fig("a", 1.05, 1, 1.1), fig("b", 1.2, 1.2, 1.2), fig("c", 0.154, 0.154, 0.154), failed, fig("new", 1, 1, 1), unmeasured, fig("a", 9, 9, 9)}
	c := Compare(cur, base)
	assert.Equal(t, 3, c.Judged)
	assert.Equal(t, 2, c.Inside, "a inside; c's 0.154 printed 0.15 is inside [0.14-0.15]")
	assert.Equal(t, []Deviation{{Figure: "b", Median: 1.2, Min: 0.9, Max: 1.1, Unit: "s"}}, c.Outside)
	assert.Equal(t, []string{"f"}, c.Failed)
	assert.Equal(t, []string{"new"}, c.Unmatched)
}
