package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/stack"
)

type buildOptions struct {
	progress  string
	outputs   []string
	cacheTo   []string
	cacheFrom []string
	tag       string
	mirror    string
	format    string
	attest    attestOptions
}

func newBuildCmd(g *globalOptions) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build [SERVICE...]",
		Short: "Build service images from Go-emitted LLB on BuildKit (all services when none is named)",
		Long: `Builds the images of the named services (all when none is named) in parallel on
BuildKit and stores them in the engine's image store as <service>:<tag>. The Debian
base image is made first when it is missing.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBuild(cmd, g, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.progress, "progress", "auto", "progress output: auto, tty, plain, rawjson or quiet")
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "also export as a tarball: type=oci,dest=FILE or type=docker,dest=FILE (a directory or {service} for several images)")
	f.StringArrayVar(&o.cacheTo, "cache-to", nil, "export the build cache: type=local,dest=DIR")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "import a build cache: type=local,src=DIR")
	f.StringVar(&o.tag, "tag", "bookworm", "image tag (never latest)")
	f.StringVar(&o.mirror, "apt-mirror", "", "Debian mirror for the base image when it has to be made (default: the host's)")
	f.StringVar(&o.format, "format", "table", "summary format: table or json")
	addAttestFlags(f, &o.attest)
	return cmd
}

func runBuild(cmd *cobra.Command, g *globalOptions, o *buildOptions, args []string) error {
	// Everything the user typed is checked before any daemon is started.
	svcs, err := stack.Default().Select(args)
	if err != nil {
		return usagef("%w", err)
	}
	if o.format != "table" && o.format != "json" {
		return usagef("--format %q: use table or json", o.format)
	}
	if err := build.CheckProgress(o.progress); err != nil {
		return usagef("--progress: %w", err)
	}
	if err := o.attest.check(); err != nil {
		return usagef("%w", err)
	}
	bopts := []build.Option{build.WithProgress(cmd.ErrOrStderr(), o.progress)}
	var outputs []build.Output
	for _, s := range o.outputs {
		out, err := build.ParseOutput(s)
		if err != nil {
			return usagef("--output: %w", err)
		}
		bopts = append(bopts, build.WithOutputs(out))
		outputs = append(outputs, out)
	}
	attestOpts, sboms := o.attest.buildOptions(outputs)
	bopts = append(bopts, attestOpts...)
	for _, s := range o.cacheTo {
		c, err := build.ParseCache(s)
		if err != nil {
			return usagef("--cache-to: %w", err)
		}
		bopts = append(bopts, build.WithCacheTo(c))
	}
	for _, s := range o.cacheFrom {
		c, err := build.ParseCache(s)
		if err != nil {
			return usagef("--cache-from: %w", err)
		}
		bopts = append(bopts, build.WithCacheFrom(c))
	}
	targets, err := stack.Targets(cmd.Context(), svcs, o.tag)
	if err != nil {
		return usagef("%w", err)
	}

	ctx, s, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer s.Close()
	report, err := s.buildTargets(ctx, cmd.ErrOrStderr(), []base.Option{base.WithMirror(o.mirror)}, targets, bopts...)
	if err != nil {
		return err
	}
	if err := sboms.write(outputs, len(targets)); err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tIMAGE\tDIGEST\tCACHED\tTIME")
	for _, r := range report.Images {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\n", r.Service, r.Ref, shortDigest(r.Digest), r.Cached, r.Vertices, r.Duration.Round(10*time.Millisecond))
	}
	return tw.Flush()
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
