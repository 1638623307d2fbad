package export

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/compose"
	"github.com/inceptionctl/inception/pkg/dockerfile"
	"github.com/inceptionctl/inception/pkg/stack"
)

// passwords are set in the env file the config comes from: none may reach
// the export.
var passwords = map[string]string{
	"DB_ROOT_PASSWORD":  "rootpw-Kq7nV2xZ",
	"DB_PASSWORD":       "dbpw-Jc4mB8wQ",
	"WP_ADMIN_PASSWORD": "adminpw-Hx3pL9sT",
	"WP_USER_PASSWORD":  "userpw-Gd6rN1vY",
	"FTP_PASSWORD":      "ftppw-Fb2kM5uW",
}

func testConfig(t *testing.T, extra map[string]string) stack.Config {
	t.Helper()
	env := map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": t.TempDir()}
	for k, v := range passwords {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := stack.NewConfig(env)
	require.NoError(t, err)
	return cfg
}

// load writes the tree and loads its compose file as docker compose does,
// with .env and the given environment.
func load(t *testing.T, tree *Tree, env ...string) (string, *types.Project) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "inception")
	require.NoError(t, tree.Write(dir))
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "srcs", "docker-compose.yml")},
		cli.WithEnv(env), cli.WithEnvFiles(), cli.WithDotEnv)
	require.NoError(t, err)
	project, err := opts.LoadProject(t.Context())
	require.NoError(t, err)
	return dir, project
}

func TestComposeDeterministic(t *testing.T) {
	cfg := testConfig(t, nil)
	a, err := Compose(t.Context(), cfg)
	require.NoError(t, err)
	b, err := Compose(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, len(a.Files), len(b.Files))
	for i := range a.Files {
		assert.Equal(t, a.Files[i].Path, b.Files[i].Path)
		assert.Equal(t, a.Files[i].Mode, b.Files[i].Mode, a.Files[i].Path)
		assert.True(t, bytes.Equal(a.Files[i].Data, b.Files[i].Data), "%s differs between two exports", a.Files[i].Path)
		assert.Equal(t, a.Files[i].ModTime, b.Files[i].ModTime, a.Files[i].Path)
	}
	assert.True(t, slices.IsSortedFunc(a.Files, func(x, y File) int { return strings.Compare(x.Path, y.Path) }))
}

func TestComposeLayout(t *testing.T) {
	cfg := testConfig(t, nil)
	st, err := stack.Inception(cfg)
	require.NoError(t, err)
	tree, err := Compose(t.Context(), cfg, WithTag("v1"))
	require.NoError(t, err)
	for _, p := range []string{"Makefile", "srcs/docker-compose.yml", "srcs/.env"} {
		require.NotNil(t, tree.File(p), p)
	}
	assert.Nil(t, tree.File("secrets"), "the export writes no secret: the Makefile makes them")

	dir, project := load(t, tree)
	assert.Equal(t, "inception", project.Name)
	require.ElementsMatch(t, st.Names(), project.ServiceNames(), "every service of the stack, no other")
	for _, svc := range st.Services {
		s := project.Services[svc.Name]
		assert.Equal(t, svc.Name+":v1", s.Image, "image name")
		require.NotNil(t, s.Build, svc.Name)
		assert.Equal(t, filepath.Join(dir, "srcs", "requirements", svc.Name), s.Build.Context)
		for _, sub := range []string{"Dockerfile", "conf", "tools"} {
			_, err := os.Stat(filepath.Join(s.Build.Context, sub))
			assert.NoError(t, err, "%s has %s", svc.Name, sub)
		}
		assert.Equal(t, "unless-stopped", s.Restart, svc.Name)
		assert.Contains(t, s.Networks, "inception", svc.Name)
		require.NotNil(t, s.HealthCheck, "%s: the image's health check", svc.Name)
		assert.Nil(t, s.HealthCheck.StartInterval, "docker compose refuses a start interval on Docker 20.10")
		for dep, cond := range svc.DependsOn {
			assert.Equal(t, string(cond), s.DependsOn[dep].Condition, "%s depends on %s", svc.Name, dep)
		}
		assert.Len(t, s.DependsOn, len(svc.DependsOn), svc.Name)
		for k, v := range svc.Env {
			require.Contains(t, s.Environment, k, svc.Name)
			assert.Equal(t, v, *s.Environment[k], "%s %s, interpolated from .env", svc.Name, k)
		}
		var mounts []string
		for _, m := range svc.Mounts {
			mounts = append(mounts, m.Source+":"+m.Target)
		}
		var got []string
		for _, v := range s.Volumes {
			assert.Equal(t, types.VolumeTypeVolume, v.Type)
			got = append(got, v.Source+":"+v.Target)
		}
		assert.ElementsMatch(t, mounts, got, svc.Name)
	}
	assert.Equal(t, types.Duration(30*time.Second), *project.Services["mariadb"].StopGracePeriod)

	for name, v := range project.Volumes {
		assert.Equal(t, types.Options{"type": "none", "o": "bind", "device": "/home/jdoe/data/" + name}, v.DriverOpts, name)
	}
	assert.Len(t, project.Volumes, 3)
	for name, s := range project.Secrets {
		assert.Equal(t, filepath.Join(dir, "secrets", name+".txt"), s.File, name)
	}
	assert.ElementsMatch(t, []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP, stack.SecretRedis},
		slices.Collect(func(yield func(string) bool) {
			for k := range project.Secrets {
				if !yield(k) {
					return
				}
			}
		}))

	nginx := project.Services["nginx"]
	require.Len(t, nginx.Ports, 1)
	assert.Equal(t, types.ServicePortConfig{Mode: "ingress", HostIP: "0.0.0.0", Target: 443, Published: "443", Protocol: "tcp"}, nginx.Ports[0])
	ftp := project.Services["vsftpd"]
	assert.Len(t, ftp.Ports, 1+cfg.PasvMax-cfg.PasvMin+1, "FTP and the passive range")
	// php-fpm's copies of the secrets live in memory under docker too.
	assert.ElementsMatch(t, []string{"/run:size=67108864,mode=755,noexec", "/tmp:size=268435456,mode=1777,noexec",
		"/run/wordpress:size=1048576,mode=750,noexec"}, project.Services["wordpress"].Tmpfs)
	// Read-only roots, and the capabilities each service keeps: docker
	// mounts no tmpfs of its own, so /run and /tmp are named.
	for name, s := range project.Services {
		assert.True(t, s.ReadOnly, "%s: read_only", name)
		assert.Equal(t, []string{"ALL"}, s.CapDrop, name)
		assert.Contains(t, s.Tmpfs, "/tmp:size=268435456,mode=1777,noexec", name)
	}
	assert.Empty(t, project.Services["static"].CapAdd, "static needs no capability")
	assert.ElementsMatch(t, []string{"CHOWN", "SETUID", "SETGID", "KILL", "NET_BIND_SERVICE"}, project.Services["nginx"].CapAdd)
}

// TestComposeSettingsFromEnvironment: what .env says, the environment
// overrides, as the integration test does with its free ports and
// temporary data directory.
func TestComposeSettingsFromEnvironment(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, nil))
	require.NoError(t, err)
	_, project := load(t, tree, "HOST_IP=127.0.0.1", "HTTPS_PORT=18443", "DATA_DIR=/tmp/x", "FTP_PASV_MIN=30000", "FTP_PASV_MAX=30001")
	nginx := project.Services["nginx"]
	assert.Equal(t, "127.0.0.1", nginx.Ports[0].HostIP)
	assert.Equal(t, "18443", nginx.Ports[0].Published)
	assert.Equal(t, "18443", *nginx.Environment["HTTPS_PORT"], "nginx is told the published port")
	assert.Equal(t, "/tmp/x/mariadb", project.Volumes["mariadb"].DriverOpts["device"])
	var published []string
	for _, p := range project.Services["vsftpd"].Ports {
		published = append(published, p.Published)
	}
	assert.Equal(t, []string{"21", "30000", "30001"}, published)
}

func TestComposeNoSecretValues(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, nil))
	require.NoError(t, err)
	for _, f := range tree.Files {
		for key, pw := range passwords {
			assert.NotContains(t, string(f.Data), pw, "%s holds the value of %s", f.Path, key)
			if f.Path == "srcs/.env" {
				assert.NotContains(t, string(f.Data), key+"=", ".env has no password key")
			}
		}
	}
}

func TestComposeDockerfilesDocker20(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, nil))
	require.NoError(t, err)
	n := 0
	for _, f := range tree.Files {
		if filepath.Base(f.Path) != "Dockerfile" {
			continue
		}
		n++
		require.NoError(t, dockerfile.Check(f.Data, dockerfile.DialectDocker20), f.Path)
		df := string(f.Data)
		for _, bad := range []string{"--checksum", "--link", "<<", "--start-interval", "--chmod", "# syntax"} {
			assert.NotContains(t, df, bad, f.Path)
		}
		// Every file the Dockerfile copies from the context is in the tree.
		dir := strings.TrimSuffix(f.Path, "/Dockerfile")
		for _, line := range strings.Split(df, "\n") {
			if !strings.HasPrefix(line, "COPY ") || strings.Contains(line, "--from=") {
				continue
			}
			src := strings.Fields(line)[1]
			assert.NotNil(t, tree.File(dir+"/"+strings.TrimSuffix(src, "/")), "%s: %s", f.Path, line)
			assert.True(t, strings.HasPrefix(src, "conf/") || strings.HasPrefix(src, "tools/"), "%s: %s", f.Path, line)
		}
	}
	assert.Equal(t, 7, n, "one Dockerfile per service")
}

func TestComposeBonusOff(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, map[string]string{"ENABLE_REDIS": "0", "ENABLE_ADMINER": "0"}))
	require.NoError(t, err)
	_, project := load(t, tree)
	assert.ElementsMatch(t, []string{"nginx", "wordpress", "mariadb", "vsftpd", "static"}, project.ServiceNames())
	assert.Nil(t, tree.File("srcs/requirements/redis/Dockerfile"))
	assert.NotContains(t, string(tree.File("Makefile").Data), "redis")
	assert.Equal(t, "", *project.Services["nginx"].Environment["ADMINER_UPSTREAM"])
}

func TestComposeTag(t *testing.T) {
	cfg := testConfig(t, nil)
	for _, tag := range []string{"", "latest", "a b", "-x"} {
		_, err := Compose(t.Context(), cfg, WithTag(tag))
		assert.ErrorContains(t, err, "other than latest", "tag %q", tag)
	}
}

func TestMakefile(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, nil))
	require.NoError(t, err)
	mk := string(tree.File("Makefile").Data)
	for _, want := range []string{
		"secrets/%.txt:", "/dev/urandom",
		"up: $(SECRETS) data", "$(COMPOSE) -f $(COMPOSE_FILE) up -d --build",
		"secrets/db_root_password.txt", "VOLUMES := mariadb redis wordpress",
		"-@chown 33:33 $(DATA_DIR)/wordpress",
		"\nfclean:", "\nre: fclean all",
	} {
		assert.Contains(t, mk, want)
	}
	for _, line := range strings.Split(mk, "\n") {
		if strings.HasPrefix(line, " ") {
			t.Errorf("Makefile line starts with spaces, not a tab: %q", line)
		}
	}
}

func TestWriteRefusesNonEmpty(t *testing.T) {
	tree, err := Compose(t.Context(), testConfig(t, nil))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mine"), []byte("x"), 0o644))
	require.ErrorIs(t, tree.Write(dir), ErrNotEmpty)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "nothing written")

	out := filepath.Join(t.TempDir(), "new")
	require.NoError(t, tree.Write(out))
	st, err := os.Stat(filepath.Join(out, "srcs/requirements/mariadb/tools/config-entrypoint-and-health/usr/local/bin/mariadb-entrypoint"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), st.Mode().Perm(), "scripts keep their mode")
}

// TestComposeImportRoundTrip: the project's own compose import
// (inceptionctl up -f) takes the exported file as it is, and finds in it
// what the run-time stack has.
func TestComposeImportRoundTrip(t *testing.T) {
	cfg := testConfig(t, nil)
	st, err := stack.Inception(cfg)
	require.NoError(t, err)
	tree, err := Compose(t.Context(), cfg)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "inception")
	require.NoError(t, tree.Write(dir))
	p, err := compose.Load(t.Context(), compose.WithFiles(filepath.Join(dir, "srcs", "docker-compose.yml")),
		compose.WithEnvironment([]string{"HOST_IP=127.0.0.1"}))
	require.NoError(t, err)
	app, err := compose.Convert(p)
	require.NoError(t, err, "every key the export writes is one the import supports")
	assert.Equal(t, "inception", app.Stack.Name)
	require.ElementsMatch(t, st.Names(), app.Stack.Names())
	for _, want := range st.Services {
		var got stack.Service
		for _, s := range app.Stack.Services {
			if s.Name == want.Name {
				got = s
			}
		}
		require.NotNil(t, got.Build, want.Name)
		assert.Equal(t, filepath.Join(dir, "srcs", "requirements", want.Name), got.Build.Context, want.Name)
		assert.Equal(t, want.Env, got.Env, want.Name)
		assert.Equal(t, want.DependsOn, got.DependsOn, want.Name)
		assert.Equal(t, want.Restart, got.Restart, want.Name)
		assert.Equal(t, want.StopGracePeriod, got.StopGracePeriod, want.Name)
		assert.ElementsMatch(t, want.Secrets, got.Secrets, want.Name)
		assert.Equal(t, want.Tmpfs, got.Tmpfs, want.Name)
		assert.Equal(t, want.ReadOnlyRoot, got.ReadOnlyRoot, "%s: read-only root", want.Name)
		assert.Equal(t, want.CapAdd, got.CapAdd, "%s: capabilities kept", want.Name)
		assert.Equal(t, want.CapDrop, got.CapDrop, "%s: capabilities dropped", want.Name)
		assert.Equal(t, want.Limits, got.Limits, "%s: memory and pids limits", want.Name)
		assert.Len(t, got.Ports, len(want.Ports), want.Name)
	}
}
