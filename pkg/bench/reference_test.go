package bench

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
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

// TestCompareMachine: the machine references of both reports, build and
// run-time figures together, when both timed the same work.
func TestCompareMachine(t *testing.T) {
	withRef := func(work string, secs ...float64) *Report {
		rep := NewReport()
		rep.Results = []Result{{Case: Case{Scenario: ScenarioNoChange, Scope: "nginx"}, Variant: VariantLLB,
			Runs: []Measurement{{Seconds: 1}}, Median: 1, Min: 1, Max: 1}}
		if work != "" {
			ref := &benchstat.Reference{Work: work}
			for _, s := range secs {
				ref.Runs = append(ref.Runs, benchstat.ReferenceRun{Seconds: s})
			}
			// Half the timings in the run-time report: both count.
			rep.Runtime = &RuntimeReport{Reference: &benchstat.Reference{Work: work, Runs: ref.Runs[len(ref.Runs)/2:]}}
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
