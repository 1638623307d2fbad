package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/runtime/v2/logging"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoggerWritesJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc", "container.log")
	ready := false
	cfg := &logging.Config{
		Stdout: strings.NewReader("hello\nno newline at the end"),
		Stderr: strings.NewReader("oops\n"),
	}
	require.NoError(t, Logger(path)(context.Background(), cfg, func() error { ready = true; return nil }))
	assert.True(t, ready, "the shim waits for ready before starting the task")
	lines, f, err := readLog(path, -1)
	require.NoError(t, err)
	f.Close()
	byStream := map[string][]string{}
	for _, l := range lines {
		byStream[l.Stream] = append(byStream[l.Stream], l.Log)
		assert.WithinDuration(t, time.Now(), l.Time, time.Minute)
	}
	assert.Equal(t, []string{"hello\n", "no newline at the end"}, byStream["stdout"])
	assert.Equal(t, []string{"oops\n"}, byStream["stderr"])
}

func TestRotatingWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, err := newRotatingWriter(path, 200, 3)
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, w.writeEntry(LogEntry{Stream: "stdout", Log: fmt.Sprintf("line %02d\n", i)}))
	}
	require.NoError(t, w.Close())
	files := logFiles(path)
	assert.Equal(t, []string{path + ".2", path + ".1", path}, files, "three files at most, oldest first")
	for _, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), int64(200))
	}
	lines, f, err := readLog(path, 3)
	require.NoError(t, err)
	f.Close()
	require.Len(t, lines, 3)
	assert.Equal(t, "line 19\n", lines[2].Log, "the newest line is last")
	all, f, err := readLog(path, -1)
	require.NoError(t, err)
	f.Close()
	assert.Less(t, len(all), 20, "the oldest lines were rotated away")
	for i := 1; i < len(all); i++ {
		assert.Less(t, all[i-1].Log, all[i].Log, "in order across files")
	}
}

func TestTailLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	assert.Contains(t, tailLog(path, 5), "no output")
	w, err := newRotatingWriter(path, 1<<20, 3)
	require.NoError(t, err)
	for _, l := range []string{"a\n", "b\n", "c\n"} {
		require.NoError(t, w.writeEntry(LogEntry{Stream: "stderr", Log: l}))
	}
	require.NoError(t, w.Close())
	assert.Equal(t, "    b\n    c", tailLog(path, 2))
}

// TestFollowLogAcrossRotation: a follower sees every line, also those
// written just before and after the logger rotates the file.
func TestFollowLogAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, err := newRotatingWriter(path, 300, 3)
	require.NoError(t, err)
	defer w.Close()
	_, f, err := readLog(path, -1)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 100)
	done := make(chan struct{})
	go func() {
		followLog(ctx, path, f, func(e LogEntry) { got <- e.Log })
		close(done)
	}()
	var want []string
	for i := range 12 { // several rotations at ~70 bytes a line
		line := fmt.Sprintf("line %02d\n", i)
		want = append(want, line)
		require.NoError(t, w.writeEntry(LogEntry{Stream: "stdout", Log: line}))
		time.Sleep(60 * time.Millisecond)
	}
	var seen []string
	deadline := time.After(5 * time.Second)
	for len(seen) < len(want) {
		select {
		case l := <-got:
			seen = append(seen, l)
		case <-deadline:
			t.Fatalf("followed %d of %d lines: %q", len(seen), len(want), seen)
		}
	}
	cancel()
	<-done
	assert.Equal(t, want, seen)
}

// errWriter fails every write after the first ok ones.
type errWriter struct {
	mu      sync.Mutex
	ok      int
	written int
}

func (w *errWriter) writeEntry(LogEntry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written < w.ok {
		w.written++
		return nil
	}
	return syscall.ENOSPC
}

// TestCopyLinesDrainsPastAFailingWriter: when the log cannot be written,
// the pipe is still read to its end (the service never blocks on its
// stdout) and every line that could not be written is counted.
func TestCopyLinesDrainsPastAFailingWriter(t *testing.T) {
	const lines, ok = 5000, 7
	pr, pw := io.Pipe()
	go func() {
		for i := range lines {
			fmt.Fprintf(pw, "line %d\n", i)
		}
		pw.Close()
	}()
	drops := openDropCounter(filepath.Join(t.TempDir(), "container.log.dropped"))
	w := &errWriter{ok: ok}
	done := make(chan error, 1)
	go func() { done <- copyLines(pr, "stdout", w, drops) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("copyLines stopped reading: the writer of the pipe blocks")
	}
	assert.Equal(t, ok, w.written)
	got := drops.count()
	assert.Equal(t, int64(lines-ok), got.Lines)
	assert.Contains(t, got.LastError, "no space left on device")
	drops.close()
	onDisk, err := readDrops(drops.path)
	require.NoError(t, err)
	assert.Equal(t, got.Lines, onDisk.Lines, "the count is in the file at close")
}

// TestLoggerOnAFullDisk: the logger's file is /dev/full (every write is
// ENOSPC): the task's output is read to its end and counted, and a second
// logger of the same log (a restart) goes on counting.
func TestLoggerOnAFullDisk(t *testing.T) {
	w, err := newRotatingWriter("/dev/full", logMaxSize, 1)
	if err != nil {
		t.Skipf("no /dev/full to write to: %v", err)
	}
	defer w.Close()
	require.ErrorIs(t, w.writeEntry(LogEntry{Stream: "stdout", Log: "x\n"}), syscall.ENOSPC)

	path := filepath.Join(t.TempDir(), "container.log.dropped")
	for run, want := range []int64{3, 6} {
		drops := openDropCounter(path)
		require.NoError(t, copyLines(strings.NewReader("a\nb\nno newline"), "stdout", w, drops))
		drops.close()
		d, err := readDrops(path)
		require.NoError(t, err)
		assert.Equal(t, want, d.Lines, "run %d", run)
	}
}

// TestLoggerWithoutItsLog: a log that cannot be opened (here a directory
// is in its place) still lets the task start (ready is signalled), its
// output is drained and counted, and logging resumes once the log can be
// opened.
func TestLoggerWithoutItsLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	require.NoError(t, os.Mkdir(path, 0o755))
	ready := false
	pr, pw := io.Pipe()
	cfg := &logging.Config{Stdout: pr, Stderr: strings.NewReader("c\n")}
	done := make(chan error, 1)
	go func() {
		done <- Logger(path)(context.Background(), cfg, func() error { ready = true; return nil })
	}()
	_, err := io.WriteString(pw, "a\nb\n")
	require.NoError(t, err, "the output is read")
	require.Eventually(t, func() bool {
		d, err := readDrops(dropsPath(path))
		return err == nil && d.Lines == 3
	}, 5*time.Second, 10*time.Millisecond, "three lines counted as dropped")

	require.NoError(t, os.Remove(path)) // room again
	_, err = io.WriteString(pw, "back\n")
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	require.NoError(t, <-done)
	assert.True(t, ready)
	lines, f, err := readLog(path, -1)
	require.NoError(t, err)
	f.Close()
	require.Len(t, lines, 1)
	assert.Equal(t, "back\n", lines[0].Log)
	d, err := readDrops(dropsPath(path))
	require.NoError(t, err)
	assert.Equal(t, int64(3), d.Lines)
}

// TestRotatingWriterResumes: a write after a failed rotation (no file open)
// opens the log again, so logging resumes when there is room.
func TestRotatingWriterResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "container.log")
	w, err := newRotatingWriter(path, 1<<20, 3)
	require.NoError(t, err)
	require.NoError(t, w.f.Close())
	w.f = nil // as a failed rotate leaves it
	require.NoError(t, w.writeEntry(LogEntry{Stream: "stdout", Log: "back\n"}))
	require.NoError(t, w.Close())
	lines, f, err := readLog(path, -1)
	require.NoError(t, err)
	f.Close()
	require.Len(t, lines, 1)
	assert.Equal(t, "back\n", lines[0].Log)
}

// TestLogDrops: the runtime reads back how many lines a service's log dropped, and says so.
func TestLogDrops(t *testing.T) {
	r := &Runtime{cfg: config{root: t.TempDir(), runDir: t.TempDir()}}
	pth := r.paths("s")
	require.NoError(t, os.MkdirAll(pth.serviceDir("web"), 0o755))
	drops := openDropCounter(dropsPath(pth.logPath("web")))
	for range 42 {
		drops.add(syscall.ENOSPC)
	}
	drops.close()
	got, err := r.LogDrops("s", []string{"web", "db"})
	require.NoError(t, err)
	require.Contains(t, got, "web")
	assert.NotContains(t, got, "db")
	assert.Equal(t, int64(42), got["web"].Lines)
	notice := dropsNotice("web", pth.logPath("web"), got["web"])
	assert.Contains(t, notice, "42 lines")
	assert.Contains(t, notice, "no space left on device")
}
