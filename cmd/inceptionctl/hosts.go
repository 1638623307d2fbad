package main

import (
	"fmt"
	"os"
	"path/filepath"
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

// writeHostsLine puts line into the hosts file at path: a line that already
// names domain is replaced, otherwise line is appended. Idempotent; the
// file is replaced atomically with its mode kept. It reports whether the
// file changed.
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
		fields := strings.Fields(l)
		names := fields
		if len(fields) > 0 {
			names = fields[1:]
		}
		if !strings.HasPrefix(strings.TrimSpace(l), "#") && contains(names, domain) {
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

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
