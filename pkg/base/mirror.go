package base

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// HostMirror returns the Debian mirror the host's apt is set up with for
// suite: the first deb URI in /etc/apt/sources.list.d/*.sources (deb822) or
// /etc/apt/sources.list whose suites include suite. Using the host's own
// mirror means builds go where the host's apt already goes.
func HostMirror(suite string) (string, error) {
	return hostMirror("/etc/apt", suite)
}

func hostMirror(aptDir, suite string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*.sources"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if uri := mirrorFromDeb822(string(data), suite); uri != "" {
			return uri, nil
		}
	}
	lists, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*.list"))
	lists = append([]string{filepath.Join(aptDir, "sources.list")}, lists...)
	for _, f := range lists {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if uri := mirrorFromOneLine(string(data), suite); uri != "" {
			return uri, nil
		}
	}
	return "", ErrNoMirror
}

// mirrorFromDeb822 reads deb822 stanzas ("Types: deb", "URIs:", "Suites:").
func mirrorFromDeb822(data, suite string) string {
	for _, stanza := range strings.Split(data, "\n\n") {
		fields := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(stanza))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if !containsWord(fields["types"], "deb") || strings.EqualFold(fields["enabled"], "no") {
			continue
		}
		if !containsWord(fields["suites"], suite) {
			continue
		}
		if uris := strings.Fields(fields["uris"]); len(uris) > 0 {
			return strings.TrimRight(uris[0], "/")
		}
	}
	return ""
}

// mirrorFromOneLine reads "deb [opts] URI suite components..." lines.
func mirrorFromOneLine(data, suite string) string {
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) > 0 {
				f = f[1:]
			}
		}
		if len(f) >= 2 && f[1] == suite {
			return strings.TrimRight(f[0], "/")
		}
	}
	return ""
}

func containsWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

// checkMirror asks the mirror for the suite's Release file so a wrong or
// silent mirror fails in seconds with a clear message, not after a long
// bootstrap.
func checkMirror(ctx context.Context, mirror, suite string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	url := strings.TrimRight(mirror, "/") + "/dists/" + suite + "/Release"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %w; pass a valid --apt-mirror URL", ErrMirrorUnreachable, mirror, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %w; check the URL and the network, or pass another --apt-mirror", ErrMirrorUnreachable, mirror, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %s for %s; is it a Debian mirror with suite %q?", ErrMirrorUnreachable, mirror, resp.Status, url, suite)
	}
	return nil
}
