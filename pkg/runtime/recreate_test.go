package runtime

import (
	"context"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/identifiers"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckID(t *testing.T) {
	tests := []struct {
		name, id, want string
	}{
		{name: "compose name", id: "inception-wordpress", want: "inception-wordpress.check"},
		{name: "container_name", id: "my_db", want: "my_db.check"},
		{name: "too long for a suffix", id: strings.Repeat("a", 71), want: "inc-check."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkID(tc.id)
			assert.True(t, strings.HasPrefix(got, tc.want), got)
			assert.NotEqual(t, tc.id, got)
			assert.LessOrEqual(t, len(got), maxContainerID)
			require.NoError(t, identifiers.Validate(got), "containerd takes it as an id")
		})
	}
	assert.NotEqual(t, checkID(strings.Repeat("a", 71)), checkID(strings.Repeat("a", 72)))
}

// TestWithOwnNetNS: the trial container gets a new network namespace in
// place of the service's, and keeps every other namespace.
func TestWithOwnNetNS(t *testing.T) {
	var s oci.Spec
	require.NoError(t, withNetNS("/run/inc/netns/p/web")(context.Background(), nil, &containers.Container{}, &s))
	require.NoError(t, oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.PIDNamespace})(context.Background(), nil, &containers.Container{}, &s))
	require.NoError(t, withOwnNetNS()(context.Background(), nil, &containers.Container{}, &s))
	assert.ElementsMatch(t, []specs.LinuxNamespace{{Type: specs.NetworkNamespace}, {Type: specs.PIDNamespace}}, s.Linux.Namespaces)
}
