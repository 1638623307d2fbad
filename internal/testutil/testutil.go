// Package testutil holds helpers shared by the integration tests.
package testutil

import (
	"os"
	"testing"
)

// Skip skips the test with reason, except under CI=true where a skip would
// hide a broken set-up: there it fails the test instead.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run under CI=true: %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips (fails under CI) when the test is not run as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "integration test needs root (run make test as root)")
	}
}

// Integration skips (fails under CI) unless integration tests are asked for
// with INCEPTION_INTEGRATION=1, which make test sets, and the test runs as root.
func Integration(t testing.TB) {
	t.Helper()
	if os.Getenv("INCEPTION_INTEGRATION") != "1" {
		Skip(t, "integration test: set INCEPTION_INTEGRATION=1 (make test does)")
	}
	RequireRoot(t)
}
