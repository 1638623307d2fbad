package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/stack"
)

// announceSite prints where the site answers and the hosts line the user
// needs; with hostsFile it writes that line there.
func announceSite(cmd *cobra.Command, cfg stack.Config, hostsFile string) error {
	line := hostsLine(cfg)
	fmt.Fprintf(cmd.OutOrStdout(), "site: %s\n", cfg.SiteURL())
	if hostsFile == "" {
		fmt.Fprintf(cmd.OutOrStdout(), "add to /etc/hosts (or rerun with --hosts /etc/hosts): %s\n", line)
		return nil
	}
	changed, err := writeHostsLine(hostsFile, cfg.Domain, line)
	if err != nil {
		return fmt.Errorf("hosts file: %w", err)
	}
	if changed {
		fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", hostsFile, line)
	}
	return nil
}

// hostsLine maps the domain to the address the site is published on.
func hostsLine(cfg stack.Config) string {
	ip := cfg.HostIP
	if ip == "" || ip == "0.0.0.0" {
		ip = "127.0.0.1"
	}
	return ip + " " + cfg.Domain
}

// writeHostsLine gives domain its own line in the hosts file at path and
// changes nothing else: the domain is taken out of every line that names it,
// a line left with no name goes, and line takes the place of the first one
// (after it, when that line keeps other names such as localhost); without
// one, line is appended. Idempotent; the file is replaced atomically with
// its mode kept. It reports whether the file changed.
func writeHostsLine(path, domain, line string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return false, err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	var out []string
	found := false
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		rest, named, empty := withoutName(l, domain)
		if named {
			if !empty {
				out = append(out, rest)
			}
			if !found {
				out = append(out, line)
				found = true
			}
			continue
		}
		if l != "" || len(out) > 0 {
			out = append(out, l)
		}
	}
	if !found {
		out = append(out, line)
	}
	next := strings.Join(out, "\n") + "\n"
	if next == string(data) {
		return false, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hosts-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(next); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	// /etc/hosts may be a bind mount (containers, some sandboxes) that a
	// rename cannot replace: fall back to rewriting it in place.
	if err := os.Rename(tmp.Name(), path); err != nil {
		if werr := os.WriteFile(path, []byte(next), mode); werr != nil {
			return false, werr
		}
	}
	return true, nil
}

// withoutName takes name out of a hosts line's names, keeping the rest of
// the line as written (spacing, a trailing comment). named says whether the
// line named it; empty whether no name is left, so the line can go.
// Comment lines never name anything.
func withoutName(l, name string) (rest string, named, empty bool) {
	body, comment := l, ""
	if i := strings.IndexByte(l, '#'); i >= 0 {
		body, comment = l[:i], l[i:]
	}
	if f := strings.Fields(body); len(f) < 2 || !slices.Contains(f[1:], name) {
		return l, false, false
	}
	var b strings.Builder
	kept, left := 0, 0 // kept tokens; where the text after the last kept or dropped token starts
	for i := 0; i < len(body); {
		if isBlank(body[i]) {
			i++
			continue
		}
		j := i
		for j < len(body) && !isBlank(body[j]) {
			j++
		}
		if kept == 0 || body[i:j] != name {
			b.WriteString(body[left:j]) // the token with the blanks before it
			kept++
		}
		left, i = j, j
	}
	b.WriteString(body[left:])
	return b.String() + comment, true, kept < 2
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
