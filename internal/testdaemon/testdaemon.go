// Package testdaemon starts a daemon a test needs (a registry, a second
// buildkitd) and stops it when the test ends: internal/daemons' Start,
// tied to the test.
package testdaemon

import (
	"testing"
	"time"

	"github.com/inceptionctl/inception/internal/daemons"
)

// Start runs bin with args, its output written to logPath. At the end of
// the test it gets SIGTERM, then SIGKILL after grace; it is killed with the
// test process too. The returned channel closes when it has exited.
func Start(t testing.TB, logPath string, grace time.Duration, bin string, args ...string) <-chan struct{} {
	t.Helper()
	p, err := daemons.Start(logPath, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(grace) })
	return p.Exited()
}
