package compose

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/stack"
)

const testdata = "../../testdata/compose/"

// load loads files of testdata/compose with only env as the environment.
func load(t *testing.T, env []string, opts ...Option) (App, error) {
	t.Helper()
	p, err := Load(t.Context(), append([]Option{WithEnvironment(env)}, opts...)...)
	if err != nil {
		return App{}, err
	}
	return Convert(p)
}

func service(t *testing.T, app App, name string) stack.Service {
	t.Helper()
	for _, s := range app.Stack.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %q in %v", name, app.Stack.Names())
	return stack.Service{}
}

func TestConvertKeys(t *testing.T) {
	app, err := load(t, nil, WithFiles(testdata+"keys/compose.yaml"))
	require.NoError(t, err)
	dir, err := filepath.Abs(testdata + "keys")
	require.NoError(t, err)

	assert.Equal(t, "keys", app.Stack.Name, "name:")
	assert.Equal(t, []string{"db", "job", "web"}, app.Stack.Names())
	assert.Equal(t, "10.77.0.0/24", app.Subnet, "networks.back.ipam")
	assert.Equal(t, map[string]string{"token": filepath.Join(dir, "secrets/token.txt")}, app.Stack.SecretFiles)
	assert.Equal(t, []string{filepath.Join(dir, "app")}, app.BindDirs, "a short-syntax bind is created when missing")

	web := service(t, app, "web")
	db := service(t, app, "db")
	job := service(t, app, "job")
	for _, tc := range []struct {
		key       string
		got, want any
	}{
		{"image (interpolated from .env)", web.Image, "docker.io/library/static:bookworm"},
		{"image of a build without image:", db.Image, "docker.io/library/keys-db:latest"},
		{"build", db.Build, &stack.Build{Context: filepath.Join(dir, "app"), Dockerfile: "Dockerfile", Args: map[string]string{"FLAVOUR": "plain"}, Target: "final"}},
		{"no build", web.Build, (*stack.Build)(nil)},
		{"command", web.Command, []string{"sh", "-c", "sleep infinity"}},
		{"command (string)", job.Command, []string{"true"}},
		{"no command", db.Command, []string(nil)},
		{"entrypoint", web.Entrypoint, []string{"/usr/bin/env"}},
		{"environment over env_file, .env interpolated", web.Env, map[string]string{"GREETING": "hello from .env", "EMPTY": "", "FROM_ENV_FILE": "yes"}},
		{"ports (a range, udp)", web.Ports, []stack.Port{
			{HostIP: "127.0.0.1", HostPort: 18080, ContainerPort: 8080, Protocol: stack.TCP},
			{HostIP: "127.0.0.1", HostPort: 18081, ContainerPort: 9001, Protocol: stack.UDP},
			{HostIP: "127.0.0.1", HostPort: 18082, ContainerPort: 9002, Protocol: stack.UDP},
		}},
		{"volumes: named, bind, local driver bind", web.Mounts, []stack.Mount{
			{Kind: stack.MountVolume, Source: "keys_data", Target: "/data"},
			{Kind: stack.MountBind, Source: filepath.Join(dir, "app"), Target: "/app", ReadOnly: true},
			{Kind: stack.MountBind, Source: "/tmp/keys-home-data", Target: "/home/data"},
		}},
		{"secrets", web.Secrets, []string{"token"}},
		{"depends_on conditions", web.DependsOn, map[string]stack.Condition{"db": stack.ConditionHealthy, "job": stack.ConditionCompletedSuccessfully}},
		{"depends_on list", job.DependsOn, map[string]stack.Condition{"db": stack.ConditionStarted}},
		{"healthcheck", db.Health, &stack.HealthCheck{Test: []string{"CMD-SHELL", "test -e /tmp/ready"}, Interval: 2 * time.Second,
			Timeout: time.Second, StartPeriod: 10 * time.Second, StartInterval: 500 * time.Millisecond, Retries: 5}},
		{"healthcheck disable", job.Health, &stack.HealthCheck{Test: []string{"NONE"}}},
		{"restart (from a YAML anchor)", web.Restart, stack.RestartPolicy{Mode: stack.RestartOnFailure, MaxRetries: 3}},
		{"restart", db.Restart, stack.RestartPolicy{Mode: stack.RestartAlways}},
		{"init (anchor)", web.Init, true},
		{"stop_grace_period (anchor)", web.StopGracePeriod, 3 * time.Second},
		{"ipv4_address", web.IPv4Address, "10.77.0.20"},
		{"user", web.User, "1000:1000"},
		{"working_dir", web.WorkingDir, "/app"},
		{"cap_add", web.CapAdd, []string{"NET_ADMIN"}},
		{"cap_drop", web.CapDrop, []string{"CHOWN"}},
		{"read_only", web.ReadOnlyRoot, true},
		{"tmpfs", web.Tmpfs, []stack.Tmpfs{{Target: "/scratch", Size: 1 << 20, Mode: 0o1770}, {Target: "/tmp", NoExec: true}}},
		{"mem_limit, pids_limit, cpus", web.Limits, stack.Limits{MemoryBytes: 64 << 20, Pids: 50, CPUs: 0.5}},
		{"stop_signal", web.StopSignal, "SIGINT"},
		{"hostname", web.Hostname, "webhost"},
		{"container_name", web.ContainerName, "keys-frontend"},
		{"extra_hosts", web.ExtraHosts, []stack.Host{{Name: "gateway.test", IP: "10.77.0.1"}}},
	} {
		t.Run(tc.key, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

func TestLoadMergesFiles(t *testing.T) {
	app, err := load(t, nil, WithFiles(testdata+"keys/compose.yaml", testdata+"keys/compose.override.yaml"))
	require.NoError(t, err)
	web := service(t, app, "web")
	assert.Equal(t, "1", web.Env["OVERRIDE"], "the second file's environment is merged in")
	assert.Equal(t, "hello from .env", web.Env["GREETING"], "the first file's environment stays")
	assert.Len(t, web.Ports, 4, "ports are appended")
	assert.Equal(t, 18083, web.Ports[3].HostPort)
}

func TestLoadComposeFileVariable(t *testing.T) {
	f1, err := filepath.Abs(testdata + "keys/compose.yaml")
	require.NoError(t, err)
	f2, err := filepath.Abs(testdata + "keys/compose.override.yaml")
	require.NoError(t, err)
	env := []string{EnvFile + "=" + f1 + ":" + f2}
	assert.True(t, Requested(env))
	assert.False(t, Requested([]string{"PATH=/bin"}))
	app, err := load(t, env)
	require.NoError(t, err)
	assert.Equal(t, "1", service(t, app, "web").Env["OVERRIDE"], "both files of COMPOSE_FILE")
}

func TestLoadNoFile(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := load(t, nil)
	require.ErrorIs(t, err, ErrNoFile)
}

func TestProjectName(t *testing.T) {
	file := testdata + "named/compose.yaml"
	for _, tc := range []struct {
		name string
		env  []string
		opts []Option
		want string
	}{
		{"name: in the file", nil, nil, "from-file"},
		{"COMPOSE_PROJECT_NAME wins over name:", []string{"COMPOSE_PROJECT_NAME=from-env"}, nil, "from-env"},
		{"-p wins over both", []string{"COMPOSE_PROJECT_NAME=from-env"}, []Option{WithProjectName("from-flag")}, "from-flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := load(t, tc.env, append([]Option{WithFiles(file)}, tc.opts...)...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, app.Stack.Name)
		})
	}
	t.Run("the directory without a name", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "My_Project")
		require.NoError(t, os.Mkdir(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  web:\n    image: static:bookworm\n"), 0o644))
		app, err := load(t, nil, WithFiles(filepath.Join(dir, "compose.yaml")))
		require.NoError(t, err)
		assert.Equal(t, "my_project", app.Stack.Name)
		assert.Equal(t, "docker.io/library/static:bookworm", app.Stack.Services[0].Image)
	})
}

func TestUnsupportedKeys(t *testing.T) {
	_, err := load(t, nil, WithFiles(testdata+"unsupported/compose.yaml"))
	require.ErrorIs(t, err, ErrUnsupported)
	for _, want := range []string{
		`service "app": key "privileged" is not supported`,
		`service "app": key "build.ssh" is not supported`,
		`service "app": key "ports.name" is not supported`,
		`key "configs" is not supported`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestCycle(t *testing.T) {
	_, err := load(t, nil, WithFiles(testdata+"cycle/compose.yaml"))
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "cycle")
}

// TestConvertErrors covers values inside supported keys that the runtime
// cannot use.
func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		is         error
		want       string
	}{
		{"anonymous volume", "services:\n  a:\n    image: x:1\n    volumes: [/data]\n", ErrUnsupported, "anonymous volumes"},
		{"volume driver", "services:\n  a:\n    image: x:1\n    volumes: [\"vol:/data\"]\nvolumes:\n  vol:\n    driver: nfs\n", ErrUnsupported, `driver "nfs"`},
		{"driver_opts other than a bind", "services:\n  a:\n    image: x:1\n    volumes: [\"vol:/data\"]\nvolumes:\n  vol:\n    driver_opts: {type: tmpfs, device: tmpfs}\n", ErrUnsupported, "only {type: none, o: bind"},
		{"relative device", "services:\n  a:\n    image: x:1\n    volumes: [\"vol:/data\"]\nvolumes:\n  vol:\n    driver_opts: {type: none, o: bind, device: data}\n", ErrInvalid, "absolute path"},
		{"secret target", "services:\n  a:\n    image: x:1\n    secrets: [{source: s, target: /etc/s}]\nsecrets:\n  s:\n    file: ./s\n", ErrUnsupported, "/run/secrets/<name> only"},
		{"port without host port", "services:\n  a:\n    image: x:1\n    ports: [\"80\"]\n", ErrUnsupported, "give the host port"},
		{"two networks", "services:\n  a:\n    image: x:1\n    networks: [n1]\n  b:\n    image: x:1\n    networks: [n2]\nnetworks:\n  n1: {}\n  n2: {}\n", ErrUnsupported, "one network"},
		{"tmpfs option", "services:\n  a:\n    image: x:1\n    tmpfs: [\"/t:uid=1\"]\n", ErrUnsupported, `option "uid"`},
		{"no image nor build", "services:\n  a:\n    command: [x]\n", ErrInvalid, "neither an image nor a build"},
		{"depends_on restart", "services:\n  a:\n    image: x:1\n    depends_on: {b: {condition: service_started, restart: true}}\n  b:\n    image: x:1\n", ErrUnsupported, `key "depends_on.b.restart"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := filepath.Join(dir, "compose.yaml")
			require.NoError(t, os.WriteFile(f, []byte(tc.yaml), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "s"), []byte("x"), 0o600))
			_, err := load(t, nil, WithFiles(f), WithProjectName("t"))
			require.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseTmpfs(t *testing.T) {
	got, err := parseTmpfs("/run/x/:size=64m,mode=0700")
	require.NoError(t, err)
	assert.Equal(t, stack.Tmpfs{Target: "/run/x", Size: 64 << 20, Mode: 0o700}, got)
	got, err = parseTmpfs("/tmp:size=1k,noexec")
	require.NoError(t, err)
	assert.Equal(t, stack.Tmpfs{Target: "/tmp", Size: 1 << 10, NoExec: true}, got)
	got, err = parseTmpfs("/tmp:exec")
	require.NoError(t, err)
	assert.False(t, got.NoExec)
	_, err = parseTmpfs("/tmp:noexec=1")
	require.ErrorIs(t, err, ErrInvalid)
	got, err = parseTmpfs("/t")
	require.NoError(t, err)
	assert.Equal(t, stack.Tmpfs{Target: "/t"}, got)
	_, err = parseTmpfs("/t:mode=9")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestTargets(t *testing.T) {
	app, err := load(t, nil, WithFiles(testdata+"keys/compose.yaml"))
	require.NoError(t, err)
	ts, err := Targets(app.Stack.Services)
	require.NoError(t, err)
	require.Len(t, ts, 1, "only db has a build")
	tg := ts[0]
	assert.Equal(t, "db", tg.Service)
	assert.Equal(t, "docker.io/library/keys-db:latest", tg.Ref)
	assert.Equal(t, "dockerfile.v0", tg.Frontend)
	assert.Equal(t, map[string]string{"image-resolve-mode": "local", "filename": "Dockerfile", "target": "final", "build-arg:FLAVOUR": "plain"}, tg.FrontendAttrs)
	assert.Contains(t, tg.LocalMounts, "context")
	assert.Contains(t, tg.LocalMounts, "dockerfile")
	assert.Nil(t, tg.Definition)
}
