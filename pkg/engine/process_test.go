package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/worker/label"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain doubles as a fake daemon: with INCEPTION_FAKE_DAEMON set, the test
// binary is a process whose command line carries --config like a real
// daemon's, for the liveness and stop tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("INCEPTION_FAKE_DAEMON"); mode != "" {
		if mode == "ignore-term" {
			signal.Ignore(syscall.SIGTERM)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startFake starts a fake daemon with configPath and waits until it has set
// up its signal handling. The cleanup kills and reaps it.
func startFake(t *testing.T, mode, configPath string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "--config", configPath)
	cmd.Env = append(os.Environ(), "INCEPTION_FAKE_DAEMON="+mode)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return cmd
}

// waitZombie waits until pid has exited but is not reaped yet.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s, err := processState(procDir, pid)
		return err == nil && s == "Z"
	}, 5*time.Second, 10*time.Millisecond)
}

func TestMatchArgs(t *testing.T) {
	const cfg = "/var/lib/inception/engine/buildkitd.toml"
	tests := []struct {
		name string
		argv []string
		want bool
	}{
		{"daemon", []string{"/usr/bin/buildkitd", "--config", cfg}, true},
		{"short flag", []string{"containerd", "-c", cfg}, true},
		{"equals form", []string{"buildkitd", "--config=" + cfg}, true},
		{"flag among others", []string{"buildkitd", "--debug", "--config", cfg, "--root", "/x"}, true},
		{"other config", []string{"buildkitd", "--config", "/etc/buildkit/buildkitd.toml"}, false},
		{"config path as argv0 only", []string{cfg}, false},
		{"path without flag", []string{"vi", cfg}, false},
		{"flag at the end", []string{"buildkitd", "--config"}, false},
		{"empty (zombie)", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, matchArgs(tc.argv, cfg))
		})
	}
}

func TestReadPIDFile(t *testing.T) {
	dir := t.TempDir()
	_, err := readPIDFile(filepath.Join(dir, "missing.pid"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	for content, want := range map[string]int{"123\n": 123, " 42 ": 42} {
		p := filepath.Join(dir, "ok.pid")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		pid, err := readPIDFile(p)
		require.NoError(t, err)
		assert.Equal(t, want, pid)
	}
	for _, content := range []string{"", "abc", "-1", "0"} {
		p := filepath.Join(dir, "bad.pid")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		_, err := readPIDFile(p)
		assert.Error(t, err, "%q", content)
		assert.NotErrorIs(t, err, fs.ErrNotExist)
	}
}

func TestIsDaemonProcess(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "fake.toml")
	cmd := startFake(t, "plain", cfg)
	pid := cmd.Process.Pid

	assert.True(t, isDaemonProcess(procDir, pid, cfg), "the fake daemon")
	assert.False(t, isDaemonProcess(procDir, pid, cfg+".other"), "a daemon of another config")
	assert.False(t, isDaemonProcess(procDir, os.Getpid(), cfg), "a live process that is another program")
	assert.False(t, isDaemonProcess(procDir, 0, cfg))
	assert.Equal(t, pid, findDaemonProcess(procDir, cfg), "found without a pid file")
	assert.Zero(t, findDaemonProcess(procDir, cfg+".other"))

	assert.False(t, processExited(procDir, pid))

	require.NoError(t, cmd.Process.Kill())
	waitZombie(t, pid)
	assert.False(t, isDaemonProcess(procDir, pid, cfg), "a zombie is dead")
	// The main thread turns zombie before the other threads are done.
	assert.Eventually(t, func() bool { return processExited(procDir, pid) }, 5*time.Second, 10*time.Millisecond, "a zombie has exited")
	_ = cmd.Wait()
	assert.False(t, isDaemonProcess(procDir, pid, cfg), "a reaped process is gone")
	assert.True(t, processExited(procDir, pid))
}

func TestSocketStateOf(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, socketMissing, socketStateOf(filepath.Join(dir, "none.sock")))

	live := filepath.Join(dir, "live.sock")
	l, err := net.Listen("unix", live)
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, socketListening, socketStateOf(live))

	// What a SIGKILLed daemon leaves: the socket file, no listener.
	stale := filepath.Join(dir, "stale.sock")
	sl, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	require.NoError(t, err)
	sl.SetUnlinkOnClose(false)
	require.NoError(t, sl.Close())
	require.FileExists(t, stale)
	assert.Equal(t, socketStale, socketStateOf(stale))

	plain := filepath.Join(dir, "plain.sock")
	require.NoError(t, os.WriteFile(plain, nil, 0o644))
	assert.Equal(t, socketStale, socketStateOf(plain), "a regular file where the socket should be")
}

// testDaemon is a daemon whose files live in dir; nothing can start it.
func testDaemon(dir string) *daemon {
	sock := filepath.Join(dir, "d.sock")
	return &daemon{
		name:       "testd",
		configPath: filepath.Join(dir, "testd.toml"),
		pidFile:    filepath.Join(dir, "testd.pid"),
		socket:     sock,
		sockets:    []string{sock, sock + ".ttrpc"},
		logPath:    filepath.Join(dir, "testd.log"),
		ready: func(context.Context) (string, error) {
			return "", errors.New("not ready")
		},
	}
}

func staleSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	l.SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := startFake(t, "plain", "/nonexistent")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	return cmd.Process.Pid
}

func TestInspect(t *testing.T) {
	t.Run("nothing", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		assert.Equal(t, daemonState{pidFile: pidFileMissing, socket: socketMissing}, d.inspect(procDir))
	})
	t.Run("killed daemon: dead pid and stale sockets are removed", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		require.NoError(t, writePIDFile(d.pidFile, deadPID(t)))
		staleSocket(t, d.sockets[0])
		staleSocket(t, d.sockets[1])

		st := d.inspect(procDir)
		assert.Equal(t, daemonState{pidFile: pidFileStale, socket: socketStale}, st)
		require.NoError(t, d.removeStale(st))
		assert.NoFileExists(t, d.pidFile)
		assert.NoFileExists(t, d.sockets[0])
		assert.NoFileExists(t, d.sockets[1])
		assert.NoError(t, d.removeStale(st), "removing twice is fine")
	})
	t.Run("pid reused by another program", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		require.NoError(t, writePIDFile(d.pidFile, os.Getpid()))
		st := d.inspect(procDir)
		assert.Equal(t, pidFileStale, st.pidFile)
		assert.Zero(t, st.pid)
	})
	t.Run("garbage pid file", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		require.NoError(t, os.WriteFile(d.pidFile, []byte("nope"), 0o644))
		assert.Equal(t, pidFileStale, d.inspect(procDir).pidFile)
	})
	t.Run("running daemon", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		cmd := startFake(t, "plain", d.configPath)
		require.NoError(t, writePIDFile(d.pidFile, cmd.Process.Pid))
		l, err := net.Listen("unix", d.socket)
		require.NoError(t, err)
		defer l.Close()

		st := d.inspect(procDir)
		assert.Equal(t, daemonState{pid: cmd.Process.Pid, pidFile: pidFileCurrent, socket: socketListening}, st)
		require.NoError(t, d.removeStale(st))
		assert.FileExists(t, d.pidFile)
		assert.FileExists(t, d.socket, "a listening socket is never removed")
	})
	t.Run("running daemon without pid file", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		cmd := startFake(t, "plain", d.configPath)
		st := d.inspect(procDir)
		assert.Equal(t, daemonState{pid: cmd.Process.Pid, pidFile: pidFileMissing, socket: socketMissing}, st)
	})
}

func TestTerminate(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		wantSignal syscall.Signal
	}{
		{"stops on SIGTERM", "plain", syscall.SIGTERM},
		{"SIGKILL after the grace period", "ignore-term", syscall.SIGKILL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "fake.toml")
			cmd := startFake(t, tc.mode, cfg)
			// Nobody reaps the fake while terminate runs: it must take a
			// zombie for dead, as it must when init does not reap.
			require.NoError(t, terminate(t.Context(), procDir, cmd.Process.Pid, 300*time.Millisecond))
			err := cmd.Wait()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr)
			ws := exitErr.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled())
			assert.Equal(t, tc.wantSignal, ws.Signal())
		})
	}
	t.Run("gone already", func(t *testing.T) {
		assert.NoError(t, terminate(t.Context(), procDir, deadPID(t), time.Second))
	})
}

func TestDaemonStop(t *testing.T) {
	d := testDaemon(t.TempDir())
	cmd := startFake(t, "plain", d.configPath)
	require.NoError(t, writePIDFile(d.pidFile, cmd.Process.Pid))
	staleSocket(t, d.socket)

	require.NoError(t, d.stop(t.Context(), procDir, time.Second))
	assert.False(t, isDaemonProcess(procDir, cmd.Process.Pid, d.configPath))
	assert.NoFileExists(t, d.pidFile)
	assert.NoFileExists(t, d.socket)
	assert.NoError(t, d.stop(t.Context(), procDir, time.Second), "stopping a stopped daemon")
}

func TestWaitReady(t *testing.T) {
	t.Run("exits while starting", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		old := "an earlier run\n"
		require.NoError(t, os.WriteFile(d.logPath, []byte(old), 0o644))
		var lines []string
		for i := range 30 {
			lines = append(lines, "line "+strconv.Itoa(i))
		}
		f, err := os.OpenFile(d.logPath, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		require.NoError(t, writePIDFile(d.pidFile, 1234))

		exited := make(chan error, 1)
		exited <- errors.New("exit status 1")
		err = d.waitReady(t.Context(), exited, int64(len(old)), 10*time.Second)
		require.ErrorIs(t, err, ErrStartFailed)
		msg := err.Error()
		assert.Contains(t, msg, "exited while starting (exit status 1)")
		assert.Contains(t, msg, d.logPath)
		assert.Contains(t, msg, "line 29")
		assert.Contains(t, msg, "line 10")
		assert.NotContains(t, msg, "line 9\n", "only the last 20 lines")
		assert.NotContains(t, msg, "an earlier run")
		assert.NoFileExists(t, d.pidFile, "a dead daemon's pid file goes")
	})
	t.Run("does not answer in time", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		start := time.Now()
		err := d.waitReady(t.Context(), nil, 0, 300*time.Millisecond)
		require.ErrorIs(t, err, ErrStartFailed)
		assert.Contains(t, err.Error(), "did not answer within 300ms (last answer: not ready)")
		assert.Contains(t, err.Error(), "no log")
		assert.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("answers after a while", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		n := 0
		d.ready = func(context.Context) (string, error) {
			if n++; n < 3 {
				return "", errors.New("not yet")
			}
			return "v1", nil
		}
		assert.NoError(t, d.waitReady(t.Context(), nil, 0, 10*time.Second))
	})
	t.Run("cancelled", func(t *testing.T) {
		d := testDaemon(t.TempDir())
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := d.waitReady(ctx, nil, 0, 10*time.Second)
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrStartFailed)
	})
}

func TestEnsureMissingBinary(t *testing.T) {
	dir := t.TempDir()
	e, err := New(WithRoot(dir), WithRunDir(filepath.Join(dir, "run")), WithBuildkitdPath(filepath.Join(dir, "no-buildkitd")))
	require.NoError(t, err)
	err = e.buildkitdDaemon().ensure(t.Context(), procDir, time.Second)
	require.ErrorIs(t, err, ErrBinaryNotFound)
	assert.Contains(t, err.Error(), "run `make deps` or pass --buildkitd")
}

func TestFindBinary(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "fakebin")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	notExe := filepath.Join(dir, "notexe")
	require.NoError(t, os.WriteFile(notExe, nil, 0o644))

	got, err := findBinary("fakebin", exe)
	require.NoError(t, err)
	assert.Equal(t, exe, got)

	_, err = findBinary("fakebin", notExe)
	assert.ErrorIs(t, err, ErrBinaryNotFound)

	t.Setenv("PATH", dir)
	got, err = findBinary("fakebin", "")
	require.NoError(t, err)
	assert.Equal(t, exe, got)

	_, err = findBinary("no-such-daemon", "")
	require.ErrorIs(t, err, ErrBinaryNotFound)
	assert.Contains(t, err.Error(), "$PATH")
}

func TestTailFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	assert.Contains(t, tailFile(p, 0, 3), "no log")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	assert.Equal(t, "    (log is empty)", tailFile(p, 0, 3))
	require.NoError(t, os.WriteFile(p, []byte("a\nb\nc\nd\n"), 0o644))
	assert.Equal(t, "    b\n    c\n    d", tailFile(p, 0, 3))
	assert.Equal(t, "    c\n    d", tailFile(p, 4, 3), "from the offset of this start on")
	assert.Equal(t, "    b\n    c\n    d", tailFile(p, -1, 3))
}

func TestDaemonEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{
			name: "systemd hand-over dropped, sbin added",
			env:  []string{"HOME=/root", "NOTIFY_SOCKET=/run/systemd/notify", "LISTEN_FDS=3", "PATH=/opt/bin:/usr/bin"},
			want: []string{"HOME=/root", "PATH=/opt/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin"},
		},
		{
			name: "no PATH",
			env:  []string{"HOME=/root"},
			want: []string{"HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, daemonEnv(tc.env))
		})
	}
}

func TestCheckWorkers(t *testing.T) {
	worker := func(id, exe, ns string) *bkclient.WorkerInfo {
		return &bkclient.WorkerInfo{ID: id, Labels: map[string]string{label.Executor: exe, label.ContainerdNamespace: ns}}
	}
	assert.NoError(t, checkWorkers([]*bkclient.WorkerInfo{worker("a", "oci", ""), worker("b", "containerd", "inception")}, "inception"))
	err := checkWorkers([]*bkclient.WorkerInfo{worker("a", "oci", ""), worker("b", "containerd", "other")}, "inception")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `b (executor "containerd", namespace "other")`)
	assert.Error(t, checkWorkers(nil, "inception"))
}

func TestLockRunDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	unlock, err := lockRunDir(t.Context(), dir)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err = lockRunDir(ctx, dir)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second holder waits")
	assert.Contains(t, err.Error(), "another inceptionctl")

	unlock()
	unlock2, err := lockRunDir(t.Context(), dir)
	require.NoError(t, err)
	unlock2()
}

func TestEnsureRunning(t *testing.T) {
	tests := []struct {
		name    string
		onDisk  string
		wantErr error
	}{
		{"same config: left alone", "a = 1\n", nil},
		{"other config: not restarted behind our back", "a = 2\n", ErrConfigChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := testDaemon(t.TempDir())
			d.config = func() ([]byte, error) { return []byte("a = 1\n"), nil }
			d.ready = func(context.Context) (string, error) { return "v1", nil }
			require.NoError(t, os.WriteFile(d.configPath, []byte(tc.onDisk), 0o644))
			cmd := startFake(t, "plain", d.configPath)

			err := d.ensure(t.Context(), procDir, 5*time.Second)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Contains(t, err.Error(), "inceptionctl engine stop")
				return
			}
			require.NoError(t, err)
			pid, err := readPIDFile(d.pidFile)
			require.NoError(t, err, "a lost pid file is written again")
			assert.Equal(t, cmd.Process.Pid, pid)
		})
	}
}
