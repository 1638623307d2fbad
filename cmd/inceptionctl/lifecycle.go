package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// newLifecycleCmd makes stop, start and restart: one shape, one action.
func newLifecycleCmd(g *globalOptions, use, short string, action func(*runtime.Runtime, context.Context, string, []string) error) *cobra.Command {
	o := &runtimeOptions{}
	cmd := &cobra.Command{
		Use:          use + " [SERVICE...]",
		Short:        short,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := o.stack()
			if err != nil {
				return err
			}
			if err := checkServices(st, args); err != nil {
				return err
			}
			ctx, s, rt, err := g.openRuntime(cmd.Context(), o, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer s.Close()
			return action(rt, ctx, st.Name, args)
		},
	}
	o.addFlags(cmd.Flags(), g)
	return cmd
}

func newStopCmd(g *globalOptions) *cobra.Command {
	return newLifecycleCmd(g, "stop", "Stop services gracefully (stop signal, grace period, SIGKILL); they stay stopped", (*runtime.Runtime).Stop)
}

func newStartCmd(g *globalOptions) *cobra.Command {
	return newLifecycleCmd(g, "start", "Start stopped services of the stack (up creates them)", (*runtime.Runtime).Start)
}

func newRestartCmd(g *globalOptions) *cobra.Command {
	return newLifecycleCmd(g, "restart", "Stop then start services", (*runtime.Runtime).Restart)
}
