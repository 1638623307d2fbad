package runtime

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelperMainIgnoresOtherArguments(t *testing.T) {
	for _, args := range [][]string{nil, {"up", "-d"}, {"supervise", "--stack", "x"}, {"logger", "/tmp/x"}} {
		_, ok := helperMain(args, &bytes.Buffer{})
		assert.False(t, ok, "%q is not a helper invocation", args)
	}
}

func TestHelperMainBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"logger without path", []string{helperLogger}, "usage"},
		{"supervise without stack", []string{helperSupervise, "--root", "/r"}, "give --stack"},
		{"supervise unknown flag", []string{helperSupervise, "--nope"}, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code, ok := helperMain(tc.args, &stderr)
			require.True(t, ok)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tc.want)
		})
	}
}

func TestSupervisorArgsRoundTrip(t *testing.T) {
	r := &Runtime{cfg: config{helper: "/usr/bin/app", root: "/var/lib/x", runDir: "/run/x", containerdAddress: "/run/x/containerd.sock", namespace: "ns"}}
	argv := r.supervisorArgs("proj-a")
	require.Equal(t, []string{"/usr/bin/app", helperSupervise}, argv[:2])
	c, err := parseSupervisorArgs(argv[2:], &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, SupervisorConfig{Stack: "proj-a", Root: "/var/lib/x", RunDir: "/run/x", ContainerdAddress: "/run/x/containerd.sock", Namespace: "ns"}, c)
	assert.Equal(t, map[string]string{helperLogger: "/l"}, loggerArgs("/l"))
}

// TestNoHelperIsAnError: a program that neither called HelperMain nor
// named a helper is told what to do before anything starts, instead of
// having its own binary run with arguments it does not know.
func TestNoHelperIsAnError(t *testing.T) {
	r := &Runtime{cfg: config{root: t.TempDir(), runDir: t.TempDir(), containerdAddress: "/x", namespace: "ns"}}
	err := r.ensureSupervisor(t.Context(), "p")
	require.ErrorIs(t, err, ErrNoHelper)
	assert.Contains(t, err.Error(), "runtime.HelperMain()")
	_, err = r.startTask(t.Context(), nil, "/l")
	assert.ErrorIs(t, err, ErrNoHelper)
}
