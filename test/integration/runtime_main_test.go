package integration

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestMain lets the test binary be the runtime's helper, as inceptionctl
// is: the runtime starts it detached as a stack's supervisor, and
// containerd's shim runs it as the log shipper of each task. So the tests
// need no inceptionctl build. After the tests, the image tests' network
// goes (its bridge and iptables rules), as a stack's does at down.
func TestMain(m *testing.M) {
	runtime.HelperMain()
	code := m.Run()
	if shared != nil {
		nw, err := imageTestNetwork(shared)
		if err == nil {
			err = nw.Teardown(context.Background())
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "image tests' network: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}
