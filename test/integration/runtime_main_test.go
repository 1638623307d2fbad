package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/containerd/containerd/v2/core/runtime/v2/logging"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestMain lets the test binary stand in for inceptionctl's hidden helper
// commands: the runtime starts `<helper> supervise ...` detached and
// containerd's shim runs `<helper> logger PATH` for each task. The tests pass
// their own binary as the helper, so they need no inceptionctl build.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "logger":
			if len(os.Args) != 3 {
				fmt.Fprintln(os.Stderr, "usage: logger PATH")
				os.Exit(2)
			}
			logging.Run(runtime.Logger(os.Args[2])) // exits
		case "supervise":
			os.Exit(superviseMain(os.Args[2:]))
		}
	}
	os.Exit(m.Run())
}

// superviseMain takes the flags the runtime starts its supervisor with.
func superviseMain(args []string) int {
	var c runtime.SupervisorConfig
	fs := flag.NewFlagSet("supervise", flag.ContinueOnError)
	fs.StringVar(&c.Stack, "stack", "", "")
	fs.StringVar(&c.Root, "root", "", "")
	fs.StringVar(&c.RunDir, "run-dir", "", "")
	fs.StringVar(&c.ContainerdAddress, "containerd-address", "", "")
	fs.StringVar(&c.Namespace, "namespace", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runtime.RunSupervisor(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "supervise:", err)
		return 1
	}
	return 0
}
