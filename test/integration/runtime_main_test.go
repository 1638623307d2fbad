package integration

import (
	"os"
	"testing"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestMain lets the test binary be the runtime's helper, as inceptionctl
// is: the runtime starts it detached as a stack's supervisor, and
// containerd's shim runs it as the log shipper of each task. So the tests
// need no inceptionctl build.
func TestMain(m *testing.M) {
	runtime.HelperMain()
	os.Exit(m.Run())
}
