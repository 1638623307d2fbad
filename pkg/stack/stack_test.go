package stack

import (
	"strings"
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

func TestDefaultStackImages(t *testing.T) {
	st := Default()
	require.NotEmpty(t, st.Services)
	assert.Equal(t, DefaultProjectName, st.Name)
	for _, svc := range st.Services {
		assert.Equal(t, "docker.io/library/"+svc.Name+":bookworm", svc.Image)
		require.NotNil(t, svc.Build, svc.Name)
		assert.Equal(t, svc.Name, svc.Build.Recipe)
	}
	re, err := Stack{Name: "p", Services: []Service{
		{Name: "own", Image: "own:bookworm", Build: &Build{Recipe: "own"}},
		{Name: "cache", Image: "redis:7"},
	}}.Retag("test")
	require.NoError(t, err)
	assert.Equal(t, "docker.io/library/own:test", re.Services[0].Image, "built from a recipe: retagged")
	assert.Equal(t, "redis:7", re.Services[1].Image, "an image by reference: left alone")
	_, err = Default().Retag("latest")
	assert.Error(t, err)
}

func TestNormalizeImage(t *testing.T) {
	for in, want := range map[string]string{
		"redis:7":                          "docker.io/library/redis:7",
		"redis":                            "docker.io/library/redis:latest",
		"docker.io/library/nginx:bookworm": "docker.io/library/nginx:bookworm",
		"localhost:5000/app:1":             "localhost:5000/app:1",
		"ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		got, err := NormalizeImage(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "Redis:7", "redis:", "a b"} {
		_, err := NormalizeImage(in)
		assert.ErrorIs(t, err, ErrInvalid, in)
	}
}

func TestValidateProjectName(t *testing.T) {
	for _, ok := range []string{"inception", "inception-dev", "a", "0x", "my_app-2", strings.Repeat("a", MaxProjectName)} {
		assert.NoError(t, ValidateProjectName(ok), ok)
	}
	for _, bad := range []string{"", "Inception", "-x", "_x", "a.b", "a b", "é", strings.Repeat("a", MaxProjectName+1)} {
		assert.ErrorIs(t, ValidateProjectName(bad), ErrInvalid, bad)
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
