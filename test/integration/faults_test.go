package integration

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/engine/proc"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// The fault-injection stack: the Inception stack under a name and subnet
// of its own.
const (
	faultsStack  = "faults"
	faultsSubnet = "10.89.160.0/24"
	// faultsKills is how many times each service of the page's path is
	// killed: the figures are medians of that many.
	faultsKills = 5
)

// mainProcess is the command name (its prefix: Debian's php-fpm8.2) of
// each service's main process: the topmost process of that name in its
// container, tini's child, or for the services under holder (see
// underHolder) holder's (for php-fpm, its master).
var mainProcess = map[string]string{
	"mariadb": "mariadbd", "redis": "redis-server", "wordpress": "php-fpm", "nginx": "nginx",
	"vsftpd": "vsftpd", "adminer": "php-fpm", "static": "",
}

// underHolder are the services whose main process runs under holder in
// Debian's images: a kill of it is answered by holder in the same
// container, never by a restart of the container.
var underHolder = map[string]bool{"mariadb": true, "redis": true, "wordpress": true, "adminer": true}

// faultSuite is the state TestFaults's subtests share, in order.
type faultSuite struct {
	*rtEnv
	cfg      stack.Config
	envFile  string
	ftpPort  int
	dbMount  string // the mariadb volume: a small ext4 on a loop device
	logMount string // nginx's log directory: a tmpfs
	rows     []faultRow
	dbRows   int // rows committed to faultcheck.kills
}

// faultRow is one line of the fault table.
type faultRow struct {
	fault, did, lost, data, recovery string
}

// TestFaults injects faults into a running Inception stack and checks what
// the stack does: kill -9 of every service's main process (five times,
// under load, for those a page needs), of the supervisor, of containerd and
// of `inceptionctl up` half-way; the database's filesystem (ext4 on a loop
// device) and the logs' (a tmpfs) full. Each fault's requests lost, data lost and time to recover are
// asserted, and printed as a table (t.Log, Markdown):
//
//	INCEPTION_INTEGRATION=1 INCEPTION_BUILDKITD=$PWD/bin/buildkitd \
//	  go test -count=1 -v -run TestFaults ./test/integration/
//
// The load is the bench's (bench.MeasureFault): 8 connections asking for
// pages WordPress renders in full (searches, /?s=fault-N: nginx's page
// cache stores no page with a query), a prober every 20 ms for the first
// 200 after the fault. The subtests build on each other: run the test as a
// whole.
func TestFaults(t *testing.T) {
	ctx0, e := setup(t)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx0), 12*time.Minute)
	t.Cleanup(cancel)
	buildServices(ctx, t, e, stack.Default().Names()...)
	f := newFaultSuite(ctx, t, e)

	t.Run("kill -9 of the main process of mariadb, redis and wordpress, under load", func(t *testing.T) {
		f.sql(ctx, t, "CREATE DATABASE IF NOT EXISTS faultcheck; CREATE TABLE IF NOT EXISTS faultcheck.kills (n INT PRIMARY KEY, at VARCHAR(40)) ENGINE=InnoDB")
		f.warmUp(ctx, t)
		results := map[string][]bench.FaultResult{}
		// Round by round, so that a service runs its 10 s between two of
		// its kills and each restart is an immediate one (restart.go).
		for round := 1; round <= faultsKills; round++ {
			for _, svc := range []string{"mariadb", "redis", "wordpress"} {
				if svc == "mariadb" {
					f.dbRows++
					f.sql(ctx, t, fmt.Sprintf("INSERT INTO faultcheck.kills VALUES (%d, '%s')", f.dbRows, time.Now().UTC().Format(time.RFC3339Nano)))
				}
				res := f.killUnderLoad(ctx, t, svc)
				results[svc] = append(results[svc], res)
				// php-fpm: none lost, the dead master's workers serve on
				// while a new master starts on the socket holder keeps (the
				// target allows those in flight at the kill).
				if svc == "wordpress" && !assert.Zero(t, res.Errors,
					"wordpress kill %d: no request lost, %d were in flight at the kill (first: %s)", round, res.InFlight, res.FirstError) {
					f.logLines(ctx, t, "wordpress", "holder", "php-fpm", "WARNING", "ERROR")
				}
			}
		}
		assert.Equal(t, strconv.Itoa(f.dbRows), f.sql(ctx, t, "SELECT COUNT(*) FROM faultcheck.kills"), "every row committed before a kill is there")
		// The way it went: each new master took the held socket over.
		var wpLog strings.Builder
		require.NoError(t, f.rt.Logs(ctx, faultsStack, runtime.LogsOptions{Services: []string{"wordpress"}, Tail: -1}, &wpLog))
		assert.Equal(t, faultsKills, strings.Count(wpLog.String(), "holder: php-fpm (pid "), "one holder line per kill in wordpress's log")
		for _, svc := range []string{"mariadb", "redis"} {
			var log strings.Builder
			require.NoError(t, f.rt.Logs(ctx, faultsStack, runtime.LogsOptions{Services: []string{svc}, Tail: -1, Timestamps: true}, &log))
			assert.Equal(t, faultsKills, strings.Count(log.String(), "holder: "+mainProcess[svc]+" (pid "), "one holder line per kill in %s's log", svc)
			if svc == "mariadb" {
				// What a recovery is made of: mariadbd's own start.
				ready := restartToReady(log.String())
				assert.Len(t, ready, faultsKills, "each restart of mariadbd was ready for connections")
				t.Logf("mariadbd from holder's restart to %q: %v", "ready for connections", ready)
			}
		}
		assert.Equal(t, faultsKills+1, strings.Count(wpLog.String(), `using inherited socket fd=3, ":::9000"`), "every php-fpm master took the held socket")
		for _, svc := range []string{"mariadb", "redis", "wordpress"} {
			rs := results[svc]
			errs, inFlight := 0, 0
			for i, r := range rs {
				errs += r.Errors
				inFlight += r.InFlight
				if svc == "redis" && !assert.Zero(t, r.Errors, "%s kill %d: no request lost (first: %s)", svc, i+1, r.FirstError) {
					f.logLines(ctx, t, "wordpress", "PHP", "error", "WordPress")
				}
			}
			// MariaDB: none lost (db.php waits for it, asks a cut read
			// again and connects again when the crash cut the connection
			// before WordPress had selected its database).
			if svc == "mariadb" && !assert.Zero(t, errs, "mariadb: no request lost over %d kills (first: %s)", len(rs), firstError(rs)) {
				f.logLines(ctx, t, "wordpress", "PHP", "error", "WordPress")
			}
			row := faultRow{
				fault:    fmt.Sprintf("kill -9 %s (%d times)", cmp.Or(killLabel[svc], mainProcess[svc]), len(rs)),
				did:      faultDid[svc],
				lost:     fmt.Sprintf("%d of %d (in flight at the kills: %d)", errs, errs+sumRequests(rs), inFlight),
				data:     "none",
				recovery: medianRecovery(rs),
			}
			if svc == "mariadb" {
				row.data = fmt.Sprintf("none (%d of %d committed rows)", f.dbRows, f.dbRows)
			}
			f.rows = append(f.rows, row)
		}
	})

	t.Run("kill -9 of the main process of nginx, vsftpd, adminer and static", func(t *testing.T) {
		for _, svc := range []string{"nginx", "vsftpd", "adminer", "static"} {
			page := f.cfg.SiteURL() + "/"
			switch svc {
			case "adminer":
				page += "adminer/"
			case "static":
				page += "site/"
			}
			if svc == "vsftpd" {
				killed := time.Now()
				pid := f.kill(ctx, t, svc)
				d := f.pollFTP(ctx, t, killed)
				f.waitRestarted(ctx, t, svc, pid)
				f.rows = append(f.rows, faultRow{fault: "kill -9 vsftpd", did: "restarted by the supervisor",
					lost: "the FTP sessions open at the kill", data: "none", recovery: fmt.Sprintf("%.2f s (FTP banner)", d.Seconds())})
				continue
			}
			res := f.killUnderLoadAt(ctx, t, svc, page)
			did := "restarted by the supervisor"
			if svc == "adminer" {
				// As for wordpress: holder keeps the socket.
				did = faultDid["wordpress"]
				if !assert.Zero(t, res.Errors, "adminer: no request lost, %d were in flight at the kill (first: %s)", res.InFlight, res.FirstError) {
					f.logLines(ctx, t, "adminer", "holder", "php-fpm", "WARNING", "ERROR")
				}
				var log strings.Builder
				require.NoError(t, f.rt.Logs(ctx, faultsStack, runtime.LogsOptions{Services: []string{"adminer"}, Tail: -1}, &log))
				assert.Equal(t, 2, strings.Count(log.String(), `using inherited socket fd=3, ":::9000"`), "both of adminer's php-fpm masters took the held socket")
			}
			lost := fmt.Sprintf("%d of %d (in flight at the kill: %d)", res.Errors, res.Errors+res.Requests, res.InFlight)
			if svc != "nginx" {
				// Its pages are its own: the load asked for them.
				lost += ", its own pages"
			}
			f.rows = append(f.rows, faultRow{fault: "kill -9 " + killLabel[svc], did: did,
				lost: lost, data: "none", recovery: fmt.Sprintf("%.2f s", res.Recovery.Seconds())})
		}
	})

	t.Run("kill -9 of the supervisor: ps starts it again, restarts keep working", func(t *testing.T) {
		pidFile := filepath.Join(e.engine.RunDir(), "supervisor-"+faultsStack+".pid")
		old := readPID(t, pidFile)
		require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
		waitFor(t, "the supervisor to die", 10*time.Second, func() bool { return gone(old) })
		started := time.Now()
		_, err := f.rt.PS(ctx, faultsStack)
		require.NoError(t, err)
		var revived int
		waitFor(t, "a new supervisor", 15*time.Second, func() bool {
			data, err := os.ReadFile(pidFile)
			if err != nil {
				return false
			}
			p, err := strconv.Atoi(strings.TrimSpace(string(data)))
			revived = p
			return err == nil && p != old && !gone(p)
		})
		back := time.Since(started)
		// Restarts keep working: vsftpd (no holder) killed, the new
		// supervisor restarts its container.
		restarts := f.restarts(t)["vsftpd"]
		killed := time.Now()
		task := f.kill(ctx, t, "vsftpd")
		ftp := f.pollFTP(ctx, t, killed)
		f.waitRestarted(ctx, t, "vsftpd", task)
		assert.Equal(t, restarts+1, f.restarts(t)["vsftpd"], "the new supervisor restarted vsftpd")
		f.rows = append(f.rows, faultRow{fault: "kill -9 the supervisor", did: fmt.Sprintf("the next ps started a new one (pid %d); vsftpd killed after it, restarted by it (FTP banner after %.2f s)", revived, ftp.Seconds()),
			lost: "0", data: "none", recovery: fmt.Sprintf("%.2f s (ps to a new supervisor)", back.Seconds())})
	})

	t.Run("kill -9 of containerd: the containers serve on, engine start and up adopt them", func(t *testing.T) {
		before := f.taskPIDs(ctx, t)
		restarts := f.restarts(t)
		cpid := readPID(t, filepath.Join(e.engine.RunDir(), "containerd.pid"))
		res, err := bench.MeasureFault(ctx, f.load(f.cfg.SiteURL()+"/", 2*time.Second), func(context.Context) error {
			if err := syscall.Kill(cpid, syscall.SIGKILL); err != nil {
				return err
			}
			for !gone(cpid) {
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		})
		require.NoError(t, err)
		assert.Zero(t, res.Errors, "the site answers with containerd dead (first error: %s)", res.FirstError)
		started := time.Now()
		require.NoError(t, e.engine.Ensure(ctx), "engine start")
		engineBack := time.Since(started)
		require.NoError(t, f.rt.Up(ctx, f.st, runtime.UpOptions{Wait: true, Timeout: 2 * time.Minute}))
		assert.Equal(t, len(f.st.Services), f.containerCount(ctx, t), "containers adopted, not duplicated")
		assert.Equal(t, before, f.taskPIDs(ctx, t), "every task is the one that ran before: adopted, not restarted")
		assert.Equal(t, restarts, f.restarts(t), "no restart")
		f.rows = append(f.rows, faultRow{fault: "kill -9 containerd", did: "containers served on; engine start and up adopted every one (same tasks)",
			lost: fmt.Sprintf("%d of %d", res.Errors, res.Errors+res.Requests), data: "none",
			recovery: fmt.Sprintf("0 (site); engine start %.2f s", engineBack.Seconds())})
	})

	t.Run("the database's filesystem full: writes refused, nothing corrupt, back when there is room", func(t *testing.T) {
		pid := f.ps(ctx, t, "mariadb").PID
		mariadbd, _ := mainOf(t, pid, mainProcess["mariadb"])
		restarts := f.service(t, "mariadb").Restarts
		db := f.cfg.Env["MYSQL_DATABASE"]
		// 8 MB of ordinary rows (a table that grows, as WordPress's do).
		// Not one big BLOB: MariaDB 10.11 aborts when a BLOB's pages
		// cannot be allocated (see the README's Faults section).
		const growRows = "INSERT INTO faultcheck.grow (v) SELECT REPEAT('x', 2000) FROM faultcheck.seq_1_to_4000"
		f.sql(ctx, t, "CREATE TABLE IF NOT EXISTS faultcheck.grow (n INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(2000)) ENGINE=InnoDB")
		var filler string
		res, err := bench.MeasureFault(ctx, f.load(f.cfg.SiteURL()+"/", time.Second), func(context.Context) error {
			filler = fillUp(f.dbMount)
			return nil
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = os.Remove(filler) })
		assert.Zero(t, res.Errors, "the site reads with a full database disk (first error: %s)", res.FirstError)
		// A refusal, not a wait: MariaDB may wait for room on some writes.
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		code, out := f.exec(wctx, t, "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", growRows)
		wcancel()
		assert.NotEqual(t, 0, code, "a write that needs room is refused: %s", out)
		refused := errorLine(out)
		assert.Contains(t, refused, "is full", "MariaDB's own refusal: %s", out)
		t.Logf("MariaDB with a full disk: %s", refused)
		now, _, _ := findMain(pid, mainProcess["mariadb"])
		if !assert.Equal(t, pid, f.ps(ctx, t, "mariadb").PID, "the container was not restarted") ||
			!assert.Equal(t, mariadbd, now, "mariadbd did not crash (holder would have started another)") {
			f.logLines(ctx, t, "mariadb", "[ERROR]", "Assertion", "signal")
		}
		require.NoError(t, os.Remove(filler))
		f.waitRestarted(ctx, t, "mariadb", 0)
		code, out = f.exec(ctx, t, "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", growRows)
		assert.Equal(t, 0, code, "the write goes through once there is room: %s", out)
		assert.Equal(t, "4000", f.sql(ctx, t, "SELECT COUNT(*) FROM faultcheck.grow"), "the refused insert left no row, the second one all")
		check := f.sql(ctx, t, "CHECK TABLE faultcheck.kills, faultcheck.grow, "+db+".wp_posts, "+db+".wp_options")
		for _, line := range strings.Split(check, "\n") {
			if strings.Contains(line, "\tstatus\t") {
				assert.True(t, strings.HasSuffix(line, "\tOK"), "CHECK TABLE: %s", line)
			}
		}
		assert.Equal(t, strconv.Itoa(f.dbRows), f.sql(ctx, t, "SELECT COUNT(*) FROM faultcheck.kills"))
		assert.Equal(t, restarts, f.service(t, "mariadb").Restarts, "no restart")
		f.rows = append(f.rows, faultRow{fault: "database filesystem full", did: "reads served; a write that needed room refused (" + refused + "); it went through once there was room",
			lost: fmt.Sprintf("%d of %d reads", res.Errors, res.Errors+res.Requests), data: "none (CHECK TABLE OK)", recovery: "at once"})
	})

	t.Run("the logs' filesystem full: services serve on, lines dropped and counted, logging resumes", func(t *testing.T) {
		logPath := filepath.Join(f.logMount, "container.log")
		var filler string
		res, err := bench.MeasureFault(ctx, f.load(f.cfg.SiteURL()+"/", 2*time.Second), func(context.Context) error {
			filler = fillUp(f.logMount)
			return nil
		})
		require.NoError(t, err)
		assert.Zero(t, res.Errors, "nginx answers with its log's disk full (first error: %s)", res.FirstError)
		var drops runtime.LogDrops
		waitFor(t, "the dropped lines counted", 5*time.Second, func() bool {
			data, err := os.ReadFile(logPath + ".dropped")
			return err == nil && json.Unmarshal(data, &drops) == nil && drops.Lines > 0
		})
		require.NoError(t, os.Remove(filler))
		c := siteClient(t, f.cfg.Domain, false)
		waitFor(t, "nginx's log to take lines again", 10*time.Second, func() bool {
			_, _, _ = getStatus(ctx, c, f.cfg.SiteURL()+"/?s=log-resumes")
			data, err := os.ReadFile(logPath)
			return err == nil && strings.Contains(string(data), "s=log-resumes")
		})
		f.rows = append(f.rows, faultRow{fault: "logs filesystem full (nginx's)", did: fmt.Sprintf("served on; %d log lines dropped and counted; logging resumed with room", drops.Lines),
			lost: fmt.Sprintf("%d of %d", res.Errors, res.Errors+res.Requests), data: "log lines only", recovery: "at once"})
	})

	t.Run("kill -9 of inceptionctl up half-way: the next up finishes the job", func(t *testing.T) {
		ctl := filepath.Join(repoRoot(t), "bin", "inceptionctl")
		_, err := os.Stat(ctl)
		require.NoError(t, err, "make inceptionctl first")
		// The logs' tmpfs goes first: down removes the stack's state.
		require.NoError(t, syscall.Unmount(f.logMount, syscall.MNT_DETACH))
		require.NoError(t, f.rt.Down(ctx, f.st, runtime.DownOptions{}))
		log := filepath.Join(t.TempDir(), "up.log")
		pid, err := proc.SpawnDetached([]string{ctl, "--root", e.engine.Root(), "--run-dir", e.engine.RunDir(), "-p", faultsStack,
			"up", "-d", "--env-file", f.envFile, "--subnet", faultsSubnet}, log)
		require.NoError(t, err)
		var running int
		waitFor(t, "up half-way (some services running, not all)", 2*time.Minute, func() bool {
			require.False(t, gone(pid), "up ended before it was half-way:\n%s", tailFile(log))
			reps, err := f.rt.PS(ctx, faultsStack)
			if err != nil {
				return false
			}
			running = 0
			for _, r := range reps {
				if r.State == runtime.StatusRunning {
					running++
				}
			}
			return running >= 1 && running < len(f.st.Services)
		})
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		waitFor(t, "up to die", 10*time.Second, func() bool { return gone(pid) })
		t.Logf("inceptionctl up killed with %d of %d services running", running, len(f.st.Services))
		started := time.Now()
		require.NoError(t, f.rt.Up(ctx, f.st, runtime.UpOptions{Wait: true, Timeout: 90 * time.Second}), "the next up")
		took := time.Since(started)
		assert.Equal(t, len(f.st.Services), f.containerCount(ctx, t), "one container per service")
		for _, r := range f.psAll(ctx, t) {
			assert.Equal(t, runtime.StatusRunning, r.State, r.Service)
		}
		code, _, err := getStatus(ctx, siteClient(t, f.cfg.Domain, false), f.cfg.SiteURL()+"/?s=after-up")
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		assert.Equal(t, strconv.Itoa(f.dbRows), f.sql(ctx, t, "SELECT COUNT(*) FROM faultcheck.kills"), "the data volume kept")
		f.rows = append(f.rows, faultRow{fault: "kill -9 inceptionctl up half-way", did: fmt.Sprintf("%d of %d services were running; the next up started the rest", running, len(f.st.Services)),
			lost: "-", data: "none", recovery: fmt.Sprintf("%.2f s (the next up --wait)", took.Seconds())})
	})

	f.printTable(t)
}

// killLabel names a service's main process in the table, where its
// command name alone would not say which it is.
var killLabel = map[string]string{"wordpress": "php-fpm master", "nginx": "nginx's master", "adminer": "adminer's php-fpm master", "static": "static's server"}

// faultDid is what the stack does on a kill of a page's service.
var faultDid = map[string]string{
	"mariadb":   "holder started mariadbd again at once (same container); WordPress waited for it (db.php)",
	"redis":     "holder started redis-server again at once (same container); WordPress went on without its object cache meanwhile",
	"wordpress": "holder started a new master on the socket it holds (same container); the dead master's workers served on meanwhile",
}

func newFaultSuite(ctx context.Context, t *testing.T, e *env) *faultSuite {
	t.Helper()
	dir := t.TempDir()
	pasv := freePortRange(t, 3)
	dotenv := localDotenv(t, faultsStack, dir, map[string]string{
		"FTP_PORT":         strconv.Itoa(freePort(t)),
		"FTP_PASV_MIN":     strconv.Itoa(pasv[0]),
		"FTP_PASV_MAX":     strconv.Itoa(pasv[len(pasv)-1]),
		"FTP_PASV_ADDRESS": "127.0.0.1",
		"WP_TITLE":         "Inception faults",
	})
	f := &faultSuite{envFile: filepath.Join(dir, ".env")}
	var err error
	f.ftpPort, err = strconv.Atoi(dotenv["FTP_PORT"])
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("# written by TestFaults\n")
	for _, k := range slices.Sorted(maps.Keys(dotenv)) {
		fmt.Fprintf(&b, "%s=%s\n", k, dotenv[k])
	}
	require.NoError(t, os.WriteFile(f.envFile, []byte(b.String()), 0o600))
	env, err := stack.ParseEnvFile(f.envFile)
	require.NoError(t, err)
	f.cfg, err = stack.NewConfig(env)
	require.NoError(t, err)
	_, err = f.cfg.EnsureSecrets()
	require.NoError(t, err)
	st, err := stack.Inception(f.cfg)
	require.NoError(t, err)
	st.Name = faultsStack
	f.rtEnv = &rtEnv{env: e, st: st, dataDir: f.cfg.DataDir, secretsDir: f.cfg.SecretsDir}
	f.rt = engineRuntime(t, e, stackOptions(f.cfg.DataDir, f.cfg.SecretsDir, f.cfg.HostIP, faultsSubnet)...)
	// A run that crashed may have left the stack, and its mounts, behind.
	f.dbMount = f.cfg.VolumePath("mariadb")
	f.logMount = filepath.Join(e.engine.Root(), "runtime", faultsStack, "nginx")
	for _, m := range []string{f.dbMount, f.logMount} {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
	require.NoError(t, f.rt.Down(ctx, st, runtime.DownOptions{Volumes: true}))
	t.Cleanup(func() {
		cctx := context.WithoutCancel(ctx)
		if t.Failed() {
			f.dumpLogs(cctx, t)
		}
		for _, m := range []string{f.dbMount, f.logMount} {
			_ = syscall.Unmount(m, syscall.MNT_DETACH)
		}
		if err := f.rt.Down(cctx, f.st, runtime.DownOptions{Volumes: true}); err != nil {
			t.Errorf("down --volumes: %v", err)
		}
	})
	// The database's volume and nginx's log directory on filesystems of
	// their own, small, that a test can fill: ext4 on a loop device as a
	// disk would be, a tmpfs for the log.
	mountExt4(t, f.dbMount, filepath.Join(dir, "mariadb.ext4"), 320<<20)
	mountTmpfs(t, f.logMount, "64m")
	started := time.Now()
	require.NoError(t, f.rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: 5 * time.Minute}))
	t.Logf("fault stack up in %v", time.Since(started).Round(time.Millisecond))
	return f
}

// mountTmpfs mounts a tmpfs of size at dir.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0755"), "mount a tmpfs at %s", dir)
}

// mountExt4 makes an ext4 filesystem of size bytes in the file img (no
// blocks kept for root: mariadbd runs as mysql) and mounts it at dir.
func mountExt4(t *testing.T, dir, img string, size int64) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	fh, err := os.Create(img)
	require.NoError(t, err)
	require.NoError(t, fh.Truncate(size))
	require.NoError(t, fh.Close())
	for _, args := range [][]string{{"mkfs.ext4", "-q", "-F", "-m", "0", img}, {"mount", "-o", "loop", img, dir}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		require.NoError(t, err, "%s: %s", strings.Join(args, " "), out)
	}
}

// fillUp writes a file into dir until its filesystem is full and returns
// its path.
func fillUp(dir string) string {
	p := filepath.Join(dir, "fault-filler")
	fh, err := os.Create(p)
	if err != nil {
		return p // full already
	}
	defer fh.Close()
	for _, n := range []int{1 << 20, 4096, 1} {
		buf := make([]byte, n)
		for {
			if _, err := fh.Write(buf); err != nil {
				break
			}
		}
	}
	return p
}

// load is the fault load on page, going on for after once the site
// answers again.
func (f *faultSuite) load(page string, after time.Duration) bench.FaultLoad {
	return bench.FaultLoad{URL: page, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(f.cfg.HTTPSPort)),
		Concurrency: 8, Before: 500 * time.Millisecond, After: after, Timeout: 30 * time.Second}
}

// kill sends SIGKILL to svc's main process and returns the pid of the
// task it killed.
func (f *faultSuite) kill(ctx context.Context, t *testing.T, svc string) uint32 {
	t.Helper()
	task := f.ps(ctx, t, svc).PID
	pid, comm := mainOf(t, task, mainProcess[svc])
	t.Logf("kill -9 %s's %s (host pid %d)", svc, comm, pid)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	return task
}

// killUnderLoad kills svc's main process under the fault load on uncached
// pages and waits until it runs and is healthy again: restarted by the
// supervisor, or for the services under holder by holder in the same
// container.
func (f *faultSuite) killUnderLoad(ctx context.Context, t *testing.T, svc string) bench.FaultResult {
	t.Helper()
	return f.killUnderLoadAt(ctx, t, svc, f.cfg.SiteURL()+"/")
}

func (f *faultSuite) killUnderLoadAt(ctx context.Context, t *testing.T, svc, page string) bench.FaultResult {
	t.Helper()
	task := f.ps(ctx, t, svc).PID
	pid, comm := mainOf(t, task, mainProcess[svc])
	restarts := f.restarts(t)[svc]
	res, err := bench.MeasureFault(ctx, f.load(page, 500*time.Millisecond), func(context.Context) error {
		return syscall.Kill(pid, syscall.SIGKILL)
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, res.Recovery, time.Duration(0), "%s: %s answered 200 again within 30 s (first error: %s)", svc, page, res.FirstError)
	t.Logf("FAULT kill -9 %s (%s, host pid %d): %d requests, %d errors, %d in flight at the kill, first 200 after %v (a request took %v before), longest request %v; first error: %s",
		svc, comm, pid, res.Requests+res.Errors, res.Errors, res.InFlight, res.Recovery.Round(time.Millisecond), res.Typical.Round(time.Millisecond),
		res.Longest.Round(time.Millisecond), res.FirstError)
	if underHolder[svc] {
		f.waitNewMain(ctx, t, svc, task, pid)
		assert.Equal(t, restarts, f.restarts(t)[svc], "the container was not restarted: holder started %s again", mainProcess[svc])
		return res
	}
	f.waitRestarted(ctx, t, svc, task)
	return res
}

// warmUp runs the fault load for a few seconds with no fault: the first
// pages after up are the stack's own start (php-fpm's workers forked,
// OPcache and InnoDB's buffer pool filled), which would otherwise be
// counted in the first kill's recovery. It fails when the site does not
// serve the load.
func (f *faultSuite) warmUp(ctx context.Context, t *testing.T) {
	t.Helper()
	l := f.load(f.cfg.SiteURL()+"/", 500*time.Millisecond)
	l.Before = 3 * time.Second
	res, err := bench.MeasureFault(ctx, l, func(context.Context) error { return nil })
	require.NoError(t, err)
	require.Zero(t, res.Errors, "warm-up load: every page answered 200 (first error: %s)", res.FirstError)
	require.Positive(t, res.Requests, "warm-up load: pages answered")
	t.Logf("warm-up: %d pages in %v, a page took %v", res.Requests, l.Before+l.After, res.Typical.Round(time.Millisecond))
}

// waitNewMain waits until svc's task (the same, not restarted) runs a
// main process (for php-fpm, a master) other than old, and is healthy.
func (f *faultSuite) waitNewMain(ctx context.Context, t *testing.T, svc string, task uint32, old int) {
	t.Helper()
	waitFor(t, svc+": a new "+mainProcess[svc]+", healthy", time.Minute, func() bool {
		r := f.ps(ctx, t, svc)
		require.Equal(t, task, r.PID, "%s's task: the same container", svc)
		pid, _, ok := findMain(task, mainProcess[svc])
		return ok && pid != old && r.Health == runtime.HealthHealthy
	})
}

// waitRestarted waits until svc runs a task other than old, healthy.
func (f *faultSuite) waitRestarted(ctx context.Context, t *testing.T, svc string, old uint32) {
	t.Helper()
	waitFor(t, svc+" restarted and healthy", time.Minute, func() bool {
		r := f.ps(ctx, t, svc)
		return r.State == runtime.StatusRunning && r.PID != old && (r.Health == runtime.HealthHealthy || r.Health == runtime.HealthNone)
	})
}

// pollFTP waits for vsftpd's banner and returns the time since since.
func (f *faultSuite) pollFTP(ctx context.Context, t *testing.T, since time.Time) time.Duration {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(f.ftpPort))
	for time.Since(since) < time.Minute {
		d := net.Dialer{Timeout: time.Second}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, err := textproto.NewReader(bufio.NewReader(c)).ReadLine()
			_ = c.Close()
			if err == nil && strings.HasPrefix(line, "220") {
				return time.Since(since)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("vsftpd did not greet on %s within a minute of the kill", addr)
	return 0
}

// logLines logs the lines of svc's log that hold one of words.
func (f *faultSuite) logLines(ctx context.Context, t *testing.T, svc string, words ...string) {
	t.Helper()
	var b strings.Builder
	_ = f.rt.Logs(ctx, faultsStack, runtime.LogsOptions{Services: []string{svc}, Tail: 400}, &b)
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				lines = append(lines, l)
				break
			}
		}
	}
	t.Logf("%s's log, lines with %s:\n%s", svc, strings.Join(words, ", "), strings.Join(lines, "\n"))
}

// sql runs SQL as MariaDB's root and returns its output, trimmed.
func (f *faultSuite) sql(ctx context.Context, t *testing.T, q string) string {
	t.Helper()
	code, out := f.exec(ctx, t, "mariadb", "mariadb", "-u", "root", "-N", "-B", "-e", q)
	require.Equal(t, 0, code, "%s: %s", q, out)
	return strings.TrimSpace(out)
}

func (f *faultSuite) psAll(ctx context.Context, t *testing.T) []runtime.ServiceReport {
	t.Helper()
	reps, err := f.rt.PS(ctx, faultsStack)
	require.NoError(t, err)
	return reps
}

// taskPIDs maps each service to its task's pid.
func (f *faultSuite) taskPIDs(ctx context.Context, t *testing.T) map[string]uint32 {
	t.Helper()
	m := map[string]uint32{}
	for _, r := range f.psAll(ctx, t) {
		m[r.Service] = r.PID
	}
	return m
}

// restarts maps each service to its restart count.
func (f *faultSuite) restarts(t *testing.T) map[string]int {
	t.Helper()
	s, err := f.state()
	require.NoError(t, err)
	m := map[string]int{}
	for n, ss := range s.Services {
		m[n] = ss.Restarts
	}
	return m
}

// printTable logs the fault table, as text and as Markdown.
func (f *faultSuite) printTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("| fault | what the stack did | requests lost | data lost | recovery |\n|---|---|---|---|---|\n")
	for _, r := range f.rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.fault, r.did, r.lost, r.data, r.recovery)
	}
	t.Logf("fault table (load: 8 connections on pages WordPress renders, /?s=fault-N; first 200 polled every 20 ms):\n%s", b.String())
}

// mainOf returns the host pid and command of the topmost process in
// task's tree whose command starts with prefix: tini's child, or a
// grandchild under holder (a process whose parent has
// the same name is a worker).
func mainOf(t *testing.T, task uint32, prefix string) (int, string) {
	t.Helper()
	pid, comm, ok := findMain(task, prefix)
	if !ok {
		t.Fatalf("no process named %s* under task %d", prefix, task)
	}
	return pid, comm
}

func findMain(task uint32, prefix string) (int, string, bool) {
	entries, err := os.ReadDir(proc.Dir)
	if err != nil {
		return 0, "", false
	}
	procs := map[int]proc.Stat{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := proc.ReadStat(proc.Dir, p); err == nil && st.State != "Z" {
			procs[p] = st
		}
	}
	// Breadth first from the task: the first match is the topmost.
	level := []int{int(task)}
	for len(level) > 0 {
		var next []int
		for _, parent := range level {
			for _, p := range slices.Sorted(maps.Keys(procs)) {
				if procs[p].PPID != parent {
					continue
				}
				if strings.HasPrefix(procs[p].Comm, prefix) {
					// A dead php-fpm master's workers, which serve on for a
					// moment, are the container init's children: not a main
					// process.
					if args, err := proc.Args(proc.Dir, p); err == nil && len(args) > 0 && strings.HasPrefix(args[0], "php-fpm: pool ") {
						continue
					}
					return p, procs[p].Comm, true
				}
				next = append(next, p)
			}
		}
		level = next
	}
	return 0, "", false
}

// readPID reads a pid file.
func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err, path)
	return pid
}

func sumRequests(rs []bench.FaultResult) int {
	n := 0
	for _, r := range rs {
		n += r.Requests
	}
	return n
}

// medianRecovery is "median s [min-max]" of the results' recoveries.
func medianRecovery(rs []bench.FaultResult) string {
	var s []float64
	for _, r := range rs {
		s = append(s, r.Recovery.Seconds())
	}
	if len(s) == 0 {
		return "-"
	}
	var typical []float64
	for _, r := range rs {
		typical = append(typical, r.Typical.Seconds())
	}
	return fmt.Sprintf("%.2f s [%.2f-%.2f] (a page took %.2f s before)", benchstat.Median(s), slices.Min(s), slices.Max(s), benchstat.Median(typical))
}

// restartToReady reads a timestamped log of mariadb and returns, for each
// of holder's restarts of mariadbd, the time to its next "ready for
// connections".
func restartToReady(log string) []time.Duration {
	var (
		out     []time.Duration
		restart time.Time
	)
	for _, l := range strings.Split(log, "\n") {
		_, rest, ok := strings.Cut(l, "| ")
		if !ok {
			continue
		}
		stamp, text, _ := strings.Cut(rest, " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(text, "holder: mariadbd (pid "):
			restart = at
		case strings.Contains(text, "ready for connections") && !restart.IsZero():
			out = append(out, at.Sub(restart).Round(time.Millisecond))
			restart = time.Time{}
		}
	}
	return out
}

// errorLine is the ERROR line of the mariadb client's output.
func errorLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "ERROR") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(out)
}

// tailFile is the end of a file, for failure messages.
func tailFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return lastLines(string(data), 30)
}

// firstError is the first error any of rs met, or "none".
func firstError(rs []bench.FaultResult) string {
	for _, r := range rs {
		if r.FirstError != "" {
			return r.FirstError
		}
	}
	return "none"
}
