package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

type psOptions struct {
	runtimeOptions
	format string
}

func newPsCmd(g *globalOptions) *cobra.Command {
	o := &psOptions{}
	cmd := &cobra.Command{
		Use:          "ps",
		Short:        "List the stack's services: state, health, restarts, ports, uptime",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "table" && o.format != "json" {
				return usagef("--format %q: use table or json", o.format)
			}
			ctx, s, rt, err := g.openRuntime(cmd.Context(), &o.runtimeOptions, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer s.Close()
			st, err := o.stack()
			if err != nil {
				return err
			}
			reps, err := rt.PS(ctx, st.Name)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(reps)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SERVICE\tSTATE\tHEALTH\tRESTARTS\tPORTS\tUPTIME")
			for _, r := range reps {
				state := string(r.State)
				if r.ExitCode != nil {
					state = fmt.Sprintf("%s (%d)", state, *r.ExitCode)
				}
				uptime := "-"
				if r.State == runtime.StatusRunning && !r.StartedAt.IsZero() {
					uptime = time.Since(r.StartedAt).Round(time.Second).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Service, state, r.Health, r.Restarts, r.PortsString(), uptime)
			}
			return tw.Flush()
		},
	}
	o.addFlags(cmd.Flags(), g)
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: table or json")
	return cmd
}
