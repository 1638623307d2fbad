package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// siteClient is a browser-like HTTPS client for the site at domain: URLs
// name the domain (so SNI and the Host header, port included, are the real
// ones) and every connection goes to 127.0.0.1 on the URL's port, as a
// hosts-file line would make it. A URL of any other host is refused, so a
// redirect elsewhere cannot go unnoticed. It keeps cookies and follows no
// redirect unless follow is set.
func siteClient(t *testing.T, domain string, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				if host != domain {
					return nil, fmt.Errorf("site client: refusing to connect to %s: only %s (on 127.0.0.1)", addr, domain)
				}
				d := net.Dialer{Timeout: 5 * time.Second}
				return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
			TLSClientConfig: &tls.Config{
				// nginx's self-signed certificate: the TLS check verifies
				// its name by hand.
				InsecureSkipVerify: true, //nolint:gosec // self-signed certificate of the stack
				MinVersion:         tls.VersionTLS12,
			},
		},
	}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

// tlsHandshake dials 127.0.0.1:port with SNI domain, offering only version,
// and returns the server's certificate.
func tlsHandshake(port int, domain string, version uint16) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), &tls.Config{
		ServerName: domain,
		MinVersion: version, MaxVersion: version,
		InsecureSkipVerify: true, //nolint:gosec // self-signed certificate, checked by the caller
	})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.Version != version {
		return nil, fmt.Errorf("negotiated %s, want %s", tls.VersionName(st.Version), tls.VersionName(version))
	}
	if len(st.PeerCertificates) == 0 {
		return nil, fmt.Errorf("no certificate")
	}
	return st.PeerCertificates[0], nil
}

// getStatus is one GET that reports the status (0 and the error when the
// request failed); for polling, where a failure is an answer.
func getStatus(ctx context.Context, c *http.Client, u string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

// restDo calls the WordPress REST API with cookie authentication: the
// logged-in cookies of c plus the wp_rest nonce in X-WP-Nonce. body, when
// not nil, is sent as JSON; the response is decoded into out when it is
// not nil. It returns the status and the raw response.
func restDo(t *testing.T, c *http.Client, method, u, nonce string, body, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if nonce != "" {
		req.Header.Set("X-WP-Nonce", nonce)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(t, json.Unmarshal(data, out), "REST %s %s: %.300s", method, u, data)
	}
	return resp.StatusCode, string(data)
}

// wpLogin logs user in through wp-login.php (the test cookie first, as a
// browser gets it) and returns the dashboard's HTML.
func wpLogin(t *testing.T, c *http.Client, site, user, password string) string {
	t.Helper()
	code, _, _ := wpDo(t, c, http.MethodGet, site+"/wp-login.php", nil)
	require.Equal(t, http.StatusOK, code, "wp-login.php")
	code, _, body := wpDo(t, c, http.MethodPost, site+"/wp-login.php", url.Values{
		"log": {user}, "pwd": {password}, "wp-submit": {"Log In"},
		"redirect_to": {site + "/wp-admin/"}, "testcookie": {"1"},
	})
	require.Equal(t, http.StatusOK, code, "after the login of %s", user)
	require.NotContains(t, body, "login_error", "%s was refused", user)
	return body
}

var (
	inputTag  = regexp.MustCompile(`(?is)<input\b[^>]*>`)
	attrValue = func(tag, name string) (string, bool) {
		m := regexp.MustCompile(`(?is)\s` + name + `\s*=\s*("([^"]*)"|'([^']*)')`).FindStringSubmatch(tag)
		if m == nil {
			return "", false
		}
		return m[2] + m[3], true
	}
)

// formFields returns the hidden inputs of the form whose tag contains
// marker (such as id="commentform"), and the form's action.
func formFields(t *testing.T, page, marker string) (string, url.Values) {
	t.Helper()
	i := strings.Index(page, marker)
	require.GreaterOrEqual(t, i, 0, "no form with %s on the page", marker)
	start := strings.LastIndex(page[:i], "<form")
	require.GreaterOrEqual(t, start, 0)
	end := strings.Index(page[start:], "</form>")
	require.GreaterOrEqual(t, end, 0)
	form := page[start : start+end]
	action, _ := attrValue(form[:strings.IndexByte(form, '>')+1], "action")
	vals := url.Values{}
	for _, tag := range inputTag.FindAllString(form, -1) {
		typ, _ := attrValue(tag, "type")
		name, ok := attrValue(tag, "name")
		if !ok || !strings.EqualFold(typ, "hidden") {
			continue
		}
		v, _ := attrValue(tag, "value")
		vals.Set(name, v)
	}
	return action, vals
}

// repoRoot is the directory of go.mod above the test's working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test's directory")
		dir = parent
	}
}

// listening reports whether something accepts TCP connections on addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// tcpListeners returns the ports on which sockets LISTEN in the network
// namespace of host process pid (its /proc/PID/net/tcp and tcp6).
func tcpListeners(t *testing.T, pid uint32) map[int]bool {
	t.Helper()
	ports := map[int]bool{}
	for _, f := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue // no IPv6 in the namespace
		}
		for i, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if i == 0 || len(fields) < 4 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if !ok {
				continue
			}
			p, err := strconv.ParseUint(hexPort, 16, 16)
			require.NoError(t, err)
			ports[int(p)] = true
		}
	}
	return ports
}

// processInPIDNamespaceOf finds the host PID of the process named comm that
// lives in the same PID namespace as host process pid (a container's init).
func processInPIDNamespaceOf(pid uint32, comm string) (int, error) {
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return 0, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		if err != nil || strings.TrimSpace(string(name)) != comm {
			continue
		}
		if ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err == nil && ns == want {
			return p, nil
		}
	}
	return 0, fmt.Errorf("no %s process in the PID namespace of %d (%s)", comm, pid, want)
}

// gone reports whether host process pid has exited (no longer exists or
// is a zombie).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// hostNeighbor returns the MAC address of ip in the host's ARP table on
// dev, "" when it has no complete entry.
func hostNeighbor(t *testing.T, ip, dev string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/net/arp")
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		// IP address, HW type, Flags, HW address, Mask, Device
		f := strings.Fields(line)
		if len(f) < 6 || f[0] != ip || f[5] != dev {
			continue
		}
		flags, err := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 32)
		require.NoError(t, err)
		if flags&0x2 != 0 { // ATF_COM
			return f[3]
		}
	}
	return ""
}
