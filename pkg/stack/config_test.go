package stack

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEnvFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".env")
	require.NoError(t, os.WriteFile(p, []byte("# comment\n\nLOGIN=jdoe\nexport DOMAIN_NAME=\"jdoe.42.fr\"\nWP_TITLE='My site = nice'\nEMPTY=\n"), 0o600))
	env, err := ParseEnvFile(p)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"LOGIN": "jdoe", "DOMAIN_NAME": "jdoe.42.fr", "WP_TITLE": "My site = nice", "EMPTY": ""}, env)

	env, err = ParseEnvFile(filepath.Join(t.TempDir(), "missing"))
	require.NoError(t, err, "a missing .env means defaults")
	assert.Empty(t, env)

	require.NoError(t, os.WriteFile(p, []byte("LOGIN=x\nthis is s3cret\n"), 0o600))
	_, err = ParseEnvFile(p)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "line 2")
	assert.NotContains(t, err.Error(), "s3cret", "a bad line may hold a password: never echo it")
}

func TestNewConfigDefaults(t *testing.T) {
	c, err := NewConfig(map[string]string{"LOGIN": "jdoe"})
	require.NoError(t, err)
	assert.Equal(t, "jdoe.42.fr", c.Domain)
	assert.Equal(t, "/home/jdoe/data", c.DataDir)
	assert.Equal(t, 443, c.HTTPSPort)
	assert.Equal(t, "https://jdoe.42.fr", c.SiteURL())
	assert.Equal(t, "jdoe", c.Env["WP_ADMIN_USER"])
	assert.Equal(t, "1", c.Env["NGINX_PAGE_CACHE"], "the page cache is on by default")
	for _, svc := range BonusServices {
		assert.True(t, c.Bonus[svc], svc)
	}
	for _, svc := range Default().Names() {
		l := c.Limits[svc]
		assert.GreaterOrEqual(t, l.MemoryBytes, int64(64<<20), "%s: a memory limit by default", svc)
		assert.GreaterOrEqual(t, l.Pids, int64(64), "%s: a pids limit by default", svc)
	}
	assert.Equal(t, Limits{MemoryBytes: 1 << 30, Pids: 256}, c.Limits["wordpress"])
}

func TestNewConfigLimits(t *testing.T) {
	c, err := NewConfig(map[string]string{"LOGIN": "jdoe", "NGINX_MEM_LIMIT": "768M", "NGINX_PIDS_LIMIT": "100",
		"REDIS_MEM_LIMIT": "0", "REDIS_PIDS_LIMIT": "0", "STATIC_MEM_LIMIT": "33554432", "MARIADB_MEM_LIMIT": "2gb"})
	require.NoError(t, err)
	assert.Equal(t, Limits{MemoryBytes: 768 << 20, Pids: 100}, c.Limits["nginx"])
	assert.Equal(t, Limits{}, c.Limits["redis"], "0: no limit")
	assert.Equal(t, int64(32<<20), c.Limits["static"].MemoryBytes)
	assert.Equal(t, int64(2<<30), c.Limits["mariadb"].MemoryBytes)
	st, err := Inception(c)
	require.NoError(t, err)
	for _, s := range st.Services {
		assert.Equal(t, c.Limits[s.Name], s.Limits, "%s runs with its limits", s.Name)
	}
}

func TestNewConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"admin in admin name", map[string]string{"WP_ADMIN_USER": "SiteAdmin"}, `must not contain "admin"`},
		{"administrator", map[string]string{"WP_ADMIN_USER": "ADMINISTRATOR"}, `must not contain "admin"`},
		{"bad domain", map[string]string{"DOMAIN_NAME": "not a domain"}, "DOMAIN_NAME"},
		{"bad port", map[string]string{"HTTPS_PORT": "70000"}, "HTTPS_PORT"},
		{"reversed passive range", map[string]string{"FTP_PASV_MIN": "21110", "FTP_PASV_MAX": "21100"}, "FTP_PASV_MIN"},
		{"same user twice", map[string]string{"WP_USER": "jdoe"}, "different from WP_ADMIN_USER"},
		{"bad e-mail", map[string]string{"WP_USER_EMAIL": "nobody"}, "WP_USER_EMAIL"},
		{"relative data dir", map[string]string{"DATA_DIR": "data"}, "absolute path"},
		{"bad bonus switch", map[string]string{"ENABLE_REDIS": "maybe"}, "ENABLE_REDIS"},
		{"bad page cache switch", map[string]string{"NGINX_PAGE_CACHE": "off"}, "NGINX_PAGE_CACHE"},
		{"bad PHP tuning", map[string]string{"PHP_TUNING": "fast"}, "PHP_TUNING"},
		{"bad login", map[string]string{"LOGIN": "J Doe"}, "LOGIN"},
		{"bad memory limit", map[string]string{"WORDPRESS_MEM_LIMIT": "lots"}, "WORDPRESS_MEM_LIMIT"},
		{"memory limit in unknown units", map[string]string{"NGINX_MEM_LIMIT": "1t"}, "NGINX_MEM_LIMIT"},
		{"tiny memory limit", map[string]string{"STATIC_MEM_LIMIT": "1m"}, "at least 16m"},
		{"negative pids limit", map[string]string{"MARIADB_PIDS_LIMIT": "-1"}, "MARIADB_PIDS_LIMIT"},
		{"tiny pids limit", map[string]string{"REDIS_PIDS_LIMIT": "3"}, "at least 16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"LOGIN": "jdoe"}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := NewConfig(env)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := NewConfig(map[string]string{"LOGIN": "jdoe", "WP_ADMIN_USER": "admin1", "HTTPS_PORT": "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WP_ADMIN_USER")
	assert.Contains(t, err.Error(), "HTTPS_PORT", "every problem is reported at once")
}

func TestEnsureSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	c, err := NewConfig(map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": dir, "FTP_PASSWORD": "from-env-pw"})
	require.NoError(t, err)
	assert.NotContains(t, c.Env, "FTP_PASSWORD", "passwords never become service environment")

	rep, err := c.EnsureSecrets()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{SecretDBRoot, SecretDB, SecretWPAdmin, SecretWPUser, SecretRedis}, rep.Generated)
	assert.Equal(t, []string{SecretFTP}, rep.FromEnv)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	values := map[string]string{}
	for _, n := range append(rep.Generated, rep.FromEnv...) {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), n)
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		values[n] = string(data)
	}
	assert.Equal(t, "from-env-pw", values[SecretFTP])
	assert.Len(t, values[SecretDB], 32)
	assert.NotEqual(t, values[SecretDB], values[SecretDBRoot])

	rep, err = c.EnsureSecrets()
	require.NoError(t, err)
	assert.Empty(t, rep.Generated, "existing secrets are kept")
	data, _ := os.ReadFile(filepath.Join(dir, SecretDB))
	assert.Equal(t, values[SecretDB], string(data))

	require.NoError(t, os.WriteFile(filepath.Join(dir, SecretDB), nil, 0o600))
	_, err = c.EnsureSecrets()
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), SecretDB)
}

func TestInceptionWiring(t *testing.T) {
	c, err := NewConfig(map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": t.TempDir(), "ENABLE_ADMINER": "0"})
	require.NoError(t, err)
	st, err := Inception(c)
	require.NoError(t, err)
	for _, s := range st.Services {
		assert.NotEqual(t, "adminer", s.Name, "switched-off bonus services are left out")
		assert.Equal(t, RestartUnlessStopped, s.Restart.Mode, s.Name)
		for k, v := range s.Env {
			assert.NotContains(t, strings.ToUpper(k), "PASSWORD", "%s: passwords only as secret files", s.Name)
			_ = v
		}
		for _, p := range s.Ports {
			assert.Contains(t, []string{"nginx", "vsftpd"}, s.Name, "only nginx and FTP publish ports")
			if s.Name == "nginx" {
				assert.Equal(t, 443, p.ContainerPort)
			}
		}
		for dep := range s.DependsOn {
			assert.NotEqual(t, "adminer", dep)
		}
		if s.Name == "nginx" {
			assert.Empty(t, s.Env["ADMINER_UPSTREAM"])
		}
		if s.Name == "wordpress" {
			assert.Contains(t, s.Tmpfs, Tmpfs{Target: "/run/wordpress", Size: 1 << 20, Mode: 0o750, NoExec: true},
				"php-fpm's copies of the secrets in memory")
		}
	}
}

// TestInceptionLeastPrivilege: every service has a read-only root, /run
// and /tmp of its own that run nothing, and keeps only the capabilities it
// names, fewer than the runtime's default set; static keeps none.
func TestInceptionLeastPrivilege(t *testing.T) {
	c, err := NewConfig(map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": t.TempDir()})
	require.NoError(t, err)
	st, err := Inception(c)
	require.NoError(t, err)
	require.Len(t, st.Services, len(Default().Services), "every service, bonus ones on by default")
	// The runtime's default set (pkg/runtime's defaultCaps).
	defaults := []string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL"}
	for _, s := range st.Services {
		assert.True(t, s.ReadOnlyRoot, "%s: read-only root", s.Name)
		for _, dir := range []string{"/run", "/tmp"} {
			i := slices.IndexFunc(s.Tmpfs, func(m Tmpfs) bool { return m.Target == dir })
			if assert.GreaterOrEqual(t, i, 0, "%s: its own %s", s.Name, dir) {
				assert.True(t, s.Tmpfs[i].NoExec, "%s: %s noexec", s.Name, dir)
				assert.Positive(t, s.Tmpfs[i].Size, "%s: %s bounded", s.Name, dir)
			}
		}
		assert.Equal(t, []string{"ALL"}, s.CapDrop, s.Name)
		assert.Less(t, len(s.CapAdd), len(defaults), "%s: fewer capabilities than the default set", s.Name)
		for _, c := range s.CapAdd {
			assert.Contains(t, defaults, c, "%s: nothing beyond the default set", s.Name)
		}
		switch s.Name {
		case "static", "adminer":
			assert.NotContains(t, s.CapAdd, "CHOWN", s.Name)
			assert.NotContains(t, s.CapAdd, "DAC_OVERRIDE", s.Name)
		case "nginx", "vsftpd":
			assert.Contains(t, s.CapAdd, "NET_BIND_SERVICE", "%s: listens below 1024", s.Name)
		default:
			assert.NotContains(t, s.CapAdd, "NET_BIND_SERVICE", s.Name)
		}
	}
	i := slices.IndexFunc(st.Services, func(s Service) bool { return s.Name == "static" })
	require.GreaterOrEqual(t, i, 0)
	assert.Empty(t, st.Services[i].CapAdd, "static runs as nonroot and needs none")
}

func TestInceptionPageCacheSwitch(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"", "1"}, {"1", "1"}, {"yes", "1"}, {"0", "0"}, {"false", "0"}} {
		t.Run("NGINX_PAGE_CACHE="+tc.in, func(t *testing.T) {
			env := map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": t.TempDir()}
			if tc.in != "" {
				env["NGINX_PAGE_CACHE"] = tc.in
			}
			c, err := NewConfig(env)
			require.NoError(t, err)
			st, err := Inception(c)
			require.NoError(t, err)
			i := slices.IndexFunc(st.Services, func(s Service) bool { return s.Name == "nginx" })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tc.want, st.Services[i].Env["NGINX_PAGE_CACHE"], "nginx's entrypoint takes 1 or 0")
		})
	}
}

func TestInceptionPHPTuning(t *testing.T) {
	for _, tc := range []struct{ in, want string }{{"", "auto"}, {"auto", "auto"}, {"stock", "stock"}} {
		t.Run("PHP_TUNING="+tc.in, func(t *testing.T) {
			env := map[string]string{"LOGIN": "jdoe", "SECRETS_DIR": t.TempDir()}
			if tc.in != "" {
				env["PHP_TUNING"] = tc.in
			}
			c, err := NewConfig(env)
			require.NoError(t, err)
			st, err := Inception(c)
			require.NoError(t, err)
			i := slices.IndexFunc(st.Services, func(s Service) bool { return s.Name == "wordpress" })
			require.GreaterOrEqual(t, i, 0)
			assert.Equal(t, tc.want, st.Services[i].Env["PHP_TUNING"], "the wordpress entrypoint takes auto or stock")
		})
	}
}

// TestEnvExampleLimits: .env.example lists every service's limits with
// the defaults NewConfig gives.
func TestEnvExampleLimits(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".env.example"))
	require.NoError(t, err)
	for svc, l := range defaultLimits {
		assert.Contains(t, string(data), "\n#"+limitKey(svc, "MEM")+"="+l.mem+"\n", svc)
		assert.Contains(t, string(data), "\n#"+limitKey(svc, "PIDS")+"="+l.pids+"\n", svc)
	}
}
