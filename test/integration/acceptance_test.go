package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// The acceptance stack. It is the Inception stack as stack.Inception makes
// it from a .env file, under its own stack name and subnet so it never
// meets a stack a developer runs on the same engine (container ids, bridge
// and supervisor are named after the stack).
const (
	accStack  = "accept"
	accSubnet = "10.89.120.0/24"
	accLogin  = "accept"
	accAdmin  = "accept_chief" // no "admin" in it: the configuration refuses that
	accTitle  = "Inception acceptance"
)

// acceptance is the state the subtests of TestAcceptance share, in order.
type acceptance struct {
	*rtEnv
	envFile string
	dotenv  map[string]string // the .env file's keys
	cfg     stack.Config
	ftpPort int
	pasv    []int

	admin       *http.Client // logged in as the administrator
	nonce       string       // the administrator's wp_rest nonce
	commentText string       // the author's comment, once it is on the post
	pageMarker  string       // the text the REST API put on the sample page
}

// site is the site's address: https://<domain>:<HTTPS_PORT>.
func (a *acceptance) site() string { return a.cfg.SiteURL() }

func (a *acceptance) client(t *testing.T, follow bool) *http.Client {
	return siteClient(t, a.cfg.Domain, follow)
}

// writeEnv writes the .env file the stack is configured from.
func (a *acceptance) writeEnv(t *testing.T) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# written by TestAcceptance\n")
	for _, k := range slices.Sorted(maps.Keys(a.dotenv)) {
		fmt.Fprintf(&b, "%s=%s\n", k, a.dotenv[k])
	}
	require.NoError(t, os.WriteFile(a.envFile, []byte(b.String()), 0o600))
}

// load reads the .env file as inceptionctl does and makes the stack from it.
func (a *acceptance) load(t *testing.T) {
	t.Helper()
	env, err := stack.ParseEnvFile(a.envFile)
	require.NoError(t, err)
	a.cfg, err = stack.NewConfig(env)
	require.NoError(t, err)
	st, err := stack.Inception(a.cfg)
	require.NoError(t, err)
	st.Name = accStack
	a.st = st
}

// secret reads a secret file EnsureSecrets made (never logged).
func (a *acceptance) secret(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(a.cfg.SecretsDir, name))
	require.NoError(t, err)
	return strings.TrimRight(string(data), "\r\n")
}

// redisCLI runs redis-cli in the redis service, logged in with the
// redis_password secret, which it reads on its stdin.
func (a *acceptance) redisCLI(ctx context.Context, t *testing.T, args ...string) (int, string) {
	t.Helper()
	return a.exec(ctx, t, "redis", append([]string{"sh", "-c", `exec redis-cli --askpass "$@" </run/secrets/redis_password`, "redis-cli"}, args...)...)
}

// pollHome GETs the home page until it answers 200 and returns the time
// since start; -1 when ctx ends first. The other answers it got on the way
// are in the returned trace, each with when it began (status or error).
func pollHome(ctx context.Context, c *http.Client, u string, start time.Time) (time.Duration, []string) {
	var trace []string
	last := ""
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t0 := time.Now()
		code, body, err := getStatus(rctx, c, u)
		cancel()
		if code == http.StatusOK {
			return time.Since(start), trace
		}
		what := fmt.Sprintf("%d", code)
		if err != nil {
			what = err.Error()
		} else if i := strings.Index(body, "<title>"); i >= 0 {
			what += " " + strings.SplitN(body[i+7:], "<", 2)[0]
		}
		if what != last {
			trace = append(trace, fmt.Sprintf("%v: %s (took %v)", t0.Sub(start).Round(time.Millisecond), what, time.Since(t0).Round(time.Millisecond)))
			last = what
		}
		select {
		case <-ctx.Done():
			return -1, trace
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// up runs Up --wait while polling the home page from the moment Up starts,
// and logs how long Up took and when the site first answered 200. afterUp
// runs as soon as Up returns, while the polling goes on.
func (a *acceptance) up(ctx context.Context, t *testing.T, what string, afterUp ...func()) {
	t.Helper()
	c := a.client(t, false)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	start := time.Now()
	type result struct {
		d     time.Duration
		trace []string
	}
	answered := make(chan result, 1)
	go func() {
		d, trace := pollHome(pctx, c, a.site()+"/", start)
		answered <- result{d, trace}
	}()
	err := a.rt.Up(ctx, a.st, runtime.UpOptions{Wait: true, Timeout: 8 * time.Minute})
	took := time.Since(start)
	if err != nil {
		cancel()
		<-answered
		require.NoError(t, err, "%s: up", what)
	}
	for _, f := range afterUp {
		f()
	}
	r := <-answered
	require.GreaterOrEqual(t, r.d, time.Duration(0), "%s: the home page never answered 200:\n%s", what, strings.Join(r.trace, "\n"))
	t.Logf("FIGURE %s: Up --wait returned after %v; home page answered 200 after %v (both from the start of Up)",
		what, took.Round(time.Millisecond), r.d.Round(time.Millisecond))
	t.Logf("%s: answers before the first 200:\n%s", what, strings.Join(r.trace, "\n"))
}

// checkKept: the page edit and the comment are on the site.
func (a *acceptance) checkKept(t *testing.T) {
	t.Helper()
	require.NotEmpty(t, a.pageMarker, "the REST edit subtest did not get to the end")
	require.NotEmpty(t, a.commentText, "the comment subtest did not get to the end")
	c := a.client(t, false)
	code, _, body := wpDo(t, c, http.MethodGet, a.site()+"/sample-page/", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, a.pageMarker, "the page edit")
	code, _, body = wpDo(t, c, http.MethodGet, a.site()+"/hello-world/", nil)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, a.commentText, "the author's comment")
}

// TestAcceptance brings the whole Inception stack up from a .env file with
// the project's runtime, as `inceptionctl up` does, and uses it with real
// clients (HTTPS with the domain in SNI and Host, FTP, a browser) that
// connect to 127.0.0.1 only. The subtests run in order and build on each
// other: run the test as a whole.
func TestAcceptance(t *testing.T) {
	ctx0, e := setup(t)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx0), 28*time.Minute)
	t.Cleanup(cancel)
	buildServices(ctx, t, e, stack.Default().Names()...)

	// Ports and listeners on the host before the stack exists: a port some
	// other program holds says nothing about the stack.
	before := map[int]bool{}
	for _, p := range []int{80, 3306, 6379, 9000} {
		before[p] = listening(fmt.Sprintf("127.0.0.1:%d", p))
		if before[p] {
			t.Logf("127.0.0.1:%d is taken on the host before the stack starts: checked inside the stack only", p)
		}
	}

	dir := t.TempDir()
	pasv := freePortRange(t, 3)
	a := &acceptance{
		rtEnv:   &rtEnv{env: e, dataDir: filepath.Join(dir, "data"), secretsDir: filepath.Join(dir, "secrets")},
		envFile: filepath.Join(dir, ".env"),
		ftpPort: freePort(t),
		pasv:    pasv,
	}
	a.dotenv = map[string]string{
		"LOGIN":            accLogin,
		"DATA_DIR":         a.dataDir,
		"SECRETS_DIR":      a.secretsDir,
		"HOST_IP":          "127.0.0.1",
		"HTTPS_PORT":       strconv.Itoa(freePort(t)),
		"FTP_PORT":         strconv.Itoa(a.ftpPort),
		"FTP_PASV_MIN":     strconv.Itoa(pasv[0]),
		"FTP_PASV_MAX":     strconv.Itoa(pasv[len(pasv)-1]),
		"FTP_PASV_ADDRESS": "127.0.0.1",
		"WP_TITLE":         accTitle,
		"WP_ADMIN_USER":    accAdmin,
	}
	a.writeEnv(t)
	a.load(t)
	require.Equal(t, "accept.42.fr", a.cfg.Domain, "the domain is <login>.42.fr")

	srep, err := a.cfg.EnsureSecrets()
	require.NoError(t, err)

	a.rt = engineRuntime(t, e, stackOptions(a.cfg.DataDir, a.cfg.SecretsDir, a.cfg.HostIP, accSubnet)...)
	// A run that crashed may have left the stack behind.
	require.NoError(t, a.rt.Down(ctx, a.st, runtime.DownOptions{Volumes: true}))
	t.Cleanup(func() {
		cctx := context.WithoutCancel(ctx)
		if t.Failed() {
			a.dumpLogs(cctx, t)
		}
		if err := a.rt.Down(cctx, a.st, runtime.DownOptions{Volumes: true}); err != nil {
			t.Errorf("down --volumes: %v", err)
		}
	})

	t.Run("secrets made on a fresh machine, mode 0600", func(t *testing.T) {
		want := []string{stack.SecretDB, stack.SecretDBRoot, stack.SecretFTP, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretRedis}
		assert.ElementsMatch(t, want, srep.Generated)
		for _, name := range want {
			fi, err := os.Stat(filepath.Join(a.cfg.SecretsDir, name))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
			assert.GreaterOrEqual(t, len(a.secret(t, name)), 32, "%s: a strong random value", name)
		}
	})

	// First boot: empty volumes.
	a.up(ctx, t, "first boot (empty volumes)")

	t.Run("TLS 1.2 and 1.3 accepted, 1.0 and 1.1 refused by the server", func(t *testing.T) {
		port := a.cfg.HTTPSPort
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			cert, err := tlsHandshake(port, a.cfg.Domain, v)
			require.NoError(t, err, tls.VersionName(v))
			assert.NoError(t, cert.VerifyHostname(a.cfg.Domain), "the certificate names the domain")
		}
		for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS10} {
			_, err := tlsHandshake(port, a.cfg.Domain, v)
			// An alert from nginx, not this client declining the version.
			assert.ErrorContains(t, err, "remote error", "%s must be refused by the server", tls.VersionName(v))
		}
	})

	t.Run("only 443 and the FTP ports are published", func(t *testing.T) {
		reps, err := a.rt.PS(ctx, a.st.Name)
		require.NoError(t, err)
		got := map[string][]string{}
		var names []string
		for _, r := range reps {
			names = append(names, r.Service)
			assert.Equal(t, runtime.StatusRunning, r.State, r.Service)
			for _, p := range r.Ports {
				assert.Equal(t, "127.0.0.1", p.HostIP, "%s publishes on HOST_IP only", r.Service)
				got[r.Service] = append(got[r.Service], fmt.Sprintf("%d->%d/%s", p.HostPort, p.ContainerPort, p.Protocol))
			}
		}
		assert.ElementsMatch(t, stack.Default().Names(), names, "every service runs")
		want := map[string][]string{
			"nginx":  {fmt.Sprintf("%d->443/tcp", a.cfg.HTTPSPort)},
			"vsftpd": {fmt.Sprintf("%d->21/tcp", a.ftpPort)},
		}
		for _, p := range a.pasv {
			want["vsftpd"] = append(want["vsftpd"], fmt.Sprintf("%d->%d/tcp", p, p))
		}
		assert.Equal(t, want, got)
	})

	t.Run("every service runs with its memory and pids limits, .env.example's defaults", func(t *testing.T) {
		for _, svc := range a.st.Services {
			l := a.cfg.Limits[svc.Name]
			require.Positive(t, l.MemoryBytes, "%s: a memory limit by default", svc.Name)
			require.Positive(t, l.Pids, "%s: a pids limit by default", svc.Name)
			got := strings.SplitN(cgroupLimits(t, a.ps(ctx, t, svc.Name).PID), "\n", 3)
			assert.Equal(t, strconv.FormatInt(l.MemoryBytes, 10), got[0], "%s: memory limit in its cgroup", svc.Name)
			assert.Equal(t, strconv.FormatInt(l.Pids, 10), got[1], "%s: pids limit in its cgroup", svc.Name)
		}
	})

	t.Run("every service's root is read-only, /run and /tmp nosuid, nodev and noexec, its capabilities its own", func(t *testing.T) {
		for _, svc := range a.st.Services {
			pid := a.ps(ctx, t, svc.Name).PID
			mounts := procMounts(t, pid)
			require.Contains(t, mounts, "/", svc.Name)
			assert.Contains(t, mounts["/"], "ro", "%s: read-only root filesystem", svc.Name)
			for _, dir := range []string{"/run", "/tmp"} {
				require.Contains(t, mounts, dir, "%s: a tmpfs on %s", svc.Name, dir)
				for _, o := range []string{"rw", "nosuid", "nodev", "noexec"} {
					assert.Contains(t, mounts[dir], o, "%s: %s", svc.Name, dir)
				}
			}
			want := uint64(0)
			for _, c := range svc.CapAdd {
				bit, ok := capBits[c]
				require.True(t, ok, "capability %s: add its number to capBits", c)
				want |= 1 << bit
			}
			assert.Equal(t, want, capBound(t, pid), "%s: bounding set is %v", svc.Name, svc.CapAdd)
			if svc.Name == "static" {
				continue // no shell in the image; the mounts above say it
			}
			code, out := a.exec(ctx, t, svc.Name, "sh", "-c", "echo x >/inception-probe")
			assert.NotZero(t, code, "%s: a write to / must fail", svc.Name)
			assert.Contains(t, out, "Read-only file system", svc.Name)
			code, out = a.exec(ctx, t, svc.Name, "sh", "-c", `cp /bin/sh /tmp/probe && /tmp/probe -c true; s=$?; rm -f /tmp/probe; exit $s`)
			assert.NotZero(t, code, "%s: a program on /tmp must not run: %s", svc.Name, out)
		}
	})

	t.Run("nothing on port 80; 3306, 6379 and 9000 not reachable from the host", func(t *testing.T) {
		for _, p := range []int{80, 3306, 6379, 9000} {
			if !before[p] {
				assert.False(t, listening(fmt.Sprintf("127.0.0.1:%d", p)), "127.0.0.1:%d answers", p)
			}
		}
		// Inside, the services do listen (so the check above means
		// something), on the stack network only; nobody listens on 80.
		inside := map[string]int{"mariadb": 3306, "redis": 6379, "wordpress": 9000, "adminer": 9000}
		for _, svc := range a.st.Names() {
			rep := a.ps(ctx, t, svc)
			ports := tcpListeners(t, rep.PID)
			assert.False(t, ports[80], "%s listens on port 80", svc)
			if p, ok := inside[svc]; ok {
				assert.True(t, ports[p], "%s does not listen on %d in its namespace: %v", svc, p, ports)
				assert.True(t, listening(net.JoinHostPort(rep.IP, strconv.Itoa(p))), "%s:%d on the stack network", rep.IP, p)
			}
		}
	})

	t.Run("home page is an installed WordPress", func(t *testing.T) {
		c := a.client(t, false)
		code, hdr, body := wpDo(t, c, http.MethodGet, a.site()+"/", nil)
		require.Equal(t, http.StatusOK, code, "Location: %s", hdr.Get("Location"))
		assert.Contains(t, body, accTitle)
		assert.Contains(t, body, "/wp-content/themes/twentytwentythree/", "the block theme renders the page")
		assert.Contains(t, body, "Hello world!", "the sample post")
		assert.Contains(t, body, a.site()+"/", "links carry the domain and the port")
		assert.NotContains(t, body, "install.php")
		code, _, body = wpDo(t, c, http.MethodGet, a.site()+"/wp-admin/install.php", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Already Installed", "the installer says the site is installed")
	})

	t.Run("the administrator logs in through wp-login.php", func(t *testing.T) {
		c := a.client(t, true)
		dash := wpLogin(t, c, a.site(), accAdmin, a.secret(t, stack.SecretWPAdmin))
		assert.Contains(t, dash, "Dashboard")
		assert.Contains(t, dash, "wp-admin-bar-my-account")
		assert.Contains(t, dash, `id="menu-settings"`, "an administrator's menu")
		// The REST API's nonce for cookie authentication (admin-ajax.php's
		// rest-nonce action, WordPress 5.3 and later).
		code, _, nonce := wpDo(t, c, http.MethodGet, a.site()+"/wp-admin/admin-ajax.php?action=rest-nonce", nil)
		require.Equal(t, http.StatusOK, code, nonce)
		require.Regexp(t, `^[0-9a-f]{10}$`, nonce)
		a.admin, a.nonce = c, nonce
	})

	t.Run("the author posts a comment on the sample post and it appears", func(t *testing.T) {
		require.NotNil(t, a.admin, "needs the administrator's login")
		author := a.client(t, true)
		authorName := a.cfg.Env["WP_USER"]
		dash := wpLogin(t, author, a.site(), authorName, a.secret(t, stack.SecretWPUser))
		assert.NotContains(t, dash, `id="menu-settings"`, "an author, not an administrator")

		code, _, post := wpDo(t, author, http.MethodGet, a.site()+"/hello-world/", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, post, "logged-in-as", "the form knows the author")
		action, fields := formFields(t, post, `id="commentform"`)
		require.Equal(t, a.site()+"/wp-comments-post.php", action)
		require.NotEmpty(t, fields.Get("comment_post_ID"), "hidden fields: %v", fields)
		text := "Acceptance comment by the author " + randomSuffix(t)
		fields.Set("comment", text)
		fields.Set("submit", "Post Comment")
		noFollow := &http.Client{Jar: author.Jar, Transport: author.Transport, Timeout: author.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		code, hdr, body := wpDo(t, noFollow, http.MethodPost, action, fields)
		require.Equal(t, http.StatusFound, code, "wp-comments-post.php: %.500s", body)
		loc := hdr.Get("Location")
		m := regexp.MustCompile(`#comment-(\d+)$`).FindStringSubmatch(loc)
		require.NotNil(t, m, "redirect to the comment: %s", loc)
		id := m[1]

		visitor := a.client(t, false)
		_, _, page := wpDo(t, visitor, http.MethodGet, a.site()+"/hello-world/", nil)
		if !strings.Contains(page, text) {
			// WordPress holds a comment for moderation unless its author
			// already has an approved one (comment_previously_approved),
			// which a fresh author has not: the administrator approves it
			// through the REST API.
			require.Contains(t, loc, "unapproved="+id, "not on the page, yet not held for moderation")
			t.Logf("comment %s held for moderation (the author has no approved comment yet): approved by the administrator through the REST API", id)
			var c struct {
				Status string `json:"status"`
			}
			code, raw := restDo(t, a.admin, http.MethodPost, a.site()+"/wp-json/wp/v2/comments/"+id, a.nonce,
				map[string]string{"status": "approved"}, &c)
			require.Equal(t, http.StatusOK, code, raw)
			assert.Equal(t, "approved", c.Status)
		} else {
			t.Logf("comment %s approved at once", id)
		}
		_, _, page = wpDo(t, visitor, http.MethodGet, a.site()+"/hello-world/", nil)
		require.Contains(t, page, text, "a visitor sees the comment on the post")
		assert.Contains(t, page, `id="comment-`+id+`"`)
		a.commentText = text
	})

	t.Run("a page edited through the REST API shows the change", func(t *testing.T) {
		require.NotNil(t, a.admin, "needs the administrator's login")
		visitor := a.client(t, false)
		var pages []struct {
			ID   int    `json:"id"`
			Link string `json:"link"`
		}
		code, raw := restDo(t, visitor, http.MethodGet, a.site()+"/wp-json/wp/v2/pages?slug=sample-page", "", nil, &pages)
		require.Equal(t, http.StatusOK, code, raw)
		require.Len(t, pages, 1, raw)
		require.Equal(t, a.site()+"/sample-page/", pages[0].Link)
		u := fmt.Sprintf("%s/wp-json/wp/v2/pages/%d", a.site(), pages[0].ID)
		marker := "Edited through the REST API " + randomSuffix(t)
		edit := map[string]string{
			"title":   "Sample Page, accepted",
			"content": "<!-- wp:paragraph -->\n<p>" + marker + "</p>\n<!-- /wp:paragraph -->",
		}

		// Without the nonce the cookies do not authenticate (CSRF guard).
		code, raw = restDo(t, a.admin, http.MethodPost, u, "", edit, nil)
		assert.Equal(t, http.StatusUnauthorized, code, raw)

		var updated struct {
			Content struct {
				Rendered string `json:"rendered"`
			} `json:"content"`
		}
		code, raw = restDo(t, a.admin, http.MethodPost, u, a.nonce, edit, &updated)
		require.Equal(t, http.StatusOK, code, raw)
		assert.Contains(t, updated.Content.Rendered, marker)

		code, _, page := wpDo(t, visitor, http.MethodGet, pages[0].Link, nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, page, marker, "the site shows the edit")
		assert.Contains(t, page, "Sample Page, accepted")
		a.pageMarker = marker
	})

	t.Run("the database holds the WordPress tables", func(t *testing.T) {
		db := a.cfg.Env["MYSQL_DATABASE"]
		// As `inceptionctl exec mariadb ...`: root over the server's socket.
		code, out := a.exec(ctx, t, "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", "SHOW TABLES FROM `"+db+"`")
		require.Equal(t, 0, code, out)
		tables := strings.Fields(out)
		for _, tbl := range []string{"wp_commentmeta", "wp_comments", "wp_links", "wp_options", "wp_postmeta", "wp_posts",
			"wp_term_relationships", "wp_term_taxonomy", "wp_termmeta", "wp_terms", "wp_usermeta", "wp_users"} {
			assert.Contains(t, tables, tbl)
		}
		code, out = a.exec(ctx, t, "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e",
			"SELECT u.user_login, c.comment_approved FROM `"+db+"`.wp_comments c JOIN `"+db+"`.wp_users u ON u.ID = c.user_id "+
				"WHERE c.comment_content = '"+a.commentText+"'")
		require.Equal(t, 0, code, out)
		assert.Equal(t, a.cfg.Env["WP_USER"]+"\t1", strings.TrimSpace(out), "the author's approved comment")
	})

	t.Run("redis holds WordPress object-cache keys", func(t *testing.T) {
		c := a.client(t, false)
		for range 5 {
			code, _, _ := wpDo(t, c, http.MethodGet, a.site()+"/", nil)
			require.Equal(t, http.StatusOK, code)
		}
		code, out := a.redisCLI(ctx, t, "DBSIZE")
		require.Equal(t, 0, code, out)
		n, err := strconv.Atoi(strings.TrimSpace(out))
		require.NoError(t, err, out)
		assert.Positive(t, n, "DBSIZE")
		prefix := a.cfg.Env["MYSQL_DATABASE"] + ":wp_:"
		code, out = a.redisCLI(ctx, t, "--scan", "--pattern", prefix+"*")
		require.Equal(t, 0, code, out)
		assert.Contains(t, strings.Fields(out), prefix+"options:alloptions", "WordPress's options, cached")
		code, out = a.redisCLI(ctx, t, "INFO", "stats")
		require.Equal(t, 0, code, out)
		hits := 0
		for line := range strings.Lines(out) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "keyspace_hits:"); ok {
				hits, _ = strconv.Atoi(v)
			}
		}
		assert.Positive(t, hits, "page loads read the cache")
		t.Logf("redis: %d keys, %d keyspace hits", n, hits)
	})

	t.Run("an FTP upload in passive mode lands in the WordPress volume and is served over HTTPS", func(t *testing.T) {
		c := dialFTP(t, fmt.Sprintf("127.0.0.1:%d", a.ftpPort))
		code, msg := c.login(a.cfg.Env["FTP_USER"], a.secret(t, stack.SecretFTP))
		require.Equal(t, 230, code, msg)
		c.expect(200, "TYPE I")
		data, addr := c.passive()
		data.Close()
		host, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", host, "FTP_PASV_ADDRESS")
		p, _ := strconv.Atoi(port)
		assert.Contains(t, a.pasv, p, "a port of FTP_PASV_MIN..FTP_PASV_MAX")

		name := "accept-ftp-" + randomSuffix(t) + ".txt"
		content := "uploaded over FTP in passive mode: " + name + "\n"
		code, msg = c.stor(name, []byte(content))
		require.Equal(t, 226, code, msg)
		c.expect(221, "QUIT")

		onHost := filepath.Join(a.cfg.VolumePath("wordpress"), name)
		got, err := os.ReadFile(onHost)
		require.NoError(t, err, "the upload in DATA_DIR/wordpress")
		assert.Equal(t, content, string(got))
		fi, err := os.Stat(onHost)
		require.NoError(t, err)
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			assert.Equal(t, uint32(wwwDataID), st.Uid, "owned by www-data")
		}
		code, hdr, body := wpDo(t, a.client(t, false), http.MethodGet, a.site()+"/"+name, nil)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, content, body, "nginx serves the uploaded file")
		assert.Contains(t, hdr.Get("Content-Type"), "text/plain")
	})

	t.Run("adminer logs in to MariaDB (its session on a tmpfs) and the static site answers, through nginx", func(t *testing.T) {
		c := a.client(t, false)
		code, _, body := wpDo(t, c, http.MethodGet, a.site()+"/adminer/", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "Adminer")
		assert.Contains(t, body, `name="auth[username]"`, "the login form")
		// A login lives in a PHP session: Adminer's root filesystem is
		// read-only, its sessions on a tmpfs.
		login := url.Values{
			"auth[driver]": {"server"}, "auth[server]": {"mariadb"}, "auth[db]": {a.cfg.Env["MYSQL_DATABASE"]},
			"auth[username]": {a.cfg.Env["MYSQL_USER"]}, "auth[password]": {a.secret(t, stack.SecretDB)},
		}
		code, _, body = wpDo(t, a.client(t, true), http.MethodPost, a.site()+"/adminer/", login)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, body, "wp_posts", "logged in: the WordPress tables")
		code, out := a.exec(ctx, t, "adminer", "sh", "-c", "ls /var/lib/php/sessions | grep -c ^sess_")
		assert.Equal(t, 0, code, out)
		code, _, body = wpDo(t, c, http.MethodGet, a.site()+"/site/", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, strings.ToLower(body), "<html")
		assert.NotContains(t, body, "wp-content", "the static site, not WordPress")
	})

	t.Run("headless Chromium loads the home page over TLS", func(t *testing.T) {
		out := filepath.Join(repoRoot(t), "artifacts", "acceptance-home.png")
		chromiumScreenshot(ctx, t, a.cfg.Domain, a.site()+"/", out)
	})

	t.Run("after kill -9 of mariadbd the site answers again", func(t *testing.T) {
		db := a.ps(ctx, t, "mariadb")
		restarts := a.service(t, "mariadb").Restarts
		pid, err := processInPIDNamespaceOf(db.PID, "mariadbd")
		require.NoError(t, err)
		require.NotEqual(t, int(db.PID), pid, "tini is PID 1, mariadbd under it")
		c := a.client(t, false)
		// Pages nginx never has in its cache (a new search each time) reach
		// WordPress and the database all through the restart: WordPress's
		// db.php drop-in waits for MariaDB instead of answering with its
		// error page.
		stop := make(chan struct{})
		var uncached []string
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			uc := a.client(t, false)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := getStatus(ctx, uc, fmt.Sprintf("%s/?s=restart-%d", a.site(), n))
				what := fmt.Sprint(code)
				if err != nil {
					what = err.Error()
				} else if i := strings.Index(body, "<title>"); i >= 0 {
					what += " " + strings.SplitN(body[i+7:], "<", 2)[0]
				}
				uncached = append(uncached, what)
			}
		}()
		killed := time.Now()
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		waitFor(t, "mariadbd to die", 10*time.Second, func() bool { return gone(pid) })
		first, _, _ := getStatus(ctx, c, a.site()+"/")
		d, trace := pollHome(ctx, c, a.site()+"/", killed)
		require.GreaterOrEqual(t, d, time.Duration(0), "the site never answered again:\n%s", strings.Join(trace, "\n"))
		// holder starts mariadbd again in the same container.
		waitFor(t, "a new mariadbd", 10*time.Second, func() bool {
			p, err := processInPIDNamespaceOf(db.PID, "mariadbd")
			return err == nil && p != pid
		})
		// Requests on both sides of the restart, a few after it.
		time.Sleep(3 * time.Second)
		close(stop)
		wg.Wait()
		require.GreaterOrEqual(t, len(uncached), 3, "uncached pages asked during and after the restart: %v", uncached)
		failed := 0
		for _, what := range uncached {
			if !strings.HasPrefix(what, "200") {
				failed++
			}
		}
		assert.Zero(t, failed, "uncached pages during the restart: every answer a 200, got %v", uncached)
		t.Logf("FIGURE uncached pages across kill -9 of mariadbd: %d requests, %d not answered 200", len(uncached), failed)
		t.Logf("answers before the first 200:\n%s", strings.Join(trace, "\n"))
		assert.Equal(t, restarts, a.service(t, "mariadb").Restarts, "holder started mariadbd again: no restart of the container")
		assert.Equal(t, db.PID, a.ps(ctx, t, "mariadb").PID, "the same task")
		t.Logf("FIGURE kill -9 mariadbd (host pid %d) to the home page answering 200 again: %v (first answer after the kill: %d)",
			pid, d.Round(time.Millisecond), first)
	})

	t.Run("after down (volumes kept) and up the edit and the comment are still there", func(t *testing.T) {
		require.NoError(t, a.rt.Down(ctx, a.st, runtime.DownOptions{}))
		assert.Equal(t, 0, a.containerCount(ctx, t))
		assert.False(t, listening(fmt.Sprintf("127.0.0.1:%d", a.cfg.HTTPSPort)), "down closes the site")
		a.up(ctx, t, "second boot (with data)")
		a.checkKept(t)
	})

	t.Run("after an engine restart and up the edit and the comment are still there", func(t *testing.T) {
		// A stand-in for a reboot, as TestRuntimeEngineRestart does: the
		// supervisor and the tasks die, the network namespaces go with
		// /run, then the engine stops and starts again.
		pidData, err := os.ReadFile(filepath.Join(e.engine.RunDir(), "supervisor-"+a.st.Name+".pid"))
		require.NoError(t, err)
		spid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
		require.NoError(t, err)
		require.NoError(t, syscall.Kill(spid, syscall.SIGKILL))
		for _, n := range a.st.Names() {
			c, err := e.cd.LoadContainer(ctx, a.st.Name+"-"+n)
			require.NoError(t, err)
			task, err := c.Task(ctx, nil)
			require.NoError(t, err)
			exited, err := task.Wait(ctx)
			require.NoError(t, err)
			require.NoError(t, task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll))
			<-exited
			_, err = task.Delete(ctx)
			require.NoError(t, err)
			ns := filepath.Join(e.engine.RunDir(), "netns", a.st.Name, n) // <run dir>/netns/<project>/<service>
			require.NoError(t, syscall.Unmount(ns, syscall.MNT_DETACH))
			require.NoError(t, os.Remove(ns))
		}
		stopped := time.Now()
		require.NoError(t, e.engine.Stop(ctx))
		require.NoError(t, e.engine.Ensure(ctx))
		t.Logf("engine stopped and started again in %v", time.Since(stopped).Round(time.Millisecond))
		a.up(ctx, t, "boot after an engine restart (with data)")
		assert.Equal(t, len(a.st.Services), a.containerCount(ctx, t), "containers adopted, not duplicated")
		a.checkKept(t)
	})

	t.Run("after HTTPS_PORT changes in .env, up serves the site on the new port", func(t *testing.T) {
		oldPort := a.cfg.HTTPSPort
		oldNginx := a.service(t, "nginx").StartedAt
		a.dotenv["HTTPS_PORT"] = strconv.Itoa(freePort(t))
		a.writeEnv(t)
		a.load(t)
		require.NotEqual(t, oldPort, a.cfg.HTTPSPort)
		a.up(ctx, t, "up after an HTTPS_PORT change", func() {
			// Right after Up, while clients knock on the new port: nginx
			// has a new veth behind its old address, and the host must not
			// keep the old MAC for it (its published port would time out
			// until the entry aged out).
			nginx := a.ps(ctx, t, "nginx")
			code, mac := a.exec(ctx, t, "nginx", "cat", "/sys/class/net/eth0/address")
			require.Equal(t, 0, code, mac)
			if known := hostNeighbor(t, nginx.IP, "inc-"+accStack); known != "" {
				assert.Equal(t, strings.TrimSpace(mac), known, "the host's ARP entry for nginx's %s is stale", nginx.IP)
			}
		})
		assert.True(t, a.service(t, "nginx").StartedAt.After(oldNginx), "nginx recreated")
		assert.Equal(t, []runtime.PortMapping{{HostIP: "127.0.0.1", HostPort: a.cfg.HTTPSPort, ContainerPort: 443, Protocol: runtime.TCP}},
			a.ps(ctx, t, "nginx").Ports)
		assert.False(t, listening(fmt.Sprintf("127.0.0.1:%d", oldPort)), "the old port is closed")

		code, hdr, body := wpDo(t, a.client(t, false), http.MethodGet, a.site()+"/", nil)
		require.Equal(t, http.StatusOK, code, "Location: %s", hdr.Get("Location"))
		newLink := fmt.Sprintf("https://%s:%d/", a.cfg.Domain, a.cfg.HTTPSPort)
		assert.Contains(t, body, newLink+"hello-world/", "links use the new port")
		assert.NotContains(t, body, fmt.Sprintf("%s:%d", a.cfg.Domain, oldPort), "no link to the old port")
		a.checkKept(t)
		// wp-login.php redirects to the new address as well.
		c := a.client(t, true)
		dash := wpLogin(t, c, a.site(), accAdmin, a.secret(t, stack.SecretWPAdmin))
		assert.Contains(t, dash, "Dashboard")
	})

	t.Run("no secret value in a process's environment or command line, a log, ps, a state file or an image", func(t *testing.T) {
		// The values the stack runs with: every file of SECRETS_DIR.
		secrets := secretValues(t, a.cfg.SecretsDir)
		for _, name := range srep.Generated {
			require.Contains(t, secrets, name)
		}
		// The control: the scan finds them where the runtime installs them
		// for the containers (a tmpfs of the run dir, the only place).
		run := e.engine.RunDir()
		_, found := scanTree(t, filepath.Join(run, "secrets", a.st.Name), nil, secrets)
		require.NotEmpty(t, found, "the scan finds no secret in the installed secret files: it cannot find one anywhere")

		read := a.checkNoSecretInProcesses(ctx, t, secrets)
		for _, svc := range a.st.Names() {
			assert.Positive(t, read[svc], "%s: no process read", svc)
		}
		t.Logf("processes read (environment and command line): %v", read)

		// php-fpm's workers see the variables php-fpm.conf lists (and the
		// USER and HOME php-fpm sets), none of them secret. getenv() in
		// php-fpm also answers the request's FastCGI parameters: the probe's
		// own, and FCGI_ROLE.
		env := a.phpWorkerEnv(ctx, t)
		want := []string{"DOMAIN_NAME", "HTTPS_PORT", "WORDPRESS_DB_HOST", "MYSQL_DATABASE", "MYSQL_USER", "WP_REDIS_HOST", "INCEPTION_PURGE_ADDR"}
		for _, k := range want {
			assert.Contains(t, env, k, "php-fpm hands its workers %s", k)
		}
		allowed := append([]string{"USER", "HOME", "FCGI_ROLE"}, phpProbeParams...)
		for k, v := range env {
			assert.True(t, slices.Contains(want, k) || slices.Contains(allowed, k), "a php-fpm worker's environment has %s, which php-fpm.conf does not list", k)
			assert.Empty(t, secretsIn([]byte(v), secrets), "a php-fpm worker's %s holds these secrets", k)
		}
		assert.Equal(t, a.cfg.Env["MYSQL_USER"], env["MYSQL_USER"])
		assert.Equal(t, "nginx:8081", env["INCEPTION_PURGE_ADDR"], "the page cache plugin's default, set by the entrypoint")

		a.checkNoSecretAtRest(ctx, t, secrets)
		a.checkNoSecretInImages(ctx, t, secrets)
	})

	t.Run("down --volumes leaves nothing", func(t *testing.T) {
		require.NoError(t, a.rt.Down(ctx, a.st, runtime.DownOptions{Volumes: true}))
		assert.Equal(t, 0, a.containerCount(ctx, t))
		for _, v := range []string{"wordpress", "mariadb", "redis"} {
			_, err := os.Stat(a.cfg.VolumePath(v))
			assert.ErrorIs(t, err, os.ErrNotExist, "volume %s", v)
		}
		_, err := os.Stat("/sys/class/net/inc-" + accStack)
		assert.ErrorIs(t, err, os.ErrNotExist, "the bridge")
		for _, p := range append([]int{a.cfg.HTTPSPort, a.ftpPort}, a.pasv...) {
			assert.False(t, listening(fmt.Sprintf("127.0.0.1:%d", p)), "port %d", p)
		}
	})
}

// procMounts reads the mount table of process pid's mount namespace (a
// container's, seen from the host): mount point -> options of the mount
// on top.
func procMounts(t *testing.T, pid uint32) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/mounts", pid))
	require.NoError(t, err)
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		require.GreaterOrEqual(t, len(f), 4, line)
		out[f[1]] = strings.Split(f[3], ",")
	}
	return out
}

// capBits are the numbers of the capabilities the stack's services keep
// (linux/capability.h).
var capBits = map[string]uint{
	"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7,
	"SETPCAP": 8, "NET_BIND_SERVICE": 10, "SYS_CHROOT": 18,
}

// capBound is process pid's capability bounding set (CapBnd in its status).
func capBound(t *testing.T, pid uint32) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			require.NoError(t, err, line)
			return n
		}
	}
	t.Fatalf("no CapBnd in /proc/%d/status", pid)
	return 0
}
