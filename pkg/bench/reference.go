package bench

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
// bench (WithMachineReference): how fast the machine itself was, apart
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

// WithMachineReference times the reference work (see Reference) at the
// start of every case and run-time scenario, and before every HTTPS run:
// about a tenth of a second each, with every CPU busy and nothing else
// measured meanwhile.
func WithMachineReference() Option { return func(c *config) { c.reference = true } }

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

// newReference is the reference a bench times: nil unless asked for
// (WithMachineReference).
func (c *config) newReference() *Reference {
	if !c.reference {
		return nil
	}
	return &Reference{Work: referenceWork(), Runs: []ReferenceRun{}}
}

// time does the reference work and adds its time, in pass k. A nil
// reference does nothing.
func (r *Reference) time(k int) {
	if r == nil {
		return
	}
	r.Runs = append(r.Runs, ReferenceRun{Seconds: timeReference().Seconds(), Pass: k})
}

// summarised is r with its statistics, or nil when it has no runs.
func (r *Reference) summarised() *Reference {
	if r == nil || len(r.Runs) == 0 {
		return nil
	}
	secs := r.seconds(0)
	r.Median, r.Min, r.Max = median(secs), slices.Min(secs), slices.Max(secs)
	return r
}

// seconds are the runs' times, of pass k only when k > 0.
func (r *Reference) seconds(k int) []float64 {
	var secs []float64
	for _, run := range r.Runs {
		if k == 0 || run.Pass == k {
			secs = append(secs, run.Seconds)
		}
	}
	return secs
}

// line says what the reference measured: "machine reference (SHA-256 of
// 128 MiB on each of 2 CPUs at once): 0.110 s [0.092-0.131], 38 times;
// pass 1 0.112 s, pass 2 0.104 s".
func (r *Reference) line() string {
	if r == nil || len(r.Runs) == 0 {
		return ""
	}
	s := fmt.Sprintf("machine reference (%s): %.3f s [%.3f-%.3f], %d times", r.Work, r.Median, r.Min, r.Max, len(r.Runs))
	var passes []string
	for k := 1; ; k++ {
		secs := r.seconds(k)
		if len(secs) == 0 {
			break
		}
		passes = append(passes, fmt.Sprintf("pass %d %.3f s", k, median(secs)))
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

// line says how much faster or slower the machine was than in the
// baseline's run.
func (m *MachineChange) line() string {
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

// references are every timing of the reference work in the report, build
// and run-time figures together.
func (rep *Report) references() (work string, secs []float64) {
	for _, r := range []*Reference{rep.Reference, rep.runtimeReference()} {
		if r != nil {
			work = r.Work
			secs = append(secs, r.seconds(0)...)
		}
	}
	return work, secs
}

func (rep *Report) runtimeReference() *Reference {
	if rep.Runtime == nil {
		return nil
	}
	return rep.Runtime.Reference
}

// compareMachine compares the references of rep and base, when both have
// them and they timed the same work.
func (rep *Report) compareMachine(base *Report) *MachineChange {
	work, cur := rep.references()
	bwork, old := base.references()
	if len(cur) == 0 || len(old) == 0 || work != bwork {
		return nil
	}
	return &MachineChange{Work: work, Median: median(cur), Baseline: median(old)}
}
