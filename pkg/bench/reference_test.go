package bench

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProbe(t *testing.T) {
	off := config{}
	ref := off.newReference()
	ref.time(1)
	assert.Nil(t, ref, "no reference unless asked for")

	on := config{reference: true}
	ref = on.newReference()
	ref.time(1)
	ref.time(2)
	require.NotNil(t, ref)
	require.Len(t, ref.Runs, 2)
	assert.Equal(t, referenceWork(), ref.Work)
	for i, run := range ref.Runs {
		assert.Positive(t, run.Seconds)
		assert.Less(t, run.Seconds, 60.0, "seconds, not nanoseconds")
		assert.Equal(t, i+1, run.Pass)
	}
	ref = ref.summarised()
	assert.LessOrEqual(t, ref.Min, ref.Median)
	assert.LessOrEqual(t, ref.Median, ref.Max)
}

func TestReferenceLine(t *testing.T) {
	assert.Empty(t, (*Reference)(nil).line())
	assert.Empty(t, (&Reference{}).line())

	ref := &Reference{Work: "w", Runs: []ReferenceRun{{0.1, 1}, {0.12, 1}, {0.2, 1}, {0.09, 2}, {0.11, 2}}}
	ref = ref.summarised()
	assert.Equal(t, "machine reference (w): 0.110 s [0.090-0.200], 5 times; pass 1 0.120 s, pass 2 0.100 s", ref.line())

	one := &Reference{Work: "w", Runs: []ReferenceRun{{0.1, 0}}}
	one = one.summarised()
	assert.Equal(t, "machine reference (w): 0.100 s [0.100-0.100], 1 times", one.line())
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
		assert.Contains(t, m.line(), tc.want)
	}

	withRef := func(work string, secs ...float64) *Report {
		rep := NewReport()
		rep.Results = []Result{{Case: Case{Scenario: ScenarioNoChange, Scope: "nginx"}, Variant: VariantLLB,
			Runs: []Measurement{{Seconds: 1}}, Median: 1, Min: 1, Max: 1}}
		if work != "" {
			ref := &Reference{Work: work}
			for _, s := range secs {
				ref.Runs = append(ref.Runs, ReferenceRun{Seconds: s})
			}
			// Half the timings in the run-time report: both count.
			rep.Runtime = &RuntimeReport{Reference: &Reference{Work: work, Runs: ref.Runs[len(ref.Runs)/2:]}}
			ref.Runs = ref.Runs[:len(ref.Runs)/2]
			rep.Reference = ref
		}
		return rep
	}
	cur, base := withRef("w", 0.1, 0.1, 0.1, 0.1), withRef("w", 0.2, 0.2, 0.2, 0.2)
	c := cur.Compare(base, "base.json")
	require.NotNil(t, c.Machine)
	assert.InDelta(t, 0.1, c.Machine.Median, 1e-9)
	assert.InDelta(t, 0.2, c.Machine.Baseline, 1e-9)
	cur.Comparison = c
	var out bytes.Buffer
	require.NoError(t, cur.writeComparison(&out))
	assert.Contains(t, out.String(), "machine reference (w): 0.100 s against the baseline's 0.200 s: the machine was 100 % faster than in the baseline's run")

	assert.Nil(t, cur.Compare(withRef(""), "old.json").Machine, "a baseline without a reference")
	assert.Nil(t, cur.Compare(withRef("other work", 0.2, 0.2), "old.json").Machine, "another reference work")
}
