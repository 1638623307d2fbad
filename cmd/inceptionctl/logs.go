package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

type logsOptions struct {
	runtimeOptions
	follow     bool
	tail       int
	timestamps bool
}

func newLogsCmd(g *globalOptions) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:          "logs [SERVICE...]",
		Short:        "Print the services' logs, prefixed with the service name",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := o.stack()
			if err != nil {
				return err
			}
			if err := checkServices(st, args); err != nil {
				return err
			}
			ctx, s, rt, err := g.openRuntime(cmd.Context(), &o.runtimeOptions, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer s.Close()
			return rt.Logs(ctx, st.Name, runtime.LogsOptions{
				Services: args, Follow: o.follow, Tail: o.tail, Timestamps: o.timestamps,
				Color: isTerminal(stdoutFile(cmd)), Notices: cmd.ErrOrStderr(),
			}, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	// -f is --follow here, as in docker compose logs: the file is --file.
	f.BoolVarP(&o.follow, "follow", "f", false, "keep printing new lines")
	o.addFlags(f, g)
	f.IntVarP(&o.tail, "tail", "n", -1, "lines to show from the end of each log (-1: all)")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "show each line's time")
	return cmd
}

// stdoutFile returns the command's output when it is a file (for the
// terminal check), else nil.
func stdoutFile(cmd *cobra.Command) *os.File {
	f, _ := cmd.OutOrStdout().(*os.File)
	return f
}
