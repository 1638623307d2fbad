package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/runtime/v2/logging"
)

// Container logs are written by a logging binary that containerd's shim
// starts for each task (cio.BinaryIO): inceptionctl's hidden `logger PATH`
// command. The shim hands it the container's stdout and stderr on fds 3 and
// 4 and waits for a byte, or EOF, on fd 5 before it starts the container
// (runtime/v2/logging in containerd 1.6 and 2.x). The logger writes JSON
// lines to PATH and rotates it, so a chatty service cannot fill the disk.
const (
	logMaxSize  = 10 << 20 // bytes per file
	logMaxFiles = 3        // container.log, .1, .2
	// maxLogLine splits longer lines: a line without a newline must not
	// grow the logger's memory without bound.
	maxLogLine = 16 << 10
)

// LogEntry is one line of a container's log file.
type LogEntry struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"` // stdout or stderr
	Log    string    `json:"log"`    // the line, with its newline when it had one
}

// Logger returns the logging function the log shipper runs under
// containerd's logging.Run (see HelperMain).
//
// A line the logger cannot write (a full disk, a failing file) is dropped
// and counted, and the logger keeps reading: a service must never block on
// its stdout because its log cannot grow. The count is kept in a small file
// next to the log (see dropCounter), which `logs` reports.
//
//	logging.Run(runtime.Logger(path))
func Logger(logPath string) logging.LoggerFunc {
	return func(ctx context.Context, cfg *logging.Config, ready func() error) error {
		drops := openDropCounter(dropsPath(logPath))
		defer drops.close()
		w, err := newRotatingWriter(logPath, logMaxSize, logMaxFiles)
		if err != nil {
			// The task still starts and its output is still read, so it
			// never blocks: lines are dropped until the log can be opened
			// (each write tries again).
			fmt.Fprintf(os.Stderr, "logger: %v: dropping the task's output until the log can be opened\n", err)
			w = &rotatingWriter{path: logPath, maxSize: logMaxSize, maxFiles: logMaxFiles}
		}
		defer w.Close()
		if err := ready(); err != nil {
			return fmt.Errorf("signal ready: %w", err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []struct {
			name string
			r    io.Reader
		}{{"stdout", cfg.Stdout}, {"stderr", cfg.Stderr}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = copyLines(s.r, s.name, w, drops)
			}()
		}
		// SIGTERM (ctx) comes when the shim closes the task's IO: the pipes
		// are at EOF by then or soon after, so keep draining them.
		wg.Wait()
		return errors.Join(errs...)
	}
}

// entryWriter is where copyLines puts the lines: the rotating log file.
type entryWriter interface {
	writeEntry(LogEntry) error
}

var _ entryWriter = (*rotatingWriter)(nil)

// copyLines turns r into JSON log lines on w until EOF. A line w cannot
// take is counted in drops, and reading goes on: only a read error ends it.
func copyLines(r io.Reader, stream string, w entryWriter, drops *dropCounter) error {
	br := bufio.NewReaderSize(r, maxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if werr := w.writeEntry(LogEntry{Time: time.Now().UTC(), Stream: stream, Log: string(line)}); werr != nil {
				drops.add(werr)
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrClosed):
			return nil
		default:
			return fmt.Errorf("read %s: %w", stream, err)
		}
	}
}

// rotatingWriter appends JSON lines to path and, when the next line would
// make it bigger than maxSize, shifts path to path.1, path.1 to path.2, ...
// keeping maxFiles files in all.
type rotatingWriter struct {
	mu       sync.Mutex
	path     string
	maxSize  int64
	maxFiles int
	f        *os.File
	size     int64
}

func newRotatingWriter(path string, maxSize int64, maxFiles int) (*rotatingWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	w := &rotatingWriter{path: path, maxSize: maxSize, maxFiles: maxFiles}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *rotatingWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, fi.Size()
	return nil
}

func (w *rotatingWriter) writeEntry(e LogEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	data = append(data, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		// A rotation or a reopen failed (the disk was full): try again,
		// so logging resumes when there is room.
		if err := w.open(); err != nil {
			return err
		}
	}
	if w.size > 0 && w.size+int64(len(data)) > w.maxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.Write(data)
	if err != nil && n > 0 {
		// A part of a line (the disk filled up in the middle of it) would
		// glue itself to the next line: cut it off.
		if terr := w.f.Truncate(w.size); terr != nil {
			w.size += int64(n)
			return errors.Join(err, terr)
		}
		return err
	}
	w.size += int64(n)
	return err
}

// rotate shifts the files and opens a new one; when it fails, w has no
// file and the next write tries to open one.
func (w *rotatingWriter) rotate() error {
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return err
	}
	for i := w.maxFiles - 1; i >= 1; i-- {
		src := w.path
		if i > 1 {
			src = w.path + "." + strconv.Itoa(i-1)
		}
		if err := os.Rename(src, w.path+"."+strconv.Itoa(i)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if w.maxFiles == 1 {
		if err := os.Truncate(w.path, 0); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return w.open()
}

func (w *rotatingWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// logFiles lists a log's files oldest first: path.N ... path.1, path.
func logFiles(path string) []string {
	var out []string
	for i := logMaxFiles - 1; i >= 1; i-- {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return append(out, path)
}
