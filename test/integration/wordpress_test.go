package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// The WordPress test site's accounts. The passwords travel as secrets only.
const (
	wpAdminUser     = "inceptionboss"
	wpAdminPassword = "Wp-admin-pass 7:with spaces & quotes'\""
	wpAuthorUser    = "writer"
	wpUserPassword  = "Wp-author-pass-42"
	wpDBPassword    = "Db-pass-for-wp;'x"
)

// wpStack is mariadb, redis, wordpress, adminer and nginx started together
// on the test network as the stack runs them: the files volume shared by
// wordpress and nginx, each upstream reachable by its service name.
type wpStack struct {
	db, redis, wp, adminer, static, nginx running
	port                                  int    // nginx's published port
	url                                   string // https://127.0.0.1:PORT
	www                                   string // the files volume on the host
	secrets                               string // the secrets directory on the host
	refs                                  map[string]string
}

func startWordPressStack(ctx context.Context, t *testing.T, e *env) wpStack {
	t.Helper()
	rep := buildServices(ctx, t, e, "mariadb", "redis", "wordpress", "adminer", "static", "nginx")
	s := wpStack{refs: map[string]string{}, www: t.TempDir(), secrets: t.TempDir()}
	for _, img := range rep.Images {
		s.refs[img.Service] = img.Ref
	}
	for name, value := range map[string]string{
		"db_root_password":  "Db-root-pass-1",
		"db_password":       wpDBPassword,
		"wp_admin_password": wpAdminPassword,
		"wp_user_password":  wpUserPassword,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(s.secrets, name), []byte(value+"\n"), 0o600))
	}
	s.port = freePort(t)
	s.url = fmt.Sprintf("https://127.0.0.1:%d", s.port)

	s.db = runContainer(ctx, t, e, "mariadb", s.refs["mariadb"], nil,
		withBind(s.secrets, "/run/secrets", true),
		withBind(t.TempDir(), "/var/lib/mysql", false))
	s.redis = runContainer(ctx, t, e, "redis", s.refs["redis"], nil,
		withBind(t.TempDir(), "/data", false))
	s.wp = s.startWordPress(ctx, t, e)
	s.adminer = runContainer(ctx, t, e, "adminer", s.refs["adminer"], nil,
		withHosts(t, s.db.IP.String()+" mariadb\n"))
	s.static = runContainer(ctx, t, e, "static", s.refs["static"], nil)
	s.nginx = runContainer(ctx, t, e, "nginx", s.refs["nginx"],
		[]runtime.PortMapping{{HostIP: "127.0.0.1", HostPort: s.port, ContainerPort: 443, Protocol: runtime.TCP}},
		withBind(s.www, "/var/www/html", true),
		withHosts(t, s.wp.IP.String()+" wordpress\n"+s.adminer.IP.String()+" adminer\n"+s.static.IP.String()+" static\n"))
	return s
}

// startWordPress starts one more wordpress container on the stack's volume
// and database.
func (s wpStack) startWordPress(ctx context.Context, t *testing.T, e *env) running {
	t.Helper()
	return runContainer(ctx, t, e, "wordpress", s.refs["wordpress"], nil,
		withBind(s.secrets, "/run/secrets", true),
		withBind(s.www, "/var/www/html", false),
		withHosts(t, s.db.IP.String()+" mariadb\n"+s.redis.IP.String()+" redis\n"),
		// What stack.Inception gives the service, the address being the
		// test's published port.
		oci.WithEnv([]string{
			"DOMAIN_NAME=127.0.0.1",
			fmt.Sprintf("HTTPS_PORT=%d", s.port),
			"WP_TITLE=Inception test site",
			"WP_ADMIN_USER=" + wpAdminUser,
			"WP_ADMIN_EMAIL=boss@example.com",
			"WP_USER=" + wpAuthorUser,
			"WP_USER_EMAIL=writer@example.com",
			"WP_REDIS_HOST=redis:6379",
		}))
}

// wpClient speaks HTTPS to nginx's self-signed certificate and keeps
// cookies; it follows no redirect unless follow is set.
func wpClient(t *testing.T, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // self-signed test certificate
		}},
	}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// wpDo sends a request (a form POST when form is set) and returns the
// status, headers and body of the response.
func wpDo(t *testing.T, c *http.Client, method, u string, form url.Values) (int, http.Header, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(data)
}

// TestWordPressStack runs the site the way the stack does and uses it
// through nginx as a visitor, an administrator and a database user would.
func TestWordPressStack(t *testing.T) {
	ctx, e := setup(t)
	s := startWordPressStack(ctx, t, e)
	client := wpClient(t, false)

	// First start: MariaDB initialises, WordPress waits for it, installs
	// the site, then php-fpm starts.
	var status int
	var home string
	require.Eventually(t, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/", nil)
		if err != nil {
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		status, home = resp.StatusCode, string(data)
		return status == http.StatusOK
	}, 4*time.Minute, time.Second, "the home page never answered 200 (last %d)\nwordpress log:\n%s\nmariadb log:\n%s",
		status, s.wp.logs(t), s.db.logs(t))

	t.Run("home page is the installed site", func(t *testing.T) {
		assert.Contains(t, home, "Inception test site")
		assert.Contains(t, home, "/wp-content/themes/twentytwentythree/", "the block theme renders the page")
		assert.Contains(t, s.wp.logs(t), "installed WordPress")
	})

	t.Run("the static site answers at /site/", func(t *testing.T) {
		code, _, body := wpDo(t, client, http.MethodGet, s.url+"/site/", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, strings.ToLower(body), "<html")
		assert.NotContains(t, body, "wp-content", "served by the static site, not WordPress")
		code, hdr, _ := wpDo(t, client, http.MethodGet, s.url+"/site/style.css", nil)
		assert.Equal(t, http.StatusOK, code)
		assert.Contains(t, hdr.Get("Content-Type"), "text/css")
	})

	t.Run("nginx serves static files from the volume", func(t *testing.T) {
		// A symlink into libjs-underscore in Debian's package: nginx has
		// no such package, so the copy in the volume must be a file.
		code, hdr, body := wpDo(t, client, http.MethodGet, s.url+"/wp-includes/js/underscore.min.js", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, hdr.Get("Content-Type"), "javascript")
		assert.True(t, strings.Contains(body, `define("underscore"`), "not underscore.js: %.200s", body)
	})

	t.Run("wp-config.php is outside the site", func(t *testing.T) {
		code, _, body := wpDo(t, client, http.MethodGet, s.url+"/wp-config.php", nil)
		assert.Equal(t, http.StatusNotFound, code)
		assert.NotContains(t, body, "DB_PASSWORD")
		_, err := os.Stat(filepath.Join(s.www, "wp-config.php"))
		assert.ErrorIs(t, err, os.ErrNotExist, "no wp-config.php in the files volume")
	})

	t.Run("PHP among the uploads never runs", func(t *testing.T) {
		dir := filepath.Join(s.www, "wp-content", "uploads")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "shell.php"), []byte(`<?php echo "ran-" . (6*7);`), 0o644))
		code, _, body := wpDo(t, client, http.MethodGet, s.url+"/wp-content/uploads/shell.php", nil)
		assert.Equal(t, http.StatusForbidden, code)
		assert.NotContains(t, body, "ran-42")
	})

	t.Run("administrator logs in", func(t *testing.T) {
		c := wpClient(t, true)
		code, _, _ := wpDo(t, c, http.MethodGet, s.url+"/wp-login.php", nil) // sets the test cookie
		require.Equal(t, http.StatusOK, code)
		code, _, body := wpDo(t, c, http.MethodPost, s.url+"/wp-login.php", url.Values{
			"log": {wpAdminUser}, "pwd": {wpAdminPassword}, "wp-submit": {"Log In"},
			"redirect_to": {s.url + "/wp-admin/"}, "testcookie": {"1"},
		})
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Dashboard")
		assert.Contains(t, body, "wp-admin-bar-my-account")
	})

	t.Run("wrong password refused", func(t *testing.T) {
		c := wpClient(t, true)
		wpDo(t, c, http.MethodGet, s.url+"/wp-login.php", nil)
		_, _, body := wpDo(t, c, http.MethodPost, s.url+"/wp-login.php", url.Values{
			"log": {wpAdminUser}, "pwd": {"not-the-password"}, "wp-submit": {"Log In"}, "testcookie": {"1"},
		})
		assert.Contains(t, body, "login_error")
		assert.NotContains(t, body, "Dashboard")
	})

	t.Run("two users: an administrator and an author", func(t *testing.T) {
		code, out := s.db.exec(ctx, t, "mariadb", "-N", "-B", "-e",
			"SELECT u.user_login, m.meta_value FROM wordpress.wp_users u JOIN wordpress.wp_usermeta m "+
				"ON m.user_id = u.ID AND m.meta_key = 'wp_capabilities' ORDER BY u.ID")
		require.Equal(t, 0, code, out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		require.Len(t, lines, 2, out)
		assert.True(t, strings.HasPrefix(lines[0], wpAdminUser+"\t"), lines[0])
		assert.Contains(t, lines[0], `"administrator"`)
		assert.True(t, strings.HasPrefix(lines[1], wpAuthorUser+"\t"), lines[1])
		assert.Contains(t, lines[1], `"author"`)
	})

	t.Run("passwords never reach a log", func(t *testing.T) {
		for name, r := range map[string]running{"wordpress": s.wp, "nginx": s.nginx, "adminer": s.adminer, "redis": s.redis} {
			log := r.logs(t)
			for _, p := range []string{wpAdminPassword, wpUserPassword, wpDBPassword} {
				assert.NotContains(t, log, p, "%s log", name)
			}
		}
	})

	t.Run("health checks pass, php-fpm runs under tini", func(t *testing.T) {
		for name, r := range map[string]running{"wordpress": s.wp, "adminer": s.adminer} {
			code, out := r.exec(ctx, t, "php-fpm-ping")
			assert.Equal(t, 0, code, "%s: %s", name, out)
			code, comm := r.exec(ctx, t, "cat", "/proc/1/comm")
			require.Equal(t, 0, code)
			assert.Equal(t, "tini", strings.TrimSpace(comm), name)
			code, out = r.exec(ctx, t, "sh", "-c", "cat /proc/[0-9]*/comm")
			require.Equal(t, 0, code, out)
			assert.Contains(t, out, "php-fpm", name)
		}
	})

	t.Run("adminer logs in to mariadb", func(t *testing.T) {
		c := wpClient(t, false)
		code, hdr, _ := wpDo(t, c, http.MethodGet, s.url+"/adminer", nil)
		require.Equal(t, http.StatusMovedPermanently, code)
		assert.Equal(t, "/adminer/", hdr.Get("Location"), "a relative redirect keeps the published port")

		c = wpClient(t, true)
		code, _, body := wpDo(t, c, http.MethodGet, s.url+"/adminer/", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Adminer")
		assert.Contains(t, body, `name="auth[username]"`)

		code, _, body = wpDo(t, c, http.MethodPost, s.url+"/adminer/", url.Values{
			"auth[driver]": {"server"}, "auth[server]": {"mariadb"}, "auth[username]": {"wpuser"},
			"auth[password]": {wpDBPassword}, "auth[db]": {"wordpress"},
		})
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "wp_users", "the WordPress tables, seen through Adminer")
		assert.Contains(t, body, "Logout")
	})

	t.Run("the object cache lives in redis", func(t *testing.T) {
		for range 5 {
			code, _, _ := wpDo(t, client, http.MethodGet, s.url+"/", nil)
			require.Equal(t, http.StatusOK, code)
		}
		code, out := s.redis.exec(ctx, t, "redis-cli", "INFO", "stats")
		require.Equal(t, 0, code, out)
		hits := 0
		for line := range strings.Lines(out) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "keyspace_hits:"); ok {
				hits, _ = strconv.Atoi(v)
			}
		}
		assert.Greater(t, hits, 50, "page loads read WordPress's cache from redis:\n%s", out)
		code, out = s.redis.exec(ctx, t, "redis-cli", "--scan", "--pattern", "wordpress:wp_:*options*")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "wordpress:wp_:options:alloptions", "keys carry the database and table prefix")
		_, err := os.Stat(filepath.Join(s.www, "wp-content", "object-cache.php"))
		assert.NoError(t, err, "the drop-in is in the site")
	})

	t.Run("no PHP errors in the logs after all of the above", func(t *testing.T) {
		for name, r := range map[string]running{"wordpress": s.wp, "adminer": s.adminer} {
			log := r.logs(t)
			for _, bad := range []string{"PHP Fatal", "PHP Warning", "PHP Parse", "PHP Deprecated", "PHP Notice", "object-cache:"} {
				assert.NotContains(t, log, bad, "%s log:\n%s", name, log)
			}
		}
	})

	t.Run("a new container on the same volume and database installs nothing", func(t *testing.T) {
		again := s.startWordPress(ctx, t, e)
		require.Eventually(t, func() bool {
			return strings.Contains(again.logs(t), "already installed")
		}, time.Minute, 300*time.Millisecond, "log:\n%s", again.logs(t))
		assert.NotContains(t, again.logs(t), "into /var/www/html", "same version: files left as they are")
		assert.Eventually(t, func() bool {
			code, _ := again.exec(ctx, t, "php-fpm-ping")
			return code == 0
		}, 30*time.Second, 300*time.Millisecond, "php-fpm never answered; log:\n%s", again.logs(t))
	})

	t.Run("a copy a stop cut short is done again at the next start", func(t *testing.T) {
		// What a stop during the copy leaves: version.php already in the
		// volume (same release), a core file not yet there, the marker.
		marker := filepath.Join(s.www, ".inception-copy-incomplete")
		require.NoError(t, os.WriteFile(marker, nil, 0o644))
		code, _, body := wpDo(t, client, http.MethodGet, s.url+"/.inception-copy-incomplete", nil)
		assert.NotEqual(t, http.StatusOK, code, "nginx serves no dotfile: %.200s", body)
		missing := filepath.Join(s.www, "wp-includes", "class-wp-query.php")
		require.NoError(t, os.Remove(missing))
		again := s.startWordPress(ctx, t, e)
		require.Eventually(t, func() bool {
			return strings.Contains(again.logs(t), "already installed")
		}, time.Minute, 300*time.Millisecond, "log:\n%s", again.logs(t))
		assert.Contains(t, again.logs(t), "a copy that did not finish")
		assert.FileExists(t, missing, "the core copied again")
		assert.NoFileExists(t, marker, "the marker goes once the copy is done")
	})
}

// TestPHPImagesBuildTwiceAllCached: with nothing changed, a second build
// runs no vertex of either graph.
func TestPHPImagesBuildTwiceAllCached(t *testing.T) {
	ctx, e := setup(t)
	first := buildServices(ctx, t, e, "wordpress", "adminer")
	second := buildServices(ctx, t, e, "wordpress", "adminer")
	require.Len(t, second.Images, 2)
	for i, r := range second.Images {
		assert.True(t, r.AllCached(), "%s: second build ran %v", r.Service, r.Ran)
		assert.Equal(t, first.Images[i].Digest, r.Digest, "%s: same graph, same image digest", r.Service)
	}
}

// TestWordPressRequiresDBPassword: without the db_password secret the
// container stops at once and says which secret is missing.
func TestWordPressRequiresDBPassword(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "wordpress")
	r := runContainer(ctx, t, e, "wordpress", rep.Images[0].Ref, nil,
		withBind(t.TempDir(), "/var/www/html", false))
	st, err := r.Task.Wait(ctx)
	require.NoError(t, err)
	select {
	case es := <-st:
		assert.NotEqual(t, uint32(0), es.ExitCode())
	case <-time.After(30 * time.Second):
		t.Fatalf("wordpress started without the db_password secret; log:\n%s", r.logs(t))
	}
	assert.Contains(t, r.logs(t), "mount the db_password secret at /run/secrets/db_password")
}
