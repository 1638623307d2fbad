package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
)

// LogDrops counts the lines of a service's output its log lost: lines the
// logger could not write (a full disk, a failing file) and dropped so that
// the service never blocks on its stdout. The count covers the log's life:
// it survives restarts and recreates, and goes with the log at down.
type LogDrops struct {
	Lines     int64     `json:"lines"`
	LastError string    `json:"lastError,omitempty"`
	At        time.Time `json:"at,omitzero"` // when the last line was dropped
}

// The counter file is one fixed-size record, written in place (WriteAt 0):
// made when the logger starts, while there is room, it can then be updated
// on a full disk, since overwriting allocated blocks needs no new ones (on
// ext4, xfs and tmpfs; a copy-on-write filesystem may still refuse).
const (
	dropsRecordSize = 512
	dropsFlushEvery = 500 * time.Millisecond
	dropsErrorMax   = 300
)

// dropsPath is the counter file of the log at logPath.
func dropsPath(logPath string) string { return logPath + ".dropped" }

// readDrops reads a counter file; no file means nothing was dropped.
func readDrops(path string) (LogDrops, error) {
	var d LogDrops
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return d, nil
	}
	if err != nil {
		return d, err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return d, nil // made, never written (the disk filled at once)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("read %s: %w", path, err)
	}
	return d, nil
}

// dropCounter is the logger's count of dropped lines, shared by its
// stdout and stderr readers and kept in the counter file.
type dropCounter struct {
	mu      sync.Mutex
	path    string
	f       *os.File // nil while the file cannot be opened
	d       LogDrops
	dirty   bool
	flushed time.Time
	warned  bool // the file could not be written: said once on stderr
	stop    chan struct{}
	done    chan struct{}
}

// openDropCounter continues the count of path, makes its record while
// there is room, and flushes new drops every dropsFlushEvery until close.
func openDropCounter(path string) *dropCounter {
	c := &dropCounter{path: path, stop: make(chan struct{}), done: make(chan struct{})}
	if d, err := readDrops(path); err == nil {
		c.d = d
	} else {
		c.warn(err)
	}
	c.mu.Lock()
	c.flushLocked(true)
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		tick := time.NewTicker(dropsFlushEvery)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
				c.mu.Lock()
				c.flushLocked(false)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// add counts one dropped line.
func (c *dropCounter) add(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d.Lines++
	c.d.At = time.Now().UTC()
	msg := err.Error()
	if len(msg) > dropsErrorMax {
		msg = msg[:dropsErrorMax]
	}
	c.d.LastError = msg
	c.dirty = true
	if time.Since(c.flushed) >= dropsFlushEvery {
		c.flushLocked(false)
	}
}

// count is the lines dropped so far.
func (c *dropCounter) count() LogDrops {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.d
}

func (c *dropCounter) close() {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	c.flushLocked(false)
	if c.f != nil {
		c.f.Close()
		c.f = nil
	}
}

// flushLocked writes the record when it changed (always with force).
func (c *dropCounter) flushLocked(force bool) {
	if !c.dirty && !force {
		return
	}
	c.flushed = time.Now()
	if c.f == nil {
		f, err := os.OpenFile(c.path, os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			c.warn(err)
			return
		}
		c.f = f
	}
	data, err := json.Marshal(c.d)
	if err != nil {
		c.warn(err)
		return
	}
	rec := []byte(strings.Repeat(" ", dropsRecordSize))
	rec[len(rec)-1] = '\n'
	copy(rec, data)
	if _, err := c.f.WriteAt(rec, 0); err != nil {
		c.warn(fmt.Errorf("write %s: %w", c.path, err))
		return
	}
	c.dirty = false
}

// warn says on the logger's stderr (the shim's log) that the count could
// not be kept, once: the next writes would only repeat it.
func (c *dropCounter) warn(err error) {
	if c.warned {
		return
	}
	c.warned = true
	fmt.Fprintf(os.Stderr, "logger: count of dropped lines: %v\n", err)
}

// LogDrops returns, per service of the stack with a log, the lines its log
// lost (see LogDrops); services that lost none are left out.
func (r *Runtime) LogDrops(stackName string, services []string) (map[string]LogDrops, error) {
	pth := r.paths(stackName)
	out := map[string]LogDrops{}
	var errs []error
	for _, n := range services {
		d, err := readDrops(dropsPath(pth.logPath(n)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
			continue
		}
		if d.Lines > 0 {
			out[n] = d
		}
	}
	return out, errors.Join(errs...)
}

// dropsNotice is what logs prints about a service's dropped lines.
func dropsNotice(service, logPath string, d LogDrops) string {
	return fmt.Sprintf("%s: %d lines of its output were dropped, its log could not be written (last at %s: %s): free space on the filesystem of %s\n",
		service, d.Lines, d.At.Format(time.RFC3339), d.LastError, logPath)
}
