package llbdefs

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inceptionctl/inception/internal/freeport"
	"github.com/inceptionctl/inception/pkg/engine/proc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// holderRun is holder --fpm-port running testdata/fake-php-fpm on a free
// port.
type holderRun struct {
	cmd    *exec.Cmd
	port   int
	dir    string // the fake's env.PID files
	stderr *stderrFile
	done   chan struct{}
	err    error // Wait's, once done is closed
}

// stderrFile is the holder's stderr: a file, which the fake's orphaned
// workers may keep open without holding up Wait, as a pipe would.
type stderrFile string

func (f *stderrFile) String() string {
	data, err := os.ReadFile(string(*f))
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// startHolder runs the images' holder with the host's perl (Debian's
// perl-base, as in the image) in front of the fake php-fpm.
func startHolder(t *testing.T, env ...string) *holderRun {
	t.Helper()
	perl, err := exec.LookPath("perl")
	require.NoError(t, err, "perl runs holder: every Debian system has it (perl-base); install perl")
	port, err := freeport.Port()
	require.NoError(t, err)
	fake, err := filepath.Abs("testdata/fake-php-fpm")
	require.NoError(t, err)
	h := &holderRun{port: port, dir: t.TempDir(), done: make(chan struct{})}
	errPath := stderrFile(filepath.Join(h.dir, "stderr"))
	h.stderr = &errPath
	stderr, err := os.Create(string(errPath))
	require.NoError(t, err)
	defer stderr.Close()
	h.cmd = exec.Command(perl, "files/holder/holder", "--fpm-port", strconv.Itoa(port), perl, fake)
	h.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "FAKE_DIR=" + h.dir, "WORDPRESS_DB_HOST=mariadb:3306"}, env...)
	h.cmd.Stderr = stderr
	require.NoError(t, h.cmd.Start())
	go func() {
		h.err = h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			_ = syscall.Kill(h.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-h.done:
			case <-time.After(5 * time.Second):
				_ = h.cmd.Process.Kill()
			}
		}
	})
	// It says so once the socket listens.
	require.Eventually(t, func() bool {
		select {
		case <-h.done:
			return true
		default:
			return strings.Contains(h.stderr.String(), " held for ")
		}
	}, 5*time.Second, 5*time.Millisecond, "holder never listened; its stderr:\n%s", h.stderr)
	return h
}

// ask connects to the held port, sends a line and returns the answer:
// the worker's pid, its master's pid, the socket's key.
func (h *holderRun) ask(t *testing.T) (worker, master int, key string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(h.port)), 5*time.Second)
	require.NoError(t, err, "connect to the held port; holder's stderr:\n%s", h.stderr)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = c.Write([]byte("GET\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err, "an answer from a worker; holder's stderr:\n%s", h.stderr)
	f := strings.Fields(line)
	require.Len(t, f, 3, line)
	worker, err = strconv.Atoi(f[0])
	require.NoError(t, err)
	master, err = strconv.Atoi(f[1])
	require.NoError(t, err)
	return worker, master, f[2]
}

// exited waits up to d for the holder to end and returns its exit code.
func (h *holderRun) exited(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(d):
		ps, _ := exec.Command("ps", "-eo", "pid,ppid,pgid,stat,wchan:20,args", "--forest").Output()
		t.Fatalf("holder still runs %v later; its stderr:\n%s\n%s", d, h.stderr, ps)
	}
	var ee *exec.ExitError
	if h.err == nil {
		return 0
	}
	require.True(t, errors.As(h.err, &ee), "%v", h.err)
	return ee.ExitCode()
}

// groupRunning lists the processes of process group pgid that are not
// zombies (the test's orphans are reaped by the host's init, some time
// later).
func groupRunning(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir(proc.Dir)
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := proc.ReadStat(proc.Dir, pid)
		if err == nil && st.PGRP == pgid && st.State != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestHolder runs the images' holder with --fpm-port in front of a fake
// php-fpm: the socket reaches php-fpm under php-fpm's own name, a killed
// master's workers answer on while a new master starts on the same
// socket and are stopped after the hand-over, a stop signal stops them
// all, and a php-fpm that keeps failing makes it give up.
func TestHolder(t *testing.T) {
	t.Run("php-fpm gets the socket under its own name, and its environment plus FPM_SOCKETS only", func(t *testing.T) {
		h := startHolder(t)
		_, master, key := h.ask(t)
		port := strconv.Itoa(h.port)
		// php-fpm's name for "listen = PORT": [::]:PORT, or 0.0.0.0:PORT
		// on a kernel without IPv6.
		assert.Contains(t, []string{":::" + port, "0.0.0.0:" + port}, key)
		names, err := os.ReadFile(filepath.Join(h.dir, "env."+strconv.Itoa(master)))
		require.NoError(t, err)
		assert.Equal(t, []string{"FAKE_DIR", "FPM_SOCKETS", "PATH", "WORDPRESS_DB_HOST"}, strings.Fields(string(names)))
		assert.Contains(t, h.stderr.String(), "holder: port "+port+" ("+key+") held for ")
	})

	t.Run("kill -9 of the master: its workers answer on until a new master has workers, then they stop", func(t *testing.T) {
		// The new master forks its workers 1 s after it starts: until then
		// only the dead master's can answer.
		h := startHolder(t, "FAKE_RESTART_DELAY=1")
		_, old, _ := h.ask(t)
		oldWorkers := groupRunning(t, old)
		require.Len(t, oldWorkers, 3, "the master and its two workers")
		require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
		killed := time.Now()
		for range 5 {
			worker, master, _ := h.ask(t)
			assert.Equal(t, old, master, "answered by the dead master's workers")
			assert.Contains(t, oldWorkers, worker)
		}
		require.Less(t, time.Since(killed), time.Second, "the asks ran before the new master's workers could answer")
		var master int
		require.Eventually(t, func() bool {
			_, master, _ = h.ask(t)
			return master != old
		}, 5*time.Second, 20*time.Millisecond, "a new master answers; stderr:\n%s", h.stderr)
		// SIGQUIT once the new master has a worker: well before the 2 s
		// the hand-over lasts at most.
		assert.Eventually(t, func() bool { return len(groupRunning(t, old)) == 0 }, time.Second, 20*time.Millisecond,
			"the dead master's workers stopped (SIGQUIT) once the new master had workers")
		assert.Contains(t, h.stderr.String(), fmt.Sprintf("holder: perl (pid %d) was killed by signal 9 after ", old))
		assert.Contains(t, h.stderr.String(), "a new one takes the socket over, its workers serve until the new one has its own")
		assert.Equal(t, 1, strings.Count(h.stderr.String(), "was killed"), "one line per crash:\n%s", h.stderr)
		select {
		case <-h.done:
			t.Fatalf("holder ended after one crash: %v\n%s", h.err, h.stderr)
		default:
		}
	})

	t.Run("a new master without workers: the dead master's stop after 2 s all the same", func(t *testing.T) {
		h := startHolder(t, "FAKE_RESTART_DELAY=5")
		_, old, _ := h.ask(t)
		require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
		killed := time.Now()
		_, master, _ := h.ask(t)
		assert.Equal(t, old, master, "answered by the dead master's workers")
		require.Eventually(t, func() bool { return len(groupRunning(t, old)) == 0 }, 4*time.Second, 20*time.Millisecond,
			"the dead master's workers stopped (SIGQUIT) at the hand-over's end")
		// holder counts whole seconds: the 2 s end between 1 and 2 s
		// after the crash.
		took := time.Since(killed)
		assert.GreaterOrEqual(t, took, 900*time.Millisecond, "not before the hand-over's end")
		assert.Less(t, took, 3500*time.Millisecond)
	})

	t.Run("a stop within the hand-over stops the dead master's workers too", func(t *testing.T) {
		h := startHolder(t, "FAKE_RESTART_DELAY=5")
		_, old, _ := h.ask(t)
		require.NoError(t, syscall.Kill(old, syscall.SIGKILL))
		_, master, _ := h.ask(t)
		require.Equal(t, old, master, "the dead master's workers serve on")
		// The new master runs, its signal handlers set (its env file).
		require.Eventually(t, func() bool {
			envs, _ := filepath.Glob(filepath.Join(h.dir, "env.*"))
			return len(envs) == 2 && strings.Contains(h.stderr.String(), "was killed")
		}, 5*time.Second, 10*time.Millisecond, "a new master; stderr:\n%s", h.stderr)
		require.NoError(t, h.cmd.Process.Signal(syscall.SIGQUIT))
		assert.Equal(t, 0, h.exited(t, 5*time.Second), "stderr:\n%s", h.stderr)
		assert.Empty(t, groupRunning(t, old), "the dead master's workers stopped")
	})

	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT} {
		t.Run("a stop signal ("+sig.String()+") goes to php-fpm, whose exit code is the holder's", func(t *testing.T) {
			h := startHolder(t)
			_, master, _ := h.ask(t)
			require.NoError(t, h.cmd.Process.Signal(sig))
			assert.Equal(t, 0, h.exited(t, 5*time.Second), "php-fpm's clean exit; stderr:\n%s", h.stderr)
			assert.Empty(t, groupRunning(t, master), "php-fpm and its workers stopped")
			assert.NotContains(t, h.stderr.String(), "was killed", "a stop is no crash")
		})
	}

	t.Run("a php-fpm that cannot start: it gives up, exit 1", func(t *testing.T) {
		h := startHolder(t, "FAKE_FAIL=78")
		assert.Equal(t, 1, h.exited(t, 10*time.Second))
		assert.Contains(t, h.stderr.String(), "exited with code 78, its 5th exit within 10 s: giving up")
		assert.Equal(t, 4, strings.Count(h.stderr.String(), "a new one takes the socket over"), "four restarts:\n%s", h.stderr)
	})

	t.Run("without a socket: a crashed command starts again at once, HUP reaches it, TERM stops it", func(t *testing.T) {
		dir := t.TempDir()
		errPath := filepath.Join(dir, "stderr")
		stderr, err := os.Create(errPath)
		require.NoError(t, err)
		defer stderr.Close()
		// A service that records each start, once it is ready for a HUP,
		// and each HUP it gets.
		script := `trap 'echo $$ >>"$D/hups"' HUP; echo $$ >>"$D/starts"; while :; do sleep 0.05; done`
		cmd := exec.Command("perl", "files/holder/holder", "sh", "-c", script)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "D=" + dir}
		cmd.Stderr = stderr
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		starts := func() []string {
			data, _ := os.ReadFile(filepath.Join(dir, "starts"))
			return strings.Fields(string(data))
		}
		require.Eventually(t, func() bool { return len(starts()) == 1 }, 5*time.Second, 10*time.Millisecond)
		first, err := strconv.Atoi(starts()[0])
		require.NoError(t, err)
		require.NoError(t, syscall.Kill(first, syscall.SIGKILL))
		require.Eventually(t, func() bool { return len(starts()) == 2 }, 5*time.Second, 10*time.Millisecond, "started again")
		logged, err := os.ReadFile(errPath)
		require.NoError(t, err)
		assert.Contains(t, string(logged), "holder: running sh; it starts again at once after a crash")
		assert.Contains(t, string(logged), fmt.Sprintf("holder: sh (pid %d) was killed by signal 9 after ", first))
		assert.Contains(t, string(logged), ": started again")

		require.NoError(t, cmd.Process.Signal(syscall.SIGHUP))
		assert.Eventually(t, func() bool {
			data, _ := os.ReadFile(filepath.Join(dir, "hups"))
			return strings.TrimSpace(string(data)) == starts()[1]
		}, 5*time.Second, 10*time.Millisecond, "HUP went to the running command")

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("holder still runs 5 s after SIGTERM")
		}
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%v", err)
		assert.Equal(t, 128+int(syscall.SIGTERM), ee.ExitCode(), "the command's end by SIGTERM, as the holder's exit code")
		assert.Len(t, starts(), 2, "a stop is no crash: not started again")
	})

	t.Run("bad arguments: usage, exit 2", func(t *testing.T) {
		for _, args := range [][]string{{}, {"--fpm-port"}, {"--fpm-port", "9000"}, {"--fpm-port", "x", "php-fpm"}, {"--fpm-port", "70000", "php-fpm"}, {"--other", "php-fpm"}} {
			cmd := exec.Command("perl", append([]string{"files/holder/holder"}, args...)...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "%v: %v", args, err)
			assert.Equal(t, 2, ee.ExitCode(), "%v", args)
			assert.True(t, slices.ContainsFunc(strings.Split(string(out), "\n"), func(l string) bool { return strings.HasPrefix(l, "usage: holder [--fpm-port PORT] COMMAND") }), "%v: %s", args, out)
		}
	})
}
