package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/engine"
)

// newEngineCmd is `inceptionctl engine`: the embedded containerd and
// buildkitd that every other command talks to.
func newEngineCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "engine",
		Short: "Start, stop and inspect the embedded containerd and buildkitd",
		Long: `The engine is a private containerd and a buildkitd whose containerd worker
shares one namespace with the runtime. They run detached, state under --root,
sockets and pid files under --run-dir, logs under <root>/logs.

--containerd-address and --buildkit-addr replace an embedded daemon with an
existing one: it is then only checked, never started or stopped.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
	}
	cmd.AddCommand(newEngineStartCmd(g), newEngineStopCmd(g), newEngineStatusCmd(g))
	return cmd
}

func newEngineStartCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:          "start",
		Short:        "Start the engine's daemons unless they run, and wait until they answer",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := newEngine(g)
			if err != nil {
				return err
			}
			if err := e.Ensure(cmd.Context()); err != nil {
				return err
			}
			st, err := e.Status(cmd.Context())
			if err != nil {
				return err
			}
			return writeEngineStatus(cmd.OutOrStdout(), st, engineFormatTable)
		},
	}
}

func newEngineStopCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the engine's embedded daemons (containers keep running)",
		Long: `Stop sends SIGTERM to buildkitd, then containerd, and SIGKILL after a grace
period. containerd's shims are not signalled: running containers survive and
the next start picks them up. External daemons are left alone. Stopping a
stopped engine succeeds.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := newEngine(g)
			if err != nil {
				return err
			}
			if err := e.Stop(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "engine stopped")
			return nil
		},
	}
}

// engineStatusOptions are the flags of `inceptionctl engine status`.
type engineStatusOptions struct {
	format string
}

func newEngineStatusCmd(g *globalOptions) *cobra.Command {
	o := &engineStatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the engine's daemons answer",
		Long: `Status asks each daemon whether it answers and prints its address, pid,
version and log. It exits 1 when a daemon does not answer.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := parseEngineFormat(o.format)
			if err != nil {
				return err
			}
			e, err := newEngine(g)
			if err != nil {
				return err
			}
			st, err := e.Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := writeEngineStatus(cmd.OutOrStdout(), st, format); err != nil {
				return err
			}
			if down := notRunning(st); len(down) > 0 {
				return fmt.Errorf("%w: %s", engine.ErrNotRunning, strings.Join(down, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.format, "format", string(engineFormatTable), "output format: table or json")
	return cmd
}

// newEngine builds the engine from the global flags; bad flag values are
// usage errors (exit code 2).
func newEngine(g *globalOptions) (*engine.Engine, error) {
	e, err := g.engine()
	if errors.Is(err, errdefs.ErrInvalidArgument) {
		return nil, &usageError{err: err}
	}
	return e, err
}

// engineFormat is how engine status is printed.
type engineFormat string

const (
	engineFormatTable engineFormat = "table"
	engineFormatJSON  engineFormat = "json"
)

func parseEngineFormat(s string) (engineFormat, error) {
	switch f := engineFormat(s); f {
	case engineFormatTable, engineFormatJSON:
		return f, nil
	}
	return "", usagef("unknown --format %q: use table or json", s)
}

func notRunning(st engine.Status) []string {
	var down []string
	if !st.Containerd.Running {
		down = append(down, "containerd")
	}
	if !st.Buildkitd.Running {
		down = append(down, "buildkitd")
	}
	return down
}

func writeEngineStatus(w io.Writer, st engine.Status, format engineFormat) error {
	if format == engineFormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tRUNNING\tPID\tVERSION\tADDRESS\tLOG")
	daemons := []struct {
		name string
		ds   engine.DaemonStatus
	}{{"containerd", st.Containerd}, {"buildkitd", st.Buildkitd}}
	for _, d := range daemons {
		running, pid, log := "no", "-", orDash(d.ds.Log)
		if d.ds.Running {
			running = "yes"
		}
		if d.ds.PID != 0 {
			pid = strconv.Itoa(d.ds.PID)
		}
		if d.ds.External {
			pid, log = "external", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.name, running, pid, orDash(d.ds.Version), d.ds.Address, log)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range daemons {
		if d.ds.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", d.name, d.ds.Error)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
