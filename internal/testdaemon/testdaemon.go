// Package testdaemon starts a daemon a test needs (a registry, a second
// buildkitd) and stops it when the test ends.
package testdaemon

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Start runs bin with args, its output appended to logPath. At the end of
// the test it gets SIGTERM, then SIGKILL after grace; it is killed with the
// test process too. The returned channel closes when it has exited.
func Start(t testing.TB, logPath string, grace time.Duration, bin string, args ...string) <-chan struct{} {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	return exited
}
