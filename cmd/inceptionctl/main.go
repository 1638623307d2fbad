// Command inceptionctl builds and runs the Inception stack with BuildKit and
// containerd, without Dockerfiles and without Docker.
//
// Exit codes: 0 success, 1 failure, 2 usage error; exec exits with the
// command's exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/log"

	"github.com/inceptionctl/inception/pkg/runtime"
)

func main() {
	// The runtime runs inceptionctl itself as each stack's supervisor and
	// as the log shipper of every container: those runs end here.
	runtime.HelperMain()
	// containerd's resolver logs its HTTPS-then-HTTP fallback and every
	// 404 it probes at info level; what a pull or push does is printed by
	// the commands, and its errors are returned.
	_ = log.SetLevel("warn")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	var ce *exitCodeError
	if errors.As(err, &ce) {
		os.Exit(ce.code) // exec: the command's own exit code, no message
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "inceptionctl:", err)
		var ue *usageError
		// cobra reports an unknown subcommand with a plain error.
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
