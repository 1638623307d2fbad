package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/containerd/console"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

type execOptions struct {
	runtimeOptions
	tty         bool
	interactive bool
	user        string
	env         []string
}

// exitCodeError carries the exit code of a command run by exec: main exits
// with it, without a message.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newExecCmd(g *globalOptions) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [-t] [-i] SERVICE COMMAND [ARG...]",
		Short: "Run a command in a running service's container; exits with its exit code",
		Long: `Runs COMMAND in the service's running container, as the container's user, with its
environment. -i passes stdin; -t gives it a terminal when inceptionctl runs in one.
inceptionctl exits with the command's exit code.`,
		Args:         cobra.MinimumNArgs(2),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd, g, o, args)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after SERVICE belong to COMMAND
	o.addFlags(f, g)
	f.BoolVarP(&o.tty, "tty", "t", false, "allocate a terminal (when attached to one)")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "pass stdin to the command")
	f.StringVarP(&o.user, "user", "u", "", "run as uid[:gid] instead of the container's user")
	f.StringArrayVarP(&o.env, "env", "e", nil, "set an environment variable (KEY=value)")
	return cmd
}

func runExec(cmd *cobra.Command, g *globalOptions, o *execOptions, args []string) error {
	st, err := o.stack()
	if err != nil {
		return err
	}
	if err := checkServices(st, args[:1]); err != nil {
		return err
	}
	ctx, s, rt, err := g.openRuntime(cmd.Context(), &o.runtimeOptions, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer s.Close()
	eo := runtime.ExecOptions{Args: args[1:], Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Env: o.env, User: o.user}
	if o.interactive {
		eo.Stdin = cmd.InOrStdin()
	}
	if o.tty && isTerminal(os.Stdin) && isTerminal(stdoutFile(cmd)) {
		con := console.Current()
		if err := con.SetRaw(); err != nil {
			return fmt.Errorf("terminal: %w", err)
		}
		defer con.Reset() //nolint:errcheck // best effort on the way out
		eo.TTY, eo.Stdout, eo.Stderr = true, con, io.Discard
		if o.interactive {
			eo.Stdin = con
		}
		sizes := make(chan runtime.TermSize, 1)
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		sendSize := func() {
			if ws, err := con.Size(); err == nil {
				select {
				case sizes <- runtime.TermSize{Width: ws.Width, Height: ws.Height}:
				default:
				}
			}
		}
		sendSize()
		go func() {
			for range winch {
				sendSize()
			}
		}()
		eo.Resize = sizes
	}
	code, err := rt.Exec(ctx, st.Name, args[0], eo)
	if err != nil {
		return err
	}
	if code != 0 {
		return &exitCodeError{code: code}
	}
	return nil
}
