package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
