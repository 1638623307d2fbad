package repro

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"

	"github.com/inceptionctl/inception/pkg/build"
)

// Result is what two builds of one image gave.
type Result struct {
	Service string        `json:"service"`
	First   digest.Digest `json:"first"`
	Second  digest.Digest `json:"second"`
	Diff    *Diff         `json:"diff,omitempty"` // nil when the digests are the same
	// Durations of the two builds of the whole set of targets.
	Durations [2]time.Duration `json:"durations"`
}

// Same reports whether both builds gave the same manifest.
func (r Result) Same() bool { return r.First == r.Second && r.Diff == nil }

// ErrNotReproducible is returned by Run, wrapped, when an image differs.
var ErrNotReproducible = errors.New("not reproducible")

// Run builds targets twice on s, each time with every step of their graphs
// run again, exports both builds as OCI tarballs under dir/1 and dir/2 and
// compares them. opts are added to both builds (progress, the epoch). It
// returns an error wrapping ErrNotReproducible when an image differs.
func Run(ctx context.Context, s build.Solver, targets []build.Target, dir string, opts ...build.Option) ([]Result, error) {
	uncached := make([]build.Target, len(targets))
	for i, t := range targets {
		if t.Definition == nil {
			return nil, fmt.Errorf("repro %s: only graph targets can be checked", t.Service)
		}
		t.Definition = Uncached(t.Definition)
		uncached[i] = t
	}
	results := make([]Result, len(targets))
	for i, t := range targets {
		results[i].Service = t.Service
	}
	for round := range 2 {
		out := build.Output{Type: client.ExporterOCI, Dest: filepath.Join(dir, fmt.Sprint(round+1), "{service}.tar")}
		b, err := build.New(s, append(append([]build.Option{}, opts...), build.WithoutStore(), build.WithOutputs(out))...)
		if err != nil {
			return nil, err
		}
		rep, err := b.Build(ctx, uncached)
		if err != nil {
			return nil, fmt.Errorf("build %d: %w", round+1, err)
		}
		for i := range results {
			results[i].Durations[round] = rep.Duration
		}
	}
	var bad []string
	for i, t := range targets {
		a := filepath.Join(dir, "1", t.Service+".tar")
		b := filepath.Join(dir, "2", t.Service+".tar")
		d, da, db, err := CompareTarballs(a, b)
		if err != nil {
			return results, fmt.Errorf("compare %s: %w", t.Service, err)
		}
		results[i].First, results[i].Second, results[i].Diff = da, db, d
		if d != nil {
			bad = append(bad, t.Service)
		}
	}
	if len(bad) > 0 {
		return results, fmt.Errorf("%w: %v", ErrNotReproducible, bad)
	}
	return results, nil
}

// Uncached returns a copy of def in which every step ignores the build
// cache. Cache mounts are not affected.
func Uncached(def *llb.Definition) *llb.Definition {
	c := *def
	c.Metadata = make(map[digest.Digest]llb.OpMetadata, len(def.Def))
	for k, v := range def.Metadata {
		c.Metadata[k] = v
	}
	for _, dt := range def.Def {
		d := digest.FromBytes(dt)
		m := c.Metadata[d]
		m.IgnoreCache = true
		c.Metadata[d] = m
	}
	return &c
}
