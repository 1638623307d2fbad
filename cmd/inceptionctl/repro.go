package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/repro"
	"github.com/inceptionctl/inception/pkg/stack"
)

type reproOptions struct {
	progress string
	keep     string
	format   string
	epoch    int64
}

func newReproCmd(g *globalOptions) *cobra.Command {
	o := &reproOptions{}
	cmd := &cobra.Command{
		Use:   "repro [SERVICE...]",
		Short: "Build service images twice from scratch and check that both give the same digest",
		Long: `Builds the images of the named services (all when none is named) twice, each time
running every step of their graphs again (the build cache is not used; the cache
mounts that hold downloaded packages are), exports both builds as OCI tarballs and
compares their manifest digests. Where an image differs, it names the image config
fields and the layers that differ, and in each layer the files (size, mode, owner,
time, content hash), and exits 1. The image store is not changed.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := stack.Default().Retag("repro")
			if err != nil {
				return err
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
			if o.epoch < 0 {
				return usagef("--source-date-epoch %d: give seconds since 1970, 0 or more", o.epoch)
			}
			targets, err := build.Targets(cmd.Context(), svcs, llbdefs.Recipes())
			if err != nil {
				return usagef("%w", err)
			}
			ctx, s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.ensureBase(ctx, cmd.ErrOrStderr()); err != nil {
				return err
			}
			bk, err := client.New(ctx, s.engine.BuildkitAddress())
			if err != nil {
				return fmt.Errorf("connect to buildkitd at %s: %w", s.engine.BuildkitAddress(), err)
			}
			defer bk.Close()
			dir := o.keep
			if dir == "" {
				if dir, err = os.MkdirTemp(s.engine.Root(), "repro-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			}
			results, err := repro.Run(ctx, bk, targets, dir,
				build.WithProgress(cmd.ErrOrStderr(), o.progress),
				build.WithSourceDateEpoch(time.Unix(o.epoch, 0)))
			if err != nil && !errors.Is(err, repro.ErrNotReproducible) {
				return err
			}
			out := cmd.OutOrStdout()
			if o.format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if e := enc.Encode(results); e != nil {
					return e
				}
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tFIRST BUILD\tSECOND BUILD\tSAME")
			for _, r := range results {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\n", r.Service, r.First, r.Second, r.Same())
			}
			if e := tw.Flush(); e != nil {
				return e
			}
			for _, r := range results {
				if r.Diff != nil {
					fmt.Fprintf(out, "\n%s differs:\n", r.Service)
					r.Diff.Write(out)
				}
			}
			if len(results) > 0 {
				fmt.Fprintf(out, "\nbuilds took %s and %s\n", results[0].Durations[0].Round(time.Second), results[0].Durations[1].Round(time.Second))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.progress, "progress", "auto", "progress output: auto, tty, plain, rawjson or quiet")
	f.StringVar(&o.keep, "keep", "", "keep both builds' OCI tarballs in DIR/1 and DIR/2 (default: a temporary directory, removed)")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.Int64Var(&o.epoch, "source-date-epoch", base.DefaultSourceDateEpoch, "SOURCE_DATE_EPOCH of both builds (default: the base image's creation time)")
	return cmd
}
