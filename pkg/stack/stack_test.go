package stack

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelect(t *testing.T) {
	st := Stack{Name: "t", Services: []Service{{Name: "a"}, {Name: "b"}, {Name: "c"}}}
	tests := []struct {
		name  string
		in    []string
		want  []string
		error string
	}{
		{name: "all when none named", in: nil, want: []string{"a", "b", "c"}},
		{name: "in the order asked, once each", in: []string{"c", "a", "c"}, want: []string{"c", "a"}},
		{name: "every unknown name at once", in: []string{"a", "x", "y"}, error: `unknown service "x", "y": the stack has a, b, c`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.Select(tc.in)
			if tc.error != "" {
				require.ErrorIs(t, err, ErrUnknownService)
				assert.EqualError(t, err, tc.error)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, s := range got {
				names = append(names, s.Name)
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestImageRef(t *testing.T) {
	ref, err := ImageRef("nginx", "bookworm")
	require.NoError(t, err)
	assert.Equal(t, "docker.io/library/nginx:bookworm", ref)
	for _, tag := range []string{"", "latest"} {
		_, err := ImageRef("nginx", tag)
		assert.Error(t, err, "tag %q", tag)
	}
}

func TestDefaultStackImagesMarshal(t *testing.T) {
	st := Default()
	require.NotEmpty(t, st.Services)
	targets, err := Targets(t.Context(), st.Services, "bookworm")
	require.NoError(t, err)
	for _, tg := range targets {
		assert.NotEmpty(t, tg.Definition.Def, tg.Service)
		assert.Contains(t, string(tg.Config), `"architecture":"amd64"`, tg.Service)
		assert.Equal(t, "docker.io/library/"+tg.Service+":bookworm", tg.Ref)
	}
}

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in   string
		want RestartPolicy
		err  bool
	}{
		{in: "no", want: RestartPolicy{Mode: RestartNo}},
		{in: "always", want: RestartPolicy{Mode: RestartAlways}},
		{in: "unless-stopped", want: RestartPolicy{Mode: RestartUnlessStopped}},
		{in: "on-failure", want: RestartPolicy{Mode: RestartOnFailure}},
		{in: "on-failure:3", want: RestartPolicy{Mode: RestartOnFailure, MaxRetries: 3}},
		{in: "on-failure:-1", err: true},
		{in: "on-failure:x", err: true},
		{in: "always:3", err: true},
		{in: "sometimes", err: true},
		{in: "", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRestartPolicy(tc.in)
			if tc.err {
				assert.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.in, got.String())
		})
	}
}

func TestParseCondition(t *testing.T) {
	for in, want := range map[string]Condition{
		"started": ConditionStarted, "service_started": ConditionStarted,
		"healthy": ConditionHealthy, "service_healthy": ConditionHealthy,
		"completed_successfully": ConditionCompletedSuccessfully,
	} {
		got, err := ParseCondition(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseCondition("ready")
	assert.ErrorIs(t, err, ErrInvalid)
}
