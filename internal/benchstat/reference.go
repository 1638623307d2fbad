package benchstat

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Reference is a fixed piece of CPU work, timed now and then during a
// bench (bench.WithMachineReference): how fast the machine itself was, apart
// from anything the bench measures. The speed of a shared VM's CPUs
// wanders, by 10-20 % between one quarter of an hour and the next on the
// machine the README's figures come from; two runs' figures compare
// fairly only when their references agree, and a comparison says how far
// they do not (Comparison.Machine).
type Reference struct {
	Work   string         `json:"work"` // what is timed
	Runs   []ReferenceRun `json:"runs"`
	Median float64        `json:"median_s"`
	Min    float64        `json:"min_s"`
	Max    float64        `json:"max_s"`
}

// ReferenceRun is one timing of the reference work.
type ReferenceRun struct {
	Seconds float64 `json:"seconds"`
	Pass    int     `json:"pass,omitempty"`
}

// referenceBytes is what each CPU hashes, in referenceChunk pieces.
const (
	referenceBytes = 128 << 20
	referenceChunk = 8 << 20
)

// referenceWork says what timeReference times.
func referenceWork() string {
	return fmt.Sprintf("SHA-256 of %d MiB on each of %d CPUs at once", referenceBytes>>20, runtime.NumCPU())
}

var referenceBuf = sync.OnceValue(func() []byte {
	b := make([]byte, referenceChunk)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
})

// timeReference does the reference work and times it.
func timeReference() time.Duration {
	buf := referenceBuf()
	n := runtime.NumCPU()
	var wg sync.WaitGroup
	start := time.Now()
	for range n {
		wg.Go(func() {
			h := sha256.New()
			for range referenceBytes / referenceChunk {
				h.Write(buf)
			}
			h.Sum(nil)
		})
	}
	wg.Wait()
	return time.Since(start)
}

// NewReference is a reference with no timing yet.
func NewReference() *Reference {
	return &Reference{Work: referenceWork(), Runs: []ReferenceRun{}}
}

// Time does the reference work and adds its time, in pass k. A nil
// reference does nothing.
func (r *Reference) Time(k int) {
	if r == nil {
		return
	}
	r.Runs = append(r.Runs, ReferenceRun{Seconds: timeReference().Seconds(), Pass: k})
}

// Summarised is r with its statistics, or nil when it has no runs.
func (r *Reference) Summarised() *Reference {
	if r == nil || len(r.Runs) == 0 {
		return nil
	}
	secs := r.Seconds(0)
	r.Median, r.Min, r.Max = Median(secs), slices.Min(secs), slices.Max(secs)
	return r
}

// Seconds are the runs' times, of pass k only when k > 0.
func (r *Reference) Seconds(k int) []float64 {
	var secs []float64
	for _, run := range r.Runs {
		if k == 0 || run.Pass == k {
			secs = append(secs, run.Seconds)
		}
	}
	return secs
}

// Line says what the reference measured: "machine reference (SHA-256 of
// 128 MiB on each of 2 CPUs at once): 0.110 s [0.092-0.131], 38 times;
// pass 1 0.112 s, pass 2 0.104 s".
func (r *Reference) Line() string {
	if r == nil || len(r.Runs) == 0 {
		return ""
	}
	s := fmt.Sprintf("machine reference (%s): %.3f s [%.3f-%.3f], %d times", r.Work, r.Median, r.Min, r.Max, len(r.Runs))
	var passes []string
	for k := 1; ; k++ {
		secs := r.Seconds(k)
		if len(secs) == 0 {
			break
		}
		passes = append(passes, fmt.Sprintf("pass %d %.3f s", k, Median(secs)))
	}
	if len(passes) > 1 {
		s += "; " + strings.Join(passes, ", ")
	}
	return s
}

// MachineChange compares the machine references of two runs: medians of
// every timing of the reference work in each.
type MachineChange struct {
	Work     string  `json:"work"`
	Median   float64 `json:"median_s"`          // this run's
	Baseline float64 `json:"baseline_median_s"` // the baseline's
}

// Line says how much faster or slower the machine was than in the
// baseline's run.
func (m *MachineChange) Line() string {
	ratio := m.Median / m.Baseline
	how := "as fast as"
	switch {
	case ratio < 0.995:
		how = fmt.Sprintf("%.0f %% faster than", (1/ratio-1)*100)
	case ratio > 1.005:
		how = fmt.Sprintf("%.0f %% slower than", (1-1/ratio)*100)
	}
	return fmt.Sprintf("machine reference (%s): %.3f s against the baseline's %.3f s: the machine was %s in the baseline's run",
		m.Work, m.Median, m.Baseline, how)
}

// CompareMachine compares the timings of the references cur (of this
// run: build and run-time figures together) with base's, when both have
// timings of the same work.
func CompareMachine(cur, base []*Reference) *MachineChange {
	work, now := timings(cur)
	bwork, old := timings(base)
	if len(now) == 0 || len(old) == 0 || work != bwork {
		return nil
	}
	return &MachineChange{Work: work, Median: Median(now), Baseline: Median(old)}
}

// timings are every timing of refs' work.
func timings(refs []*Reference) (work string, secs []float64) {
	for _, r := range refs {
		if r != nil {
			work = r.Work
			secs = append(secs, r.Seconds(0)...)
		}
	}
	return work, secs
}
