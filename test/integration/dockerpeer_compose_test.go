package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
	"github.com/inceptionctl/inception/pkg/export"
	"github.com/inceptionctl/inception/pkg/stack"
)

const (
	peerProject = "incpeer"
	peerLogin   = "peer"
	peerAdmin   = "peer_chief"
	peerTitle   = "Inception through docker compose"
	peerSubnet  = "10.89.140.0/24" // the inceptionctl up -f half
)

// exportedSite is the exported tree and the settings one run gives it.
type exportedSite struct {
	dir     string // the exported tree
	domain  string
	port    int // HTTPS_PORT
	env     []string
	adminPW func(t *testing.T) string
}

// place gives the site free ports on 127.0.0.1 and dataDir, as the
// environment of its make and compose commands.
func (s *exportedSite) place(t *testing.T, dataDir string) {
	s.port = freePort(t)
	pasv := freePortRange(t, 3)
	s.env = []string{
		"HOST_IP=127.0.0.1",
		"HTTPS_PORT=" + strconv.Itoa(s.port),
		"FTP_PORT=" + strconv.Itoa(freePort(t)),
		"FTP_PASV_MIN=" + strconv.Itoa(pasv[0]),
		"FTP_PASV_MAX=" + strconv.Itoa(pasv[len(pasv)-1]),
		"DATA_DIR=" + dataDir,
	}
}

func (s exportedSite) url() string { return "https://" + s.domain + ":" + strconv.Itoa(s.port) }

// checkExportedSite checks a running exported stack as the acceptance
// suite does: TLS 1.2 and 1.3 only, an installed WordPress on the home
// page, the administrator's login, the WordPress tables (tables runs SHOW
// TABLES in the mariadb service).
func checkExportedSite(ctx context.Context, t *testing.T, s exportedSite, tables func() (string, error)) {
	t.Helper()
	c := siteClient(t, s.domain, false)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	d, trace := pollHome(pctx, c, s.url()+"/", time.Now())
	require.GreaterOrEqual(t, d, time.Duration(0), "the home page never answered 200:\n%s", strings.Join(trace, "\n"))
	t.Logf("FIGURE home page answered 200 %v after up returned", d.Round(time.Millisecond))

	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		cert, err := tlsHandshake(s.port, s.domain, v)
		require.NoError(t, err, tls.VersionName(v))
		assert.NoError(t, cert.VerifyHostname(s.domain), "the certificate names the domain")
	}
	for _, v := range []uint16{tls.VersionTLS11, tls.VersionTLS10} {
		_, err := tlsHandshake(s.port, s.domain, v)
		assert.ErrorContains(t, err, "remote error", "%s must be refused by the server", tls.VersionName(v))
	}

	code, hdr, body := wpDo(t, c, http.MethodGet, s.url()+"/", nil)
	require.Equal(t, http.StatusOK, code, "Location: %s", hdr.Get("Location"))
	assert.Contains(t, body, peerTitle)
	assert.Contains(t, body, "/wp-content/themes/twentytwentythree/", "the block theme renders the page")

	dash := wpLogin(t, siteClient(t, s.domain, true), s.url(), peerAdmin, s.adminPW(t))
	assert.Contains(t, dash, "Dashboard")
	assert.Contains(t, dash, `id="menu-settings"`, "an administrator's menu")

	out, err := tables()
	require.NoError(t, err)
	got := strings.Fields(out)
	for _, tbl := range []string{"wp_comments", "wp_options", "wp_postmeta", "wp_posts", "wp_terms", "wp_usermeta", "wp_users"} {
		assert.Contains(t, got, tbl)
	}
}

// TestComposeExportDockerPeer exports the Inception layout and runs it
// with the real peer: Debian's docker.io and docker compose v2 (built from
// the pinned module) on a private dockerd, through the exported Makefile
// (make up: secrets, data directories, docker compose up -d --build). The
// base comes from the engine: there is no registry here.
func TestComposeExportDockerPeer(t *testing.T) {
	ctx0, e := setup(t)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx0), 40*time.Minute)
	t.Cleanup(cancel)
	d := startDockerd(ctx, t)
	d.loadBase(ctx, t, e)

	cfg, err := stack.NewConfig(map[string]string{"LOGIN": peerLogin, "WP_TITLE": peerTitle, "WP_ADMIN_USER": peerAdmin})
	require.NoError(t, err)
	tree, err := export.Compose(ctx, cfg)
	require.NoError(t, err)
	tmp := t.TempDir()
	s := exportedSite{dir: filepath.Join(tmp, "inception"), domain: cfg.Domain}
	require.NoError(t, tree.Write(s.dir))

	// Free ports on 127.0.0.1 and a temporary data directory, given as
	// the environment, which wins over srcs/.env.
	s.place(t, filepath.Join(tmp, "data"))
	s.adminPW = func(t *testing.T) string {
		data, err := os.ReadFile(filepath.Join(s.dir, "secrets", stack.SecretWPAdmin+".txt"))
		require.NoError(t, err)
		return strings.TrimSpace(string(data))
	}
	compose := func(args ...string) (string, error) {
		full := append([]string{"compose", "-p", peerProject, "-f", filepath.Join(s.dir, "srcs", "docker-compose.yml")}, args...)
		out, _, err := d.docker(ctx, s.env, full...)
		return out, err
	}
	// A run that crashed may have left the project behind.
	_, _ = compose("down", "--volumes", "--remove-orphans")
	dockerUp := true
	downDocker := func() {
		if !dockerUp {
			return
		}
		dockerUp = false
		if t.Failed() {
			out, _ := compose("ps", "--all")
			t.Logf("docker compose ps:\n%s", out)
			out, _ = compose("logs", "--no-color", "--tail", "40")
			t.Logf("docker compose logs:\n%s", out)
		}
		if _, err := compose("down", "--volumes"); err != nil {
			t.Errorf("docker compose down: %v", err)
		}
	}
	t.Cleanup(downDocker)

	start := time.Now()
	mk := exec.CommandContext(ctx, "make", "-C", s.dir, "up", "COMPOSE="+dockerBin+" compose -p "+peerProject)
	mk.Env = d.env(s.env...)
	out, err := mk.CombinedOutput()
	require.NoError(t, err, "make up:\n%s", lastLines(string(out), 60))
	t.Logf("FIGURE make up (secrets, data directories, docker compose up -d --build of 7 images) took %v", time.Since(start).Round(time.Second))
	for _, name := range []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP, stack.SecretRedis} {
		fi, err := os.Stat(filepath.Join(s.dir, "secrets", name+".txt"))
		require.NoError(t, err, "the Makefile made %s", name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}

	ps, err := compose("ps", "--format", "{{.Service}} {{.Image}}")
	require.NoError(t, err)
	for _, svc := range stack.Default().Names() {
		assert.Contains(t, ps, svc+" "+svc+":"+export.DefaultImageTag, "%s runs its exported image", svc)
	}

	checkExportedSite(ctx, t, s, func() (string, error) {
		return compose("exec", "-T", "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", "SHOW TABLES FROM `"+cfg.Env["MYSQL_DATABASE"]+"`")
	})
	t.Logf("FIGURE docker compose half (make up to the checks done): %v", time.Since(start).Round(time.Second))
	downDocker()
	d.stop(t)

	// The same tree through this project's own runtime: inceptionctl up -f,
	// the Dockerfiles built by BuildKit's frontend on the engine, the base
	// from its store. Fresh ports and data directory; the secrets the
	// Makefile made.
	ctl := filepath.Join(repoRoot(t), "bin", "inceptionctl")
	if _, err := os.Stat(ctl); err != nil {
		testutil.Skip(t, ctl+" missing: make inceptionctl (make test builds it)")
	}
	s.place(t, filepath.Join(tmp, "data-inceptionctl"))
	mk = exec.CommandContext(ctx, "make", "-C", s.dir, "data")
	mk.Env = append(os.Environ(), s.env...)
	out, err = mk.CombinedOutput()
	require.NoError(t, err, "make data:\n%s", out)
	composeFile := filepath.Join(s.dir, "srcs", "docker-compose.yml")
	// inceptionctl runs the command sub on the exported file: the file and
	// project flags come before args, which may end in a container's
	// command line (exec); --file, as logs' -f is --follow.
	inceptionctl := func(sub string, args ...string) (string, error) {
		full := []string{"--root", e.engine.Root(), "--run-dir", e.engine.RunDir(), sub, "--file", composeFile, "-p", peerProject}
		full = append(full, args...)
		cmd := exec.CommandContext(ctx, ctl, full...)
		cmd.Env = append(os.Environ(), s.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("inceptionctl %s %s: %w: %s", sub, strings.Join(args, " "), err, lastLines(string(out), 40))
		}
		return string(out), err
	}
	_, _ = inceptionctl("down", "--volumes")
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := inceptionctl("logs", "-n", "40")
			t.Logf("inceptionctl logs:\n%s", out)
		}
		if _, err := inceptionctl("down", "--volumes"); err != nil {
			t.Errorf("inceptionctl down: %v", err)
		}
	})
	start = time.Now()
	_, err = inceptionctl("up", "-d", "--build", "--wait", "--wait-timeout", "10m", "--subnet", peerSubnet)
	require.NoError(t, err)
	t.Logf("FIGURE inceptionctl up -d --build --wait -f (7 Dockerfile builds on the engine) took %v", time.Since(start).Round(time.Second))
	checkExportedSite(ctx, t, s, func() (string, error) {
		return inceptionctl("exec", "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", "SHOW TABLES FROM `"+cfg.Env["MYSQL_DATABASE"]+"`")
	})
}
