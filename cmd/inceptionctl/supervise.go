package main

import (
	"context"

	"github.com/containerd/containerd/v2/core/runtime/v2/logging"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// newSuperviseCmd is the hidden `inceptionctl supervise --stack NAME`: the
// per-stack supervisor that up starts detached (see pkg/runtime's doc).
func newSuperviseCmd(g *globalOptions) *cobra.Command {
	var stackName string
	cmd := &cobra.Command{
		Use:          "supervise --stack NAME",
		Short:        "Restart a stack's services by their policies and run their health checks (started by up)",
		Hidden:       true,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stackName == "" {
				return usagef("--stack is required")
			}
			return runSupervisor(cmd.Context(), g, stackName)
		},
	}
	cmd.Flags().StringVar(&stackName, "stack", "", "the stack to supervise")
	return cmd
}

// runSupervisor runs the stack's supervisor on the engine the global
// flags name; it never starts the engine.
func runSupervisor(ctx context.Context, g *globalOptions, stackName string) error {
	e, err := g.engine()
	if err != nil {
		return err
	}
	return runtime.RunSupervisor(ctx, runtime.SupervisorConfig{
		Stack: stackName, Root: e.Root(), RunDir: e.RunDir(),
		ContainerdAddress: e.ContainerdAddress(), Namespace: e.Namespace(),
	})
}

// newLoggerCmd is the hidden `inceptionctl logger PATH`: containerd's shim
// runs it for each task with the task's stdout and stderr (see pkg/runtime).
func newLoggerCmd() *cobra.Command {
	return &cobra.Command{
		Use:          "logger PATH",
		Short:        "Write a task's output to a rotated JSON log (run by containerd's shim)",
		Hidden:       true,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		Run: func(_ *cobra.Command, args []string) {
			logging.Run(runtime.Logger(args[0]))
		},
	}
}
