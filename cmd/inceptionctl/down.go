package main

import (
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

type downOptions struct {
	runtimeOptions
	volumes bool
}

func newDownCmd(g *globalOptions) *cobra.Command {
	o := &downOptions{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop and remove the stack's containers, network and state (volumes with --volumes)",
		Long: `Stops the stack's supervisor, then every container gracefully (dependents first),
removes the containers, the network (CNI attachments, port mappings, the bridge),
the secrets installed for the containers, the state and the logs. Named volumes
stay unless --volumes is given.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := o.stack()
			if err != nil {
				return err
			}
			ctx, s, rt, err := g.openRuntime(cmd.Context(), &o.runtimeOptions, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer s.Close()
			return rt.Down(ctx, st, runtime.DownOptions{Volumes: o.volumes})
		},
	}
	o.addFlags(cmd.Flags(), g)
	cmd.Flags().BoolVarP(&o.volumes, "volumes", "v", false, "also remove the named volumes (their data is lost)")
	return cmd
}
