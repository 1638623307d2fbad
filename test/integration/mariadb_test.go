package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// The mariadb and redis tests share these helpers.

// secretFilesDir writes each secret to a file of a fresh directory, to be
// bound read-only at /run/secrets. Files and directory are world-readable so
// a test can read a secret as another user than root inside the container.
func secretFilesDir(t *testing.T, secrets map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	for name, value := range secrets {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o644))
	}
	return dir
}

// randomSuffix makes every run's passwords different, so that a match in a
// log can only come from this run.
func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// imageHealthcheck returns the command of the image's own health check, as
// the image config states it.
func imageHealthcheck(t *testing.T, image func(...llbdefs.Option) (llbdefs.Image, error)) []string {
	t.Helper()
	img, err := image()
	require.NoError(t, err)
	hc := img.Config.Config.Healthcheck
	require.NotNil(t, hc)
	require.Equal(t, "CMD", hc.Test[0])
	return hc.Test[1:]
}

// eventuallyHealthy runs the health check command until it succeeds.
func eventuallyHealthy(ctx context.Context, t *testing.T, r running, hc []string, timeout time.Duration) {
	t.Helper()
	var out string
	require.Eventually(t, func() bool {
		var code int
		code, out = r.exec(ctx, t, hc...)
		return code == 0
	}, timeout, time.Second, "health check %v never passed (last output %q); log:\n%s", hc, out, r.logs(t))
}

// taskExitCode waits for the container's task to end by itself.
func taskExitCode(ctx context.Context, t *testing.T, r running, timeout time.Duration) uint32 {
	t.Helper()
	st, err := r.Task.Wait(ctx)
	require.NoError(t, err)
	select {
	case es := <-st:
		return es.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("the container did not exit within %s; log:\n%s", timeout, r.logs(t))
	}
	return 0
}

// stopWithSIGTERM sends SIGTERM to the task, as the runtime's stop does,
// waits for it to exit by itself and returns its exit code and what it
// logged from the signal on.
func stopWithSIGTERM(ctx context.Context, t *testing.T, r running, grace time.Duration) (uint32, string) {
	t.Helper()
	before := len(r.logs(t))
	require.NoError(t, r.Task.Kill(ctx, syscall.SIGTERM))
	code := taskExitCode(ctx, t, r, grace)
	return code, r.logs(t)[before:]
}

// processes lists the container's processes as "comm user ppid" lines.
func processes(ctx context.Context, t *testing.T, r running) []string {
	t.Helper()
	code, out := execOnce(ctx, t, r, "sh", "-c",
		`for p in /proc/[0-9]*; do c=$(cat "$p/comm" 2>/dev/null) || continue; `+
			`echo "$c $(stat -c %U "$p") $(sed -n 's/^PPid:[[:space:]]*//p' "$p/status") ${p#/proc/}"; done`)
	require.Equal(t, 0, code, out)
	return strings.Split(strings.TrimSpace(out), "\n")
}

// processNamed returns the "comm user ppid pid" line of the one process
// called comm.
func processNamed(t *testing.T, procs []string, comm string) []string {
	t.Helper()
	var found [][]string
	for _, p := range procs {
		if f := strings.Fields(p); len(f) == 4 && f[0] == comm {
			found = append(found, f)
		}
	}
	require.Len(t, found, 1, "one %s process in %q", comm, procs)
	return found[0]
}

// cmdlines returns every process's command line in the container, NULs
// turned into spaces.
func cmdlines(ctx context.Context, t *testing.T, r running) string {
	t.Helper()
	code, out := execOnce(ctx, t, r, "sh", "-c", `cat /proc/[0-9]*/cmdline | tr '\0' ' '`)
	require.Equal(t, 0, code, out)
	return out
}

// execOnce runs args in the container with stdout and stderr collected by
// the shell and printed in one write. running.exec's output file can miss the
// tail of what a process writes in several pieces just before it exits (seen
// with the mariadb client's error messages: "ERROR" and nothing after it).
func execOnce(ctx context.Context, t *testing.T, r running, args ...string) (int, string) {
	t.Helper()
	return r.exec(ctx, t, append([]string{"sh", "-c", `out=$("$@" 2>&1); rc=$?; printf '%s\n' "$out"; exit $rc`, "exec-once"}, args...)...)
}

// runMariaDB runs one mariadb container on a secrets directory and a datadir.
func runMariaDB(ctx context.Context, t *testing.T, e *env, ref, secrets, datadir string, env ...string) running {
	t.Helper()
	opts := []oci.SpecOpts{
		withBind(secrets, "/run/secrets", true),
		withBind(datadir, "/var/lib/mysql", false),
		withHosts(t, ""),
	}
	if len(env) > 0 {
		opts = append(opts, oci.WithEnv(env))
	}
	return runContainer(ctx, t, e, "mariadb", ref, nil, opts...)
}

// wpSQL runs SQL as the app user over TCP to host. The password comes from
// the secret file inside the container, through MYSQL_PWD: never a command
// line.
func wpSQL(ctx context.Context, t *testing.T, r running, host, secret, sql string) (int, string) {
	t.Helper()
	return execOnce(ctx, t, r, "sh", "-c",
		`MYSQL_PWD=$(cat /run/secrets/`+secret+`) exec mariadb --protocol=tcp -h "$1" -P 3306 -u wpuser -N -B wordpress -e "$2"`,
		"wp-sql", host, sql)
}

// rootSQL runs SQL as root over the server's socket, identified by
// unix_socket as the container's root: no password.
func rootSQL(ctx context.Context, t *testing.T, r running, sql string) string {
	t.Helper()
	code, out := execOnce(ctx, t, r, "mariadb", "-u", "root", "-N", "-B", "-e", sql)
	require.Equal(t, 0, code, out)
	return strings.TrimSpace(out)
}

// TestMariaDB follows one datadir through a first start, a clean stop and a
// second start with a rotated app password.
func TestMariaDB(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "mariadb")
	require.Len(t, rep.Images, 1)
	ref := rep.Images[0].Ref
	hc := imageHealthcheck(t, llbdefs.MariaDB)

	// Quotes, a backslash, $ and a backtick: what SQL and shell quoting
	// get wrong.
	suffix := randomSuffix(t)
	rootPW := `r00t'"\pw$HOME` + "`x`" + suffix
	appPW := `app'pw\"` + suffix
	rotatedPW := "rotated-" + suffix
	secrets := secretFilesDir(t, map[string]string{"db_root_password": rootPW, "db_password": appPW})
	// A fresh volume as the runtime makes one: owned by root, mode 0700.
	// The entrypoint hands it to mysql.
	datadir := t.TempDir()

	first := runMariaDB(ctx, t, e, ref, secrets, datadir)
	eventuallyHealthy(ctx, t, first, hc, 3*time.Minute)

	t.Run("first start initialised the datadir", func(t *testing.T) {
		log := first.logs(t)
		assert.Contains(t, log, "initialising a new database")
		assert.Contains(t, log, "database initialised")
		marker, err := os.ReadFile(filepath.Join(datadir, ".inception-initialised"))
		require.NoError(t, err)
		assert.Contains(t, string(marker), "database wordpress, user wpuser")

		code, out := first.exec(ctx, t, "id", "-u", "mysql")
		require.Equal(t, 0, code, out)
		uid, err := strconv.Atoi(strings.TrimSpace(out))
		require.NoError(t, err)
		for _, p := range []string{datadir, filepath.Join(datadir, "mysql"), filepath.Join(datadir, "wordpress")} {
			fi, err := os.Stat(p)
			require.NoError(t, err)
			assert.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid, "%s is owned by mysql", p)
		}
	})

	t.Run("tini is PID 1 and runs holder, which runs mariadbd as mysql", func(t *testing.T) {
		code, comm := first.exec(ctx, t, "cat", "/proc/1/comm")
		require.Equal(t, 0, code)
		assert.Equal(t, "tini", strings.TrimSpace(comm))
		procs := processes(ctx, t, first)
		h := processNamed(t, procs, "holder")
		assert.Equal(t, "1", h[2], "holder's parent is tini")
		d := processNamed(t, procs, "mariadbd")
		assert.Equal(t, "mysql", d[1], "mariadbd's user")
		assert.Equal(t, h[3], d[2], "mariadbd's parent is holder")
		for _, p := range procs {
			assert.NotContains(t, p, "mysqld_safe")
		}
	})

	t.Run("config: networking on 0.0.0.0, errors to stderr", func(t *testing.T) {
		out := rootSQL(ctx, t, first, "SELECT @@skip_networking, @@bind_address, @@port, CONCAT('log_error=[', @@log_error, ']')")
		assert.Equal(t, "0\t0.0.0.0\t3306\tlog_error=[]", out)
	})

	t.Run("the app user uses its database over TCP", func(t *testing.T) {
		code, out := wpSQL(ctx, t, first, "127.0.0.1", "db_password",
			"CREATE TABLE kept (v VARCHAR(32)); INSERT INTO kept VALUES ('from the first run'); SELECT CURRENT_USER()")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "wpuser@%", strings.TrimSpace(out))
		// The container's own address: the server listens on every
		// interface, not only on loopback.
		code, out = wpSQL(ctx, t, first, first.IP.String(), "db_password", "SELECT v FROM kept")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "from the first run", strings.TrimSpace(out))
		code, out = wpSQL(ctx, t, first, "127.0.0.1", "db_password", "SHOW DATABASES")
		require.Equal(t, 0, code, out)
		assert.ElementsMatch(t, []string{"information_schema", "wordpress"}, strings.Fields(out), "wpuser sees its database only")
		code, out = wpSQL(ctx, t, first, "127.0.0.1", "db_password", "SELECT COUNT(*) FROM mysql.user")
		assert.NotEqual(t, 0, code)
		assert.Contains(t, out, "denied")
	})

	t.Run("root does not log in over TCP", func(t *testing.T) {
		code, out := execOnce(ctx, t, first, "mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-u", "root", "-e", "SELECT 1")
		assert.NotEqual(t, 0, code)
		assert.Contains(t, out, "Access denied for user 'root'")
		// Not even with the right password: root is local only.
		code, out = execOnce(ctx, t, first, "sh", "-c",
			`MYSQL_PWD=$(cat /run/secrets/db_root_password) exec mariadb --protocol=tcp -h 127.0.0.1 -u root -e "SELECT 1"`)
		assert.NotEqual(t, 0, code)
		assert.Contains(t, out, "Access denied for user 'root'")
		// Over the socket, an OS user other than root needs root's
		// password, and the secret's value is it.
		code, out = execOnce(ctx, t, first, "su", "-s", "/bin/sh", "mysql", "-c",
			`MYSQL_PWD=$(cat /run/secrets/db_root_password) exec mariadb -u root -N -B -e "SELECT CURRENT_USER()"`)
		require.Equal(t, 0, code, out)
		assert.Equal(t, "root@localhost", strings.TrimSpace(out))
		code, out = execOnce(ctx, t, first, "su", "-s", "/bin/sh", "mysql", "-c", `exec mariadb -u root -e "SELECT 1"`)
		assert.NotEqual(t, 0, code)
		assert.Contains(t, out, "Access denied")
	})

	t.Run("no anonymous users, no remote root, no test database", func(t *testing.T) {
		users := rootSQL(ctx, t, first, "SELECT CONCAT(User, '@', Host) FROM mysql.global_priv ORDER BY 1")
		assert.Equal(t, []string{"mariadb.sys@localhost", "root@localhost", "wpuser@%"}, strings.Split(users, "\n"))
		assert.Equal(t, "0", rootSQL(ctx, t, first, "SELECT COUNT(*) FROM mysql.global_priv WHERE User = ''"))
		assert.NotContains(t, strings.Fields(rootSQL(ctx, t, first, "SHOW DATABASES")), "test")
		assert.Equal(t, "0", rootSQL(ctx, t, first, "SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'test%'"))
	})

	t.Run("no secret on a command line", func(t *testing.T) {
		all := cmdlines(ctx, t, first)
		assert.Contains(t, all, "mariadbd")
		assert.NotContains(t, all, rootPW)
		assert.NotContains(t, all, appPW)
	})

	t.Run("SIGTERM: clean shutdown", func(t *testing.T) {
		code, after := stopWithSIGTERM(ctx, t, first, 30*time.Second)
		assert.Equal(t, uint32(0), code, "exit code; log after SIGTERM:\n%s", after)
		assert.Contains(t, after, "Normal shutdown")
		assert.Contains(t, after, "Shutdown complete")
	})

	// The app password is rotated between the two runs; the old one stays
	// in a file of its own, to check that it no longer works.
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "db_password"), []byte(rotatedPW+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(secrets, "old_db_password"), []byte(appPW+"\n"), 0o644))
	second := runMariaDB(ctx, t, e, ref, secrets, datadir)
	eventuallyHealthy(ctx, t, second, hc, 2*time.Minute)

	t.Run("second start keeps the data and re-applies the password", func(t *testing.T) {
		log := second.logs(t)
		assert.Contains(t, log, "already initialised")
		assert.NotContains(t, log, "initialising a new database")
		code, out := wpSQL(ctx, t, second, "127.0.0.1", "db_password", "SELECT v FROM kept")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "from the first run", strings.TrimSpace(out))
		// The old password no longer works.
		code, out = wpSQL(ctx, t, second, "127.0.0.1", "old_db_password", "SELECT 1")
		assert.NotEqual(t, 0, code)
		assert.Contains(t, out, "Access denied")
		users := rootSQL(ctx, t, second, "SELECT CONCAT(User, '@', Host) FROM mysql.global_priv ORDER BY 1")
		assert.Equal(t, []string{"mariadb.sys@localhost", "root@localhost", "wpuser@%"}, strings.Split(users, "\n"))
	})

	t.Run("no secret in the logs", func(t *testing.T) {
		for name, r := range map[string]running{"first": first, "second": second} {
			log := r.logs(t)
			for _, pw := range []string{rootPW, appPW, rotatedPW} {
				assert.NotContains(t, log, pw, "%s container's log", name)
			}
			assert.NotContains(t, log, suffix, "%s container's log", name)
		}
	})
}

// TestMariaDBRefusesUnmarkedDatadir: files without the marker are an
// unfinished first start or someone else's data; the entrypoint stops and
// touches nothing.
func TestMariaDBRefusesUnmarkedDatadir(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "mariadb")
	secrets := secretFilesDir(t, map[string]string{"db_root_password": "root-" + randomSuffix(t), "db_password": "app-" + randomSuffix(t)})
	datadir := t.TempDir()
	stray := filepath.Join(datadir, "ibdata1")
	require.NoError(t, os.WriteFile(stray, []byte("not a database"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(datadir, "mysql"), 0o700))

	r := runMariaDB(ctx, t, e, rep.Images[0].Ref, secrets, datadir)
	code := taskExitCode(ctx, t, r, time.Minute)
	assert.NotEqual(t, uint32(0), code)
	assert.Contains(t, r.logs(t), "has files but no .inception-initialised")
	assert.NotContains(t, r.logs(t), "initialising a new database")
	dt, err := os.ReadFile(stray)
	require.NoError(t, err)
	assert.Equal(t, "not a database", string(dt))
	entries, err := os.ReadDir(datadir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "nothing added to the datadir")
}

// TestMariaDBMissingSecret: the entrypoint names the missing file and
// initialises nothing.
func TestMariaDBMissingSecret(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "mariadb")
	appPW := "app-" + randomSuffix(t)
	secrets := secretFilesDir(t, map[string]string{"db_password": appPW})
	datadir := t.TempDir()

	r := runMariaDB(ctx, t, e, rep.Images[0].Ref, secrets, datadir)
	code := taskExitCode(ctx, t, r, time.Minute)
	assert.NotEqual(t, uint32(0), code)
	log := r.logs(t)
	assert.Contains(t, log, "missing secret file /run/secrets/db_root_password")
	assert.NotContains(t, log, appPW)
	entries, err := os.ReadDir(datadir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing initialised")
}
