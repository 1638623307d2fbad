package runtime

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/containerd/containerd/v2/core/runtime/v2/logging"
)

// The runtime needs two helper processes, and runs the program that
// embeds it as both, the way docker's pkg/reexec does: the per-stack
// supervisor (restarts, health checks), started detached, and the log
// shipper containerd's shim starts for every task. The program knows it
// is one by its first argument.
const (
	helperSupervise = "inception-runtime-supervise"
	helperLogger    = "inception-runtime-logger"
)

// helperMainCalled records that this program called HelperMain, so it can
// be its own helper. The one package-level state of the runtime: what
// docker's reexec keeps in its registry.
var helperMainCalled atomic.Bool

// HelperMain runs the runtime's helper when this process was started as
// one, then exits the process with the helper's status; otherwise it
// returns false at once. Call it first in main, before flags are parsed,
// in every program that runs stacks: the runtime then uses the program
// itself (os.Executable) as its helper.
//
//	func main() {
//		if runtime.HelperMain() {
//			return
//		}
//		...
//	}
func HelperMain() bool {
	helperMainCalled.Store(true)
	code, ok := helperMain(os.Args[1:], os.Stderr)
	if !ok {
		return false
	}
	os.Exit(code)
	return true
}

// helperMain runs the helper args name, if any.
func helperMain(args []string, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case helperLogger:
		if len(args) != 2 {
			fmt.Fprintf(stderr, "usage: %s PATH\n", helperLogger)
			return 2, true
		}
		logging.Run(Logger(args[1])) // exits
		return 0, true
	case helperSupervise:
		c, err := parseSupervisorArgs(args[1:], stderr)
		if err != nil {
			return 2, true
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := RunSupervisor(ctx, c); err != nil {
			fmt.Fprintln(stderr, "supervise:", err)
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// supervisorArgs is the command line of the stack's supervisor; see
// parseSupervisorArgs.
func (r *Runtime) supervisorArgs(stackName string) []string {
	return []string{r.cfg.helper, helperSupervise, "--stack", stackName,
		"--root", r.cfg.root, "--run-dir", r.cfg.runDir,
		"--containerd-address", r.cfg.containerdAddress, "--namespace", r.cfg.namespace}
}

func parseSupervisorArgs(args []string, stderr io.Writer) (SupervisorConfig, error) {
	var c SupervisorConfig
	fs := flag.NewFlagSet(helperSupervise, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Stack, "stack", "", "the stack to supervise")
	fs.StringVar(&c.Root, "root", "", "the engine's state directory")
	fs.StringVar(&c.RunDir, "run-dir", "", "the engine's run directory")
	fs.StringVar(&c.ContainerdAddress, "containerd-address", "", "containerd's socket")
	fs.StringVar(&c.Namespace, "namespace", "", "containerd namespace")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Stack == "" || c.Root == "" || c.RunDir == "" || c.ContainerdAddress == "" || c.Namespace == "" || fs.NArg() > 0 {
		err := fmt.Errorf("%s: give --stack, --root, --run-dir, --containerd-address and --namespace, and no arguments", helperSupervise)
		fmt.Fprintln(stderr, err)
		return c, err
	}
	return c, nil
}

// loggerArgs is the query of the binary logging URI (cio.BinaryIO): one
// key, because the shim turns the query into arguments in map order and the
// first one must name the helper: `<helper> inception-runtime-logger PATH`.
func loggerArgs(logPath string) map[string]string {
	return map[string]string{helperLogger: logPath}
}
