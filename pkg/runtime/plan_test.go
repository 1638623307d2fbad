package runtime

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

const noImage = "example.test/none:1"

func testRuntime(t *testing.T) *Runtime {
	t.Helper()
	secrets := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "db_password"), []byte("s3cret"), 0o600))
	return &Runtime{cfg: config{secretsDir: secrets, hostIP: "127.0.0.1", dataDir: t.TempDir()}}
}

func TestCheckStack(t *testing.T) {
	r := testRuntime(t)
	ok := stack.Stack{Name: "st", Services: []stack.Service{
		{Name: "db", Image: noImage, Secrets: []string{"db_password"}, Restart: stack.RestartPolicy{Mode: stack.RestartOnFailure, MaxRetries: 3}},
		{Name: "web", Image: noImage, DependsOn: map[string]stack.Condition{"db": stack.ConditionHealthy},
			Ports: []stack.Port{{HostPort: 8443, ContainerPort: 443}}},
	}}
	_, err := r.checkStack(ok)
	require.NoError(t, err)

	tests := []struct {
		name   string
		mutate func(*stack.Stack)
		want   []string
		is     error
	}{
		{"missing secret names the file, not the content", func(s *stack.Stack) { s.Services[0].Secrets = []string{"db_password", "nope"} },
			[]string{`secret "nope"`, filepath.Join(r.cfg.secretsDir, "nope")}, ErrSecretMissing},
		{"cycle", func(s *stack.Stack) { s.Services[0].DependsOn = map[string]stack.Condition{"web": ""} }, []string{"db -> web -> db"}, ErrDependencyCycle},
		{"unknown dependency", func(s *stack.Stack) { s.Services[1].DependsOn = map[string]stack.Condition{"cache": ""} }, []string{`"cache"`}, nil},
		{"duplicate host port", func(s *stack.Stack) {
			s.Services[0].Ports = []stack.Port{{HostIP: "0.0.0.0", HostPort: 8443, ContainerPort: 1}}
		},
			[]string{"8443", `"db" and "web"`}, ErrPortConflict},
		{"bad port", func(s *stack.Stack) { s.Services[1].Ports[0].ContainerPort = 70000 }, []string{"1-65535"}, nil},
		{"bad protocol", func(s *stack.Stack) { s.Services[1].Ports[0].Protocol = "sctp" }, []string{"use tcp or udp"}, nil},
		{"no image", func(s *stack.Stack) { s.Services[0].Image = "" }, []string{`service "db" has no image`}, stack.ErrInvalid},
		{"bad image reference", func(s *stack.Stack) { s.Services[0].Image = "Redis:7" }, []string{`image reference "Redis:7"`}, stack.ErrInvalid},
		{"bad policy", func(s *stack.Stack) { s.Services[0].Restart = stack.RestartPolicy{Mode: "sometimes"} }, []string{`"sometimes"`}, nil},
		{"retries without on-failure", func(s *stack.Stack) {
			s.Services[0].Restart = stack.RestartPolicy{Mode: stack.RestartAlways, MaxRetries: 2}
		}, []string{"retry count"}, nil},
		{"relative mount target", func(s *stack.Stack) {
			s.Services[0].Mounts = []stack.Mount{{Kind: stack.MountVolume, Source: "db", Target: "data"}}
		}, []string{"absolute path"}, nil},
		{"missing bind source", func(s *stack.Stack) {
			s.Services[0].Mounts = []stack.Mount{{Kind: stack.MountBind, Source: "/nonexistent/x", Target: "/x"}}
		}, []string{"/nonexistent/x"}, nil},
		{"bad capability", func(s *stack.Stack) { s.Services[0].CapAdd = []string{"FLY"} }, []string{`"FLY"`}, nil},
		{"duplicate service", func(s *stack.Stack) { s.Services = append(s.Services, s.Services[0]) }, []string{"defined twice"}, nil},
		{"dependency disabled", func(s *stack.Stack) { s.Services[0].Disabled = true }, []string{"disabled"}, nil},
		{"bad env", func(s *stack.Stack) { s.Services[0].Env = map[string]string{"A=B": "x"} }, []string{"A=B"}, nil},
		{"bad health", func(s *stack.Stack) { s.Services[0].Health = &stack.HealthCheck{Test: []string{"curl"}} }, []string{"CMD"}, nil},
		{"everything at once", func(s *stack.Stack) {
			s.Services[0].Secrets = []string{"nope"}
			s.Services[1].Restart.Mode = "x"
		}, []string{`secret "nope"`, `restart policy "x"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := ok
			st.Services = append([]stack.Service(nil), ok.Services...)
			for i := range st.Services {
				st.Services[i].Ports = append([]stack.Port(nil), ok.Services[i].Ports...)
			}
			tc.mutate(&st)
			_, err := r.checkStack(st)
			require.ErrorIs(t, err, stack.ErrInvalid)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "s3cret", "secret contents never appear")
		})
	}
}

func TestCheckHostPorts(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	sp := &stackPlan{services: map[string]*servicePlan{
		"web": {ports: []PortMapping{{HostIP: "127.0.0.1", HostPort: taken, ContainerPort: 80, Protocol: TCP}}},
	}}
	err = checkHostPorts(sp, []string{"web"})
	require.ErrorIs(t, err, ErrPortConflict)
	assert.Contains(t, err.Error(), "127.0.0.1:"+strconv.Itoa(taken))
	l.Close()
	assert.NoError(t, checkHostPorts(sp, []string{"web"}))
}

func TestLabelsRoundTrip(t *testing.T) {
	p := &servicePlan{
		svc: stack.Service{Name: "web"}, index: 2, ip: net.ParseIP("10.89.0.12"), hash: "abc",
		ports:   []PortMapping{{HostIP: "127.0.0.1", HostPort: 8443, ContainerPort: 443, Protocol: TCP}},
		mounts:  []volumeMount{{Source: "/d/wp", Target: "/var/www", Volume: "wp"}, {Source: "/etc", Target: "/h"}},
		restart: stack.RestartPolicy{Mode: stack.RestartOnFailure, MaxRetries: 4},
		health:  &healthCheck{Args: []string{"true"}, Interval: time.Second, Timeout: time.Second, StartInterval: time.Second, Retries: 3},
		grace:   30 * time.Second,
	}
	l, err := p.labels("st", map[string]stack.Condition{"db": stack.ConditionHealthy})
	require.NoError(t, err)
	si, err := parseServiceInfo(l)
	require.NoError(t, err)
	assert.Equal(t, serviceInfo{
		stack: "st", name: "web", hash: "abc", ip: "10.89.0.12", ports: p.ports, restart: p.restart, health: p.health,
		grace: 30 * time.Second, dependsOn: map[string]stack.Condition{"db": stack.ConditionHealthy}, volumes: []string{"wp"}, index: 2,
	}, si)
	_, err = parseServiceInfo(map[string]string{})
	assert.Error(t, err)
}

func TestProcessArgs(t *testing.T) {
	img, cmd := []string{"/entry"}, []string{"serve", "-v"}
	tests := []struct {
		name                string
		entrypoint, command []string
		want                []string
	}{
		{"the image's", nil, nil, []string{"/entry", "serve", "-v"}},
		{"command replaces the image's command", nil, []string{"sh"}, []string{"/entry", "sh"}},
		{"entrypoint drops the image's command", []string{"/bin/sleep"}, nil, []string{"/bin/sleep"}},
		{"both", []string{"/bin/sleep"}, []string{"60"}, []string{"/bin/sleep", "60"}},
		{"empty entrypoint: the command alone", []string{}, []string{"/bin/true"}, []string{"/bin/true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, processArgs(img, cmd, tc.entrypoint, tc.command))
		})
	}
}
