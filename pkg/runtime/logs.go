package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LogsOptions says which logs Logs prints and how.
type LogsOptions struct {
	Services   []string // empty: every service with a container
	Follow     bool     // keep printing new lines until ctx ends
	Tail       int      // lines per service from the end; < 0 means all
	Timestamps bool
	Color      bool // color the service prefixes (for a terminal)
	// Notices receives what Logs says about the logs themselves: how many
	// lines a service's log dropped (see LogDrops). Nil: the log output.
	Notices io.Writer
}

// logLine is a log entry of a service.
type logLine struct {
	service string
	LogEntry
}

var prefixColors = []string{"36", "33", "32", "35", "34", "31", "96", "93", "92", "95"}

// Logs prints the services' logs, each line prefixed with "service | ".
// The stored lines are merged in time order; with Follow, new lines are
// printed as they come, rotation included. A service whose log dropped
// lines (its disk was full) gets a notice saying how many, after the
// stored lines and, with Follow, whenever the count grows.
func (r *Runtime) Logs(ctx context.Context, stackName string, o LogsOptions, w io.Writer) error {
	names := o.Services
	cs, err := r.listContainers(ctx, stackName)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		type idx struct {
			name string
			i    int
		}
		var all []idx
		for n, c := range cs {
			all = append(all, idx{n, c.info.index})
		}
		sort.Slice(all, func(a, b int) bool { return all[a].i < all[b].i })
		for _, x := range all {
			names = append(names, x.name)
		}
	}
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	pth := r.paths(stackName)
	prefix := map[string]string{}
	for i, n := range names {
		p := fmt.Sprintf("%-*s | ", width, n)
		if o.Color {
			p = "\x1b[" + prefixColors[i%len(prefixColors)] + "m" + p + "\x1b[0m"
		}
		prefix[n] = p
	}
	var mu sync.Mutex
	print := func(l logLine) {
		mu.Lock()
		defer mu.Unlock()
		line := l.Log
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		if o.Timestamps {
			line = l.Time.Format(time.RFC3339Nano) + " " + line
		}
		fmt.Fprint(w, prefix[l.service]+line)
	}
	// The stored lines, merged by time.
	var stored []logLine
	offsets := map[string]*os.File{}
	defer func() {
		for _, f := range offsets {
			f.Close()
		}
	}()
	for _, n := range names {
		lines, f, err := readLog(pth.logPath(n), o.Tail)
		if err != nil {
			return fmt.Errorf("logs of %s: %w", n, err)
		}
		if f != nil {
			offsets[n] = f
		}
		for _, e := range lines {
			stored = append(stored, logLine{n, e})
		}
	}
	sort.SliceStable(stored, func(i, j int) bool { return stored[i].Time.Before(stored[j].Time) })
	for _, l := range stored {
		print(l)
	}
	notices := o.Notices
	if notices == nil {
		notices = w
	}
	reported := map[string]int64{}
	reportDrops := func() error {
		drops, err := r.LogDrops(stackName, names)
		for _, n := range sortedKeys(drops) {
			if d := drops[n]; d.Lines > reported[n] {
				reported[n] = d.Lines
				mu.Lock()
				fmt.Fprint(notices, dropsNotice(n, pth.logPath(n), d))
				mu.Unlock()
			}
		}
		return err
	}
	if err := reportDrops(); err != nil || !o.Follow {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		said := ""
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				// An error once, not every second.
				if err := reportDrops(); err != nil && err.Error() != said {
					said = err.Error()
					mu.Lock()
					fmt.Fprintf(notices, "logs: %v\n", err)
					mu.Unlock()
				}
			}
		}
	}()
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			followLog(ctx, pth.logPath(n), offsets[n], func(e LogEntry) { print(logLine{n, e}) })
		}()
	}
	wg.Wait()
	return nil
}

// readLog reads a service's log files, oldest first, keeping the last tail
// entries (all when tail < 0). It returns the current file, open at its end,
// for following; nil when there is no log yet.
func readLog(path string, tail int) ([]LogEntry, *os.File, error) {
	var out []LogEntry
	var cur *os.File
	for _, p := range logFiles(path) {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, decodeLog(f)...)
		if tail >= 0 && len(out) > tail {
			out = out[len(out)-tail:]
		}
		if p == path {
			cur = f
		} else {
			f.Close()
		}
	}
	return out, cur, nil
}

// decodeLog reads JSON log lines to EOF; undecodable lines are kept as text.
func decodeLog(r io.Reader) []LogEntry {
	var out []LogEntry
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var e LogEntry
			if jerr := json.Unmarshal(line, &e); jerr != nil {
				e = LogEntry{Log: string(line)}
			}
			out = append(out, e)
		} else if len(line) > 0 {
			// A line being written: leave it for the next read.
			if s, ok := r.(io.Seeker); ok {
				_, _ = s.Seek(-int64(len(line)), io.SeekCurrent)
			}
		}
		if err != nil {
			return out
		}
	}
}

// followLog prints what is appended to path from f's offset on; when the
// logger rotates the file, it finishes the old one and opens the new.
func followLog(ctx context.Context, path string, f *os.File, emit func(LogEntry)) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if f == nil {
			if nf, err := os.Open(path); err == nil {
				f = nf
			}
		}
		if f != nil {
			for _, e := range decodeLog(f) {
				emit(e)
			}
			if rotated(path, f) {
				for _, e := range decodeLog(f) {
					emit(e)
				}
				f.Close()
				f = nil
				continue
			}
		}
		select {
		case <-ctx.Done():
			if f != nil {
				f.Close()
			}
			return
		case <-tick.C:
		}
	}
}

// rotated reports whether path is no longer the file f reads.
func rotated(path string, f *os.File) bool {
	a, err := f.Stat()
	if err != nil {
		return true
	}
	b, err := os.Stat(path)
	if err != nil {
		return false // between the rename and the new file
	}
	as, aok := a.Sys().(*syscall.Stat_t)
	bs, bok := b.Sys().(*syscall.Stat_t)
	return aok && bok && as.Ino != bs.Ino
}

// tailLog returns the last n lines of a service's log as text, indented,
// for error messages.
func tailLog(path string, n int) string {
	lines, f, err := readLog(path, n)
	if f != nil {
		f.Close()
	}
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	if len(lines) == 0 {
		return "    (no output)"
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + strings.TrimRight(l.Log, "\n") + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
