package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
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
	push      bool
	registry  string
	metadata  string
	baseRef   string
	distro    distroFlag
	composeOptions
	attest attestOptions
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
	f.StringArrayVarP(&o.outputs, "output", "o", nil, "also export: type=oci,dest=FILE or type=docker,dest=FILE (a directory or {service} for several images), type=registry,name=REG/NS/{service}:TAG (a push; add registry.insecure=true for plain HTTP)")
	f.BoolVar(&o.push, "push", false, "also push every image as REGISTRY/{service}:TAG (shorthand for -o type=registry; needs --registry)")
	f.StringVar(&o.registry, "registry", os.Getenv("IMAGE_REGISTRY"), "registry and namespace --push pushes to, e.g. registry.example.com/inception (env IMAGE_REGISTRY)")
	f.StringVar(&o.metadata, "metadata-file", "", "write what was built and pushed, per service, as JSON (buildx's keys: containerimage.digest, image.name, containerimage.descriptor)")
	f.StringVar(&o.baseRef, "base", "", "build every image from this base image reference in a registry (e.g. REG/NS/debian:bookworm, see `base --push`) instead of the local base")
	f.StringArrayVar(&o.cacheTo, "cache-to", nil, "export the build cache: type=registry,ref=REG/NS/{service}:buildcache[,mode=max], type=inline or type=local,dest=DIR")
	f.StringArrayVar(&o.cacheFrom, "cache-from", nil, "import a build cache (repeatable): type=registry,ref=REG/NS/{service}:buildcache or type=local,src=DIR")
	f.StringVar(&o.tag, "tag", "bookworm", "image tag (never latest)")
	f.StringVar(&o.mirror, "apt-mirror", "", "Debian mirror for the base image when it has to be made (default: the host's)")
	f.StringVar(&o.format, "format", "table", "summary format: table or json")
	o.distro.add(f)
	o.addComposeFlags(f)
	addAttestFlags(f, &o.attest)
	return cmd
}

func runBuild(cmd *cobra.Command, g *globalOptions, o *buildOptions, args []string) error {
	// Everything the user typed is checked before any daemon is started.
	st, err := stack.Default().Retag(o.tag)
	if err != nil {
		return usagef("--tag: %w", err)
	}
	if o.composeMode() {
		if cmd.Flags().Changed("tag") {
			return usagef("--tag names the Inception stack's images: a compose file names its own (image:)")
		}
		app, err := o.loadCompose(cmd.Context(), g.project)
		if err != nil {
			return err
		}
		st = app.Stack
	}
	svcs, err := st.Select(args)
	if err != nil {
		return usagef("%w", err)
	}
	if o.format != "table" && o.format != "json" {
		return usagef("--format %q: use table or json", o.format)
	}
	if err := build.CheckProgress(o.progress); err != nil {
		return usagef("--progress: %w", err)
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
	if err := o.attest.check(outputs); err != nil {
		return usagef("%w", err)
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
	if o.push {
		out, err := build.PushOutput(o.registry, o.tag)
		if err != nil {
			return usagef("--push: %w", err)
		}
		bopts = append(bopts, build.WithOutputs(out))
	}
	dopt, err := o.distro.option()
	if err != nil {
		return err
	}
	graphOpts := []llbdefs.Option{dopt}
	baseOpts := []base.Option{base.WithMirror(o.mirror)}
	if o.distro.alpine() {
		baseOpts = nil // from a registry, never made here
	}
	if o.baseRef != "" {
		graphOpts = append(graphOpts, llbdefs.WithBase(o.baseRef))
		baseOpts = nil
	}
	targets, err := buildTargetsOf(cmd.Context(), svcs, graphOpts...)
	if err != nil {
		return usagef("%w", err)
	}
	if len(targets) == 0 {
		return usagef("nothing to build: no service named has a build")
	}

	ctx, s, err := g.open(cmd.Context())
	if err != nil {
		return err
	}
	defer s.Close()
	report, err := s.buildTargets(ctx, cmd.ErrOrStderr(), baseOpts, targets, bopts...)
	if err != nil {
		return o.distro.explain(err)
	}
	if o.metadata != "" {
		if err := report.WriteMetadata(o.metadata); err != nil {
			return err
		}
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
