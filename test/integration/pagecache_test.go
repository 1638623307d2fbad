package integration

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// The page cache's stack: the Inception stack without the bonus services
// that play no part in it, under a name and subnet of its own.
const (
	pcStack  = "pcache"
	pcSubnet = "10.89.125.0/24"
	pcAdmin  = "pcache_chief"
	pcTitle  = "Inception page cache"
)

// xCache GETs (or HEADs) u with c and returns the status, nginx's X-Cache
// header and the body.
func xCache(t *testing.T, c *http.Client, method, u string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(data)
}

// TestPageCache runs the Inception stack with nginx's page cache, as
// `inceptionctl up` does, and checks with real clients that anonymous
// visitors get cached pages, that nobody gets a page made for someone
// else, and that changes show at once.
func TestPageCache(t *testing.T) {
	ctx0, e := setup(t)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx0), 20*time.Minute)
	t.Cleanup(cancel)
	buildServices(ctx, t, e, "nginx", "wordpress", "mariadb", "redis")

	dir := t.TempDir()
	env := localDotenv(t, pcStack, dir, map[string]string{
		"WP_TITLE":       pcTitle,
		"WP_ADMIN_USER":  pcAdmin,
		"ENABLE_VSFTPD":  "0",
		"ENABLE_ADMINER": "0",
		"ENABLE_STATIC":  "0",
	})
	cfg, err := stack.NewConfig(maps.Clone(env))
	require.NoError(t, err)
	_, err = cfg.EnsureSecrets()
	require.NoError(t, err)
	st, err := stack.Inception(cfg)
	require.NoError(t, err)
	st.Name = pcStack
	r := &rtEnv{env: e, st: st, dataDir: cfg.DataDir, secretsDir: cfg.SecretsDir}
	r.rt = engineRuntime(t, e, stackOptions(cfg.DataDir, cfg.SecretsDir, cfg.HostIP, pcSubnet)...)
	require.NoError(t, r.rt.Down(ctx, st, runtime.DownOptions{Volumes: true}))
	t.Cleanup(func() {
		cctx := context.WithoutCancel(ctx)
		if t.Failed() {
			r.dumpLogs(cctx, t)
		}
		if err := r.rt.Down(cctx, st, runtime.DownOptions{Volumes: true}); err != nil {
			t.Errorf("down --volumes: %v", err)
		}
	})
	require.NoError(t, r.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: 8 * time.Minute}))
	site := cfg.SiteURL()
	anon := siteClient(t, cfg.Domain, false)
	pctx, pcancel := context.WithTimeout(ctx, 3*time.Minute)
	d, trace := pollHome(pctx, anon, site+"/", time.Now())
	pcancel()
	require.GreaterOrEqual(t, d, time.Duration(0), "the home page never answered 200:\n%s", strings.Join(trace, "\n"))

	secret := func(name string) string {
		data, err := os.ReadFile(filepath.Join(cfg.SecretsDir, name))
		require.NoError(t, err)
		return strings.TrimRight(string(data), "\r\n")
	}
	// cached GETs u anonymously until nginx answers from its cache.
	cached := func(t *testing.T, u string) string {
		t.Helper()
		var body, xc string
		for range 3 {
			var code int
			code, xc, body = xCache(t, anon, http.MethodGet, u)
			require.Equal(t, http.StatusOK, code, u)
			if xc == "HIT" {
				return body
			}
		}
		t.Fatalf("%s: X-Cache %q after three anonymous GETs", u, xc)
		return ""
	}

	t.Run("anonymous GET twice: MISS then HIT, HEAD from the cache too", func(t *testing.T) {
		code, xc, first := xCache(t, anon, http.MethodGet, site+"/hello-world/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "MISS", xc)
		code, xc, second := xCache(t, anon, http.MethodGet, site+"/hello-world/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "HIT", xc)
		assert.Equal(t, first, second, "the page as rendered")
		assert.Contains(t, second, "Hello world!")
		code, xc, body := xCache(t, anon, http.MethodHead, site+"/hello-world/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "HIT", xc)
		assert.Empty(t, body)
		// And a HEAD first stores the whole page for the GETs after it.
		code, xc, _ = xCache(t, anon, http.MethodHead, site+"/sample-page/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "MISS", xc)
		code, xc, body = xCache(t, anon, http.MethodGet, site+"/sample-page/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "HIT", xc)
		assert.Contains(t, body, "</html>", "the whole page, not the HEAD's empty body")
	})

	t.Run("what is never cached", func(t *testing.T) {
		for _, tc := range []struct{ name, cookie, path string }{
			{"a comment author", "comment_author_0123=visitor", "/hello-world/"},
			{"a password-protected post's visitor", "wp-postpass_0123=x", "/hello-world/"},
			{"a query string (previews, searches)", "", "/?s=hello"},
			{"the REST API", "", "/wp-json/"},
			{"the REST API by query", "", "/?rest_route=/"},
			{"the log-in page", "", "/wp-login.php"},
		} {
			for range 2 {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, site+tc.path, nil)
				require.NoError(t, err)
				if tc.cookie != "" {
					req.Header.Set("Cookie", tc.cookie)
				}
				resp, err := anon.Do(req)
				require.NoError(t, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, "BYPASS", resp.Header.Get("X-Cache"), tc.name)
			}
		}
		code, xc, _ := xCache(t, anon, http.MethodPost, site+"/xmlrpc.php")
		assert.NotEqual(t, "HIT", xc, "xmlrpc.php: %d", code)
	})

	admin := siteClient(t, cfg.Domain, true)
	wpLogin(t, admin, site, pcAdmin, secret(stack.SecretWPAdmin))
	code, _, nonce := wpDo(t, admin, http.MethodGet, site+"/wp-admin/admin-ajax.php?action=rest-nonce", nil)
	require.Equal(t, http.StatusOK, code, nonce)

	t.Run("a logged-in request is never a HIT and never stored", func(t *testing.T) {
		cached(t, site+"/")
		code, xc, body := xCache(t, admin, http.MethodGet, site+"/")
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "BYPASS", xc)
		assert.Contains(t, body, "wpadminbar", "the logged-in page has the admin bar")

		// A page nobody asked for yet: the logged-in user first.
		var pages []struct {
			Link string `json:"link"`
		}
		code, raw := restDo(t, admin, http.MethodPost, site+"/wp-json/wp/v2/pages", nonce,
			map[string]string{"title": "Logged in first", "content": "For everyone", "status": "publish"}, &struct{}{})
		require.Equal(t, http.StatusCreated, code, raw)
		code, raw = restDo(t, anon, http.MethodGet, site+"/wp-json/wp/v2/pages?slug=logged-in-first", "", nil, &pages)
		require.Equal(t, http.StatusOK, code, raw)
		require.Len(t, pages, 1, raw)
		code, xc, body = xCache(t, admin, http.MethodGet, pages[0].Link)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "BYPASS", xc)
		assert.Contains(t, body, "wpadminbar")
		code, xc, body = xCache(t, anon, http.MethodGet, pages[0].Link)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "MISS", xc, "the logged-in page was not stored")
		assert.NotContains(t, body, "wpadminbar", "no admin bar for a visitor")
		assert.NotContains(t, body, "logged-in-as")
		code, xc, body = xCache(t, anon, http.MethodGet, pages[0].Link)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "HIT", xc)
		assert.NotContains(t, body, "wpadminbar")
	})

	// visibleWithin polls u anonymously until its page contains text.
	visibleWithin := func(t *testing.T, u, text string, since time.Time, limit time.Duration) {
		t.Helper()
		for {
			code, xc, body := xCache(t, anon, http.MethodGet, u)
			if code == http.StatusOK && strings.Contains(body, text) {
				took := time.Since(since)
				t.Logf("FIGURE %s visible to a visitor %v after the change (X-Cache %s)", u, took.Round(time.Millisecond), xc)
				assert.LessOrEqual(t, took, limit)
				return
			}
			if time.Since(since) > limit {
				t.Fatalf("%s: %q not shown to a visitor %v after the change (last: %d, X-Cache %s)", u, text, limit, code, xc)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	t.Run("a post published through the REST API shows within 1 s", func(t *testing.T) {
		before := cached(t, site+"/")
		title := "Published through REST " + randomSuffix(t)
		require.NotContains(t, before, title)
		var post struct {
			Link string `json:"link"`
		}
		code, raw := restDo(t, admin, http.MethodPost, site+"/wp-json/wp/v2/posts", nonce,
			map[string]string{"title": title, "content": "A new post for the page cache test.", "status": "publish"}, &post)
		require.Equal(t, http.StatusCreated, code, raw)
		done := time.Now()
		visibleWithin(t, site+"/", title, done, time.Second)
		visibleWithin(t, post.Link, title, done, time.Second)
	})

	t.Run("an approved comment shows within 1 s", func(t *testing.T) {
		cached(t, site+"/hello-world/")
		text := "Held, then approved " + randomSuffix(t)
		var c struct {
			ID int `json:"id"`
		}
		code, raw := restDo(t, admin, http.MethodPost, site+"/wp-json/wp/v2/comments", nonce,
			map[string]any{"post": 1, "content": text, "status": "hold"}, &c)
		require.Equal(t, http.StatusCreated, code, raw)
		_, _, body := xCache(t, anon, http.MethodGet, site+"/hello-world/")
		assert.NotContains(t, body, text, "a comment held for moderation is not shown")
		code, raw = restDo(t, admin, http.MethodPost, fmt.Sprintf("%s/wp-json/wp/v2/comments/%d", site, c.ID), nonce,
			map[string]string{"status": "approved"}, nil)
		require.Equal(t, http.StatusOK, code, raw)
		visibleWithin(t, site+"/hello-world/", text, time.Now(), time.Second)
	})

	t.Run("a site-wide change (the site's title) shows on every cached page within 1 s", func(t *testing.T) {
		cached(t, site+"/")
		cached(t, site+"/sample-page/")
		title := "Renamed " + randomSuffix(t)
		code, raw := restDo(t, admin, http.MethodPost, site+"/wp-json/wp/v2/settings", nonce, map[string]string{"title": title}, nil)
		require.Equal(t, http.StatusOK, code, raw)
		done := time.Now()
		visibleWithin(t, site+"/", title, done, time.Second)
		visibleWithin(t, site+"/sample-page/", title, done, time.Second)
	})

	t.Run("the purge endpoint is refused from the host, answers the stack", func(t *testing.T) {
		cached(t, site+"/hello-world/")
		// Through the published port: no such location, WordPress's 404.
		code, xc, body := xCache(t, anon, http.MethodGet, site+"/purge/hello-world/")
		assert.NotEqual(t, http.StatusOK, code, "X-Cache %s: %.200s", xc, body)
		assert.NotContains(t, body, "Successful purge")
		// Straight to nginx's purge port on the stack network, from the
		// host: refused.
		ip := r.ps(ctx, t, "nginx").IP
		require.NotEmpty(t, ip)
		direct := &http.Client{Timeout: 5 * time.Second}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+net.JoinHostPort(ip, "8081")+"/purge/hello-world/", nil)
		require.NoError(t, err)
		req.Host = cfg.Domain
		resp, err := direct.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the host may not purge")
		_, xc, _ = xCache(t, anon, http.MethodGet, site+"/hello-world/")
		assert.Equal(t, "HIT", xc, "nothing was purged")

		// From the wordpress container, as the must-use plugin does.
		code2, out := r.exec(ctx, t, "wordpress", "php", "-r",
			`$s = fsockopen("nginx", 8081, $no, $err, 2); fwrite($s, "GET /purge/hello-world/ HTTP/1.0\r\nHost: `+cfg.Domain+`\r\n\r\n"); echo fgets($s);`)
		require.Equal(t, 0, code2, out)
		assert.Contains(t, out, "200", "the stack network may purge")
		_, xc, _ = xCache(t, anon, http.MethodGet, site+"/hello-world/")
		assert.Equal(t, "MISS", xc, "purged")
	})

	t.Run("HTTP/2 and gzip on the TLS listener", func(t *testing.T) {
		tr := &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.HTTPSPort)))
			},
			TLSClientConfig:    &tls.Config{ServerName: cfg.Domain, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, //nolint:gosec // self-signed certificate of the stack
			ForceAttemptHTTP2:  true,
			DisableCompression: true,
		}
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, site+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "HTTP/2.0", resp.Proto)
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		page, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Contains(t, string(page), "</html>")
	})

	// fpmIni asks php-fpm itself (not the CLI, whose settings the
	// entrypoint does not change) for ini settings, through nginx: a
	// script in the site for a moment, asked with a query string, which
	// the page cache never stores.
	fpmIni := func(t *testing.T, names ...string) string {
		t.Helper()
		const script = "/var/www/html/inception-ini-test.php"
		code, out := r.exec(ctx, t, "wordpress", "sh", "-c",
			`printf '<?php foreach (explode(",", $_GET["n"]) as $n) { echo $n, "=", var_export(ini_get($n), true), "\n"; }' >`+script)
		require.Equal(t, 0, code, out)
		t.Cleanup(func() { _, _ = r.exec(context.WithoutCancel(ctx), t, "wordpress", "rm", "-f", script) })
		code, _, body := xCache(t, anon, http.MethodGet, site+"/inception-ini-test.php?n="+strings.Join(names, ","))
		require.Equal(t, http.StatusOK, code, body)
		return body
	}

	t.Run("OPcache warmed at start, php-fpm sized from the limits", func(t *testing.T) {
		ini := fpmIni(t, "opcache.memory_consumption", "opcache.file_cache", "opcache.interned_strings_buffer", "opcache.jit_buffer_size")
		assert.Contains(t, ini, "opcache.memory_consumption='128'")
		assert.Contains(t, ini, "opcache.file_cache='/var/www/html/.opcache'")
		assert.Contains(t, ini, "opcache.interned_strings_buffer='16'")
		// No JIT: it compiled next to nothing with the file cache.
		assert.Contains(t, ini, "opcache.jit_buffer_size='0'")
		code, out := r.exec(ctx, t, "wordpress", "php", "-r",
			`echo ini_get("opcache.memory_consumption"), " ", ini_get("opcache.file_cache"), "\n";`)
		require.Equal(t, 0, code, out)
		assert.Equal(t, "128 /var/www/html/.opcache", strings.TrimSpace(out))
		// The warm-up goes on while php-fpm serves: its end is in the log.
		// warmed waits for more than `ended` warm-ups to have ended in
		// WordPress's log, and returns the log.
		warmed := func(t *testing.T, ended int) string {
			var logs strings.Builder
			waitFor(t, "the OPcache warm-up to end", 30*time.Second, func() bool {
				logs.Reset()
				require.NoError(t, r.rt.Logs(ctx, st.Name, runtime.LogsOptions{Services: []string{"wordpress"}, Tail: -1}, &logs))
				return strings.Count(logs.String(), "OPcache file cache warmed") > ended
			})
			return logs.String()
		}
		logs := warmed(t, 0)
		assert.Contains(t, logs, "php-fpm: ")
		code, out = r.exec(ctx, t, "wordpress", "sh", "-c", "find /var/www/html/.opcache -name '*.php.bin' -user www-data | wc -l")
		require.Equal(t, 0, code, out)
		n, err := strconv.Atoi(strings.TrimSpace(out))
		require.NoError(t, err, out)
		assert.Greater(t, n, 500, "WordPress's files compiled into the file cache, owned by the workers' user")
		// nginx never serves it (a dot directory).
		code, _, _ = xCache(t, anon, http.MethodGet, site+"/.opcache/")
		assert.Equal(t, http.StatusForbidden, code)

		// The file cache is in the site's volume: a new start of the
		// container reads it, and recompiles nothing that did not change.
		const entry = "find /var/www/html/.opcache -path '*/var/www/html/wp-includes/version.php.bin' -exec stat -c %Y:%s {} +"
		code, before := r.exec(ctx, t, "wordpress", "sh", "-c", entry)
		require.Equal(t, 0, code, before)
		require.NotEmpty(t, strings.TrimSpace(before), "version.php in the file cache")
		ended := strings.Count(logs, "OPcache file cache warmed")
		require.NoError(t, r.rt.Stop(ctx, st.Name, []string{"wordpress"}))
		require.NoError(t, r.rt.Start(ctx, st.Name, []string{"wordpress"}))
		warmed(t, ended)
		code, after := r.exec(ctx, t, "wordpress", "sh", "-c", entry)
		require.Equal(t, 0, code, after)
		assert.Equal(t, before, after, "the second start's warm-up read version.php from the file cache, not compiled it again")
	})

	t.Run("with php-fpm stopped, a cached page still answers 200", func(t *testing.T) {
		cached(t, site+"/")
		require.NoError(t, r.rt.Stop(ctx, st.Name, []string{"wordpress"}))
		t.Cleanup(func() { _ = r.rt.Start(context.WithoutCancel(ctx), st.Name, []string{"wordpress"}) })
		code, xc, body := xCache(t, anon, http.MethodGet, site+"/")
		assert.Equal(t, http.StatusOK, code, "X-Cache %s", xc)
		assert.Contains(t, body, "</html>")
		// And PHP is really gone: a page nginx cannot have fails.
		code, _, _ = xCache(t, anon, http.MethodGet, site+"/?s=gone")
		assert.Equal(t, http.StatusBadGateway, code)
	})

	t.Run("PHP_TUNING=stock: PHP as before the tuning", func(t *testing.T) {
		stockEnv := maps.Clone(env)
		stockEnv["PHP_TUNING"] = "stock"
		scfg, err := stack.NewConfig(stockEnv)
		require.NoError(t, err)
		sst, err := stack.Inception(scfg)
		require.NoError(t, err)
		sst.Name = pcStack
		require.NoError(t, r.rt.Up(ctx, sst, runtime.UpOptions{Wait: true, Timeout: 5 * time.Minute}))
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Minute)
		d, trace := pollHome(pctx, anon, site+"/", time.Now())
		pcancel()
		require.GreaterOrEqual(t, d, time.Duration(0), "the home page never answered 200:\n%s", strings.Join(trace, "\n"))
		// The distro's OPcache settings: no file cache, no JIT, 128 MB
		// (Debian's default too).
		ini := fpmIni(t, "opcache.file_cache", "opcache.jit_buffer_size", "opcache.interned_strings_buffer")
		assert.Contains(t, ini, "opcache.file_cache=''")
		assert.Contains(t, ini, "opcache.jit_buffer_size='0'")
		assert.Contains(t, ini, "opcache.interned_strings_buffer='8'")
		var logs strings.Builder
		require.NoError(t, r.rt.Logs(ctx, st.Name, runtime.LogsOptions{Services: []string{"wordpress"}, Tail: 40}, &logs))
		i := strings.LastIndex(logs.String(), "wordpress-entrypoint: php-fpm: ")
		require.GreaterOrEqual(t, i, 0, "no start in WordPress's log:\n%s", logs.String())
		last := logs.String()[i:]
		assert.Contains(t, last, "php-fpm: 10 workers at most", "the pool of before the tuning")
		assert.Contains(t, last, "PHP_TUNING=stock")
		assert.NotContains(t, last, "OPcache file cache warmed", "no warm-up")
	})
}
