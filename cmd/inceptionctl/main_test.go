package main

import (
	"os"
	"testing"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestMain lets the test binary be the runtime's helper, as inceptionctl
// is, so the commands run in process (up) can start a stack's supervisor
// and log shipper.
func TestMain(m *testing.M) {
	runtime.HelperMain()
	os.Exit(m.Run())
}
