package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/dockerfile"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

type dockerfileOptions struct {
	context string
	distro  distroFlag
}

// newDockerfileCmd is `inceptionctl dockerfile SERVICE`: the Dockerfile a
// person would write for a service's image, from its LLB graph.
func newDockerfileCmd(_ *globalOptions) *cobra.Command {
	o := &dockerfileOptions{}
	cmd := &cobra.Command{
		Use:   "dockerfile SERVICE",
		Short: "Print the Dockerfile equivalent of a service's image (and write its build context)",
		Long: `Converts the service's LLB graph and image config into the Dockerfile a person
would write: one stage per image source, RUN with cache and bind mounts, COPY
for config files and between stages, merged layers as plain COPY, the config as
ENV, EXPOSE, HEALTHCHECK, ENTRYPOINT, CMD, ...

Config files are copied from a build context: --context DIR writes the
Dockerfile and those files (with their modes) into DIR, which must be new or
empty. Without it only the Dockerfile is printed. A graph step that has no
Dockerfile form is an error that names the step. Needs no engine.`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			svcs, err := stack.Default().Select(args)
			if err != nil {
				return usagef("%w", err)
			}
			dopt, err := o.distro.option()
			if err != nil {
				return err
			}
			recipe, err := build.RecipeOf(svcs[0], llbdefs.Recipes())
			if err != nil {
				return err
			}
			img, err := recipe(dopt)
			if err != nil {
				return err
			}
			res, err := dockerfile.FromImage(cmd.Context(), img)
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(res.Dockerfile); err != nil {
				return err
			}
			if o.context == "" {
				if len(res.Context) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "the Dockerfile copies %d files from its build context: pass --context DIR to write them\n", countFiles(res.Context))
				}
				return nil
			}
			if err := res.WriteContext(o.context); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: Dockerfile and %d context files\n", o.context, countFiles(res.Context))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.context, "context", "", "write the Dockerfile and its build context into this new or empty directory")
	o.distro.add(cmd.Flags())
	return cmd
}

func countFiles(fs []dockerfile.File) int {
	n := 0
	for _, f := range fs {
		if !f.Mode.IsDir() {
			n++
		}
	}
	return n
}
