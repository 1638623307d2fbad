package main

import (
	"errors"
	"fmt"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/sbom"
	"github.com/inceptionctl/inception/pkg/stack"
)

type sbomOptions struct {
	format string
	tag    string
}

func newSbomCmd(g *globalOptions) *cobra.Command {
	o := &sbomOptions{}
	cmd := &cobra.Command{
		Use:   "sbom SERVICE",
		Short: "Print the software bill of materials of a built service image (SPDX 2.3 JSON or a table)",
		Long: `Reads the stored image of SERVICE layer by layer and prints what it holds: every
package of its dpkg database (version, architecture, source package, the licence its
Debian copyright file names, a pkg:deb purl) and the Go modules of its Go binaries
(pkg:golang purls). Nothing is run: build the image first with "inceptionctl build".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.format != "spdx-json" && o.format != "table" {
				return usagef("--format %q: use spdx-json or table", o.format)
			}
			svcs, err := stack.Default().Select(args)
			if err != nil {
				return usagef("%w", err)
			}
			ref, err := stack.ImageRef(svcs[0].Name, o.tag)
			if err != nil {
				return usagef("--tag: %w", err)
			}
			ctx, s, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			img, err := s.cd.ImageService().Get(ctx, ref)
			if errors.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("image %s is not in the store: build it with `inceptionctl build %s`", ref, svcs[0].Name)
			} else if err != nil {
				return fmt.Errorf("image %s: %w", ref, err)
			}
			inv, doc, err := sbom.ForImage(ctx, s.cd.ContentStore(), img)
			if err != nil {
				return err
			}
			if o.format == "table" {
				return inv.WriteTable(cmd.OutOrStdout())
			}
			return sbom.WriteJSON(cmd.OutOrStdout(), doc)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "spdx-json", "output format: spdx-json or table")
	cmd.Flags().StringVar(&o.tag, "tag", "bookworm", "image tag")
	return cmd
}
