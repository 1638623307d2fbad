package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/internal/daemons"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// cutSecondRunner takes the second-runner scenario out of names, and says
// whether it was there: it is measured apart from the build and run-time
// scenarios, and never by default.
func cutSecondRunner(names []string) ([]string, bool) {
	if !slices.Contains(names, report.SecondRunner) {
		return names, false
	}
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == report.SecondRunner }), true
}

// secondRunnerPlan checks the images of the second-runner scenario (the
// stack's, all of them by default) and says what it will measure.
func secondRunnerPlan(cmd *cobra.Command, st stack.Stack, images []string, repeats, passes int) ([]string, []bench.BuildOption, error) {
	if len(images) == 0 {
		images = st.Names()
	}
	for _, img := range images {
		if !slices.Contains(st.Names(), img) {
			return nil, nil, usagef("--images: %w %q: the stack has %s", bench.ErrUnknownImage, img, strings.Join(st.Names(), ", "))
		}
	}
	what := "push, fresh builder with and without the registry cache"
	if len(images) == len(st.Names()) {
		what += ", pull and up"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: %s: %s x %d runs (%s)\n", report.SecondRunner, strings.Join(images, ","), repeats, what)
	return images, []bench.BuildOption{bench.WithRepeats(repeats), bench.WithPasses(passes)}, nil
}

// openSecondRunner opens the second-runner bench: its scratch directory
// under the engine's root (registries, fresh builders' state, the pull
// stack's data), the engine's BuildKit client as the first builder, and
// the pull stack when every image is built. done, after the bench's
// Close, removes the directory.
func openSecondRunner(ctx context.Context, cmd *cobra.Command, s *session, st stack.Stack, o *benchOptions, p benchPlan) (_ *bench.SecondRunnerBench, done func(), err error) {
	log := cmd.ErrOrStderr()
	bkd, err := s.engine.BuildkitdBinary()
	if err != nil {
		return nil, nil, fmt.Errorf("the fresh builders run the engine's buildkitd: %w", err)
	}
	reg, err := daemons.FindRegistry()
	if err != nil {
		return nil, nil, err
	}
	unlock, err := lockBenchStack(filepath.Join(s.engine.Root(), "bench-second-runner.lock"))
	if err != nil {
		return nil, nil, err
	}
	var closers []func()
	done = func() {
		for _, f := range slices.Backward(closers) {
			f()
		}
	}
	closers = append(closers, unlock)
	defer func() {
		if err != nil {
			done()
		}
	}()
	dir, err := os.MkdirTemp(s.engine.Root(), "bench-second-runner-")
	if err != nil {
		return nil, nil, fmt.Errorf("second-runner directory: %w", err)
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	bk, err := s.engine.BuildkitClient(cmd.Context())
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, func() { bk.Close() })
	var imgs []bench.Image
	for _, name := range p.srImages {
		sel, err := st.Select([]string{name})
		if err != nil {
			return nil, nil, err
		}
		recipe, err := build.RecipeOf(sel[0], llbdefs.Recipes())
		if err != nil {
			return nil, nil, err
		}
		imgs = append(imgs, bench.Image{Name: name, Build: recipe})
	}
	setup := bench.SecondRunnerSetup{Engine: bk, Containerd: s.cd, Images: imgs, BuildkitdBinary: bkd, RegistryBinary: reg,
		Dir: dir, CertsDir: s.engine.CertsDir()}
	if len(p.srImages) == len(st.Names()) {
		rs, err := bench.NewRuntimeStack(benchPullStack, filepath.Join(dir, "stack"))
		if err != nil {
			return nil, nil, err
		}
		rt, err := s.benchRuntime(rs, benchPullSubnet, log, o.progress)
		if err != nil {
			return nil, nil, err
		}
		setup.Runtime, setup.Stack = rt, rs
	}
	opts := append(slices.Clone(p.srOpts), bench.WithLog(log), bench.WithProgress(log, o.progress))
	b, err := bench.NewSecondRunnerBench(ctx, setup, opts...)
	if err != nil {
		return nil, nil, err
	}
	return b, done, nil
}
