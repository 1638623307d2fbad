package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/stack"
)

type benchOptions struct {
	repeats   int
	quick     bool
	format    string
	chart     string
	images    []string
	scenarios []string
	variants  []string
	coldStack bool
	progress  string
	keep      bool
	mirror    string
}

// newBenchCmd is `inceptionctl bench`: rebuild times of the project's
// graphs, the same graphs as a linear chain, and the same images as
// Dockerfiles, measured side by side on the engine.
func newBenchCmd(g *globalOptions) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure rebuild times: LLB graphs against a linear chain and the Dockerfile frontend",
		Long: `Measures build times on the engine for each scenario and variant.

Scenarios: no-change (rebuild), config-change (one line appended to one config
file), package-change (one package added), site-change (one line appended to the
static site), cold (build cache pruned; the base image stays in the image store).
no-change and config-change run per image and for the whole stack, package-change
on nginx, site-change on static and in the stack, cold on nginx (--cold-stack: the
stack). Variants: llb (the project's graphs), linear (Merge replaced by copies,
the package in the package list), dockerfile (` + "`inceptionctl dockerfile`" + ` built by
BuildKit's Dockerfile frontend on the same engine).

Every case: a warm-up (none for cold, which prunes before every run), then
--repeats runs with the variants' order rotated run by run. Changes are made in
scratch copies of the embedded files; after each changed build the cache records
it made are pruned and the original is rebuilt from the cache, so every run
starts from the same state. Images go to <service>:bench-<variant> and are
removed at the end. Run it on an engine of your own (--root, --run-dir): the cold
scenario prunes the engine's whole build cache, and each restore prunes every
cache record made since its change was built, other users' included.

Output: a table (or --format json) on stdout, progress on stderr, --chart FILE.svg.
The target ratios of issue 6 are printed as PASS or MISS; they set no exit code.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.repeats, "repeats", 5, "measured runs per case and variant, after one warm-up")
	f.BoolVar(&o.quick, "quick", false, "nginx only, no-change/config-change/package-change, 3 repeats (under 3 minutes)")
	f.StringVar(&o.format, "format", "table", "output: table or json")
	f.StringVar(&o.chart, "chart", "", "also draw an SVG bar chart into this file")
	f.StringSliceVar(&o.images, "images", nil, "images to measure (default: every service)")
	f.StringSliceVar(&o.scenarios, "scenarios", nil, "scenarios: no-change, config-change, package-change, site-change, cold (default: all)")
	f.StringSliceVar(&o.variants, "variants", nil, "variants: llb, linear, dockerfile (default: all)")
	f.BoolVar(&o.coldStack, "cold-stack", false, "cold-build the whole stack instead of nginx alone (slow)")
	f.StringVar(&o.progress, "progress", "quiet", "build progress on stderr: auto, tty, plain, rawjson or quiet")
	f.BoolVar(&o.keep, "keep-images", false, "keep the <service>:bench-<variant> images")
	f.StringVar(&o.mirror, "apt-mirror", "", "Debian mirror for the base image when it has to be made (default: the host's)")
	return cmd
}

func runBench(cmd *cobra.Command, g *globalOptions, o *benchOptions) error {
	// Everything the user typed is checked before any daemon is started.
	st := stack.Default()
	cases, opts, err := o.plan(cmd, st)
	if err != nil {
		return err
	}
	ctx, s, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.ensureBase(ctx, cmd.ErrOrStderr(), base.WithMirror(o.mirror)); err != nil {
		return err
	}
	bk, err := client.New(cmd.Context(), s.engine.BuildkitAddress())
	if err != nil {
		return fmt.Errorf("connect to buildkitd at %s: %w", s.engine.BuildkitAddress(), err)
	}
	defer bk.Close()
	imgs := make([]bench.Image, 0, len(st.Services))
	for _, svc := range st.Services {
		imgs = append(imgs, bench.Image{Name: svc.Name, Build: svc.Image})
	}
	// No containerd namespace on the context: the image store's client
	// has its own, and BuildKit calls must not carry one.
	rep, err := bench.Run(cmd.Context(), bk, imgs, cases, append(opts, bench.WithImageStore(s.cd.ImageService()))...)
	if err != nil {
		return err
	}
	rep.Command = strings.Join(os.Args, " ")
	if o.chart != "" {
		if err := writeChart(o.chart, rep); err != nil {
			return err
		}
	}
	if o.format == "json" {
		return rep.WriteJSON(cmd.OutOrStdout())
	}
	return rep.WriteTable(cmd.OutOrStdout())
}

// plan turns the flags into the cases and options of a run; every error is
// a usage error.
func (o *benchOptions) plan(cmd *cobra.Command, st stack.Stack) ([]bench.Case, []bench.Option, error) {
	if o.format != "table" && o.format != "json" {
		return nil, nil, usagef("--format %q: use table or json", o.format)
	}
	if err := build.CheckProgress(o.progress); err != nil {
		return nil, nil, usagef("--progress: %w", err)
	}
	images, scenarios, repeats := o.images, o.scenarios, o.repeats
	if o.quick {
		q := bench.Quick()
		if len(images) == 0 {
			images = q.Images
		}
		if len(scenarios) == 0 {
			scenarios = q.Scenarios
		}
		if !cmd.Flags().Changed("repeats") {
			repeats = q.Repeats
		}
	}
	if repeats < 1 {
		return nil, nil, usagef("--repeats %d: measure at least once", repeats)
	}
	var scs []bench.Scenario
	for _, s := range scenarios {
		sc, err := bench.ParseScenario(s)
		if err != nil {
			return nil, nil, usagef("--scenarios: %w", err)
		}
		scs = append(scs, sc)
	}
	vs := bench.Variants()
	if len(o.variants) > 0 {
		vs = nil
	}
	for _, s := range o.variants {
		v, err := bench.ParseVariant(s)
		if err != nil {
			return nil, nil, usagef("--variants: %w", err)
		}
		vs = append(vs, v)
	}
	cases, err := bench.Plan(st.Names(), images, scs, o.coldStack)
	if err != nil {
		return nil, nil, usagef("%w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: %d cases x %d variants x (warm-up + %d runs)\n", len(cases), len(vs), repeats)
	opts := []bench.Option{
		bench.WithRepeats(repeats), bench.WithVariants(vs...), bench.WithLog(cmd.ErrOrStderr()),
		bench.WithProgress(cmd.ErrOrStderr(), o.progress),
	}
	if o.keep {
		opts = append(opts, bench.WithKeepImages())
	}
	return cases, opts, nil
}

func writeChart(path string, rep *bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if err := rep.WriteSVG(f); err != nil {
		f.Close()
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return f.Close()
}
