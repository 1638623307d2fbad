package benchstat

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
)

// Median is the median of xs (not changed), the mean of the middle two
// for an even count; 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Machine says where the figures come from.
type Machine struct {
	CPUs      int     `json:"cpus"`
	MemoryGiB float64 `json:"memory_gib,omitempty"`
	Kernel    string  `json:"kernel,omitempty"`
	OS        string  `json:"os"`
	Arch      string  `json:"arch"`
}

// ThisMachine reads the CPU count, memory and kernel; what it cannot read
// it leaves out.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb float64
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %f kB", &kb); err == nil {
				m.MemoryGiB = math.Round(kb/1024/1024*10) / 10
				break
			}
		}
		f.Close()
	}
	if dt, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(dt))
	}
	return m
}

// TargetCheck is one ratio checked against a target, as measured. The
// benches set none: their caller checks the figures against its targets.
type TargetCheck struct {
	Name  string  `json:"name"`            // e.g. "no-change/stack llb/dockerfile"
	Ratio float64 `json:"ratio,omitempty"` // median over median
	Limit float64 `json:"limit"`
	Pass  bool    `json:"pass"`
	// Missing says the run measured no case or variant to compute it from.
	Missing bool `json:"missing,omitempty"`
}

// PageCacheTargets are the page cache's figures set against each other,
// from one run: ratios of medians, and whether each meets its target.
type PageCacheTargets struct {
	HitRatio         float64 `json:"hit_ratio"`           // anonymous / anonymous-off
	HitRatioOK       bool    `json:"hit_ratio_ok"`        // >= HitRatioTarget
	LoggedInRatio    float64 `json:"logged_in_ratio"`     // logged-in / logged-in-off
	LoggedInRatioOK  bool    `json:"logged_in_ratio_ok"`  // >= LoggedInRatioTarget
	MissRatio        float64 `json:"miss_ratio"`          // miss / miss-off (what storing costs)
	HitP99ms         float64 `json:"hit_p99_ms"`          // p99 of the anonymous figure
	HitP99OK         bool    `json:"hit_p99_ok"`          // < HitP99msTarget
	LoggedInVsRender float64 `json:"logged_in_vs_render"` // logged-in / anonymous-off
	// The targets the figures were checked against, for the table; a
	// report keeps the verdicts only.
	HitRatioTarget      float64 `json:"-"`
	LoggedInRatioTarget float64 `json:"-"`
	HitP99msTarget      float64 `json:"-"`
}
