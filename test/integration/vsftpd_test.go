package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/freeport"
	"github.com/inceptionctl/inception/pkg/runtime"
)

// The test's FTP account. The password is long and unusual so that finding
// it in the container log cannot be a coincidence.
const (
	ftpTestUser     = "ftpwriter"
	ftpTestPassword = "Xq7-ftp-secret-Zr41:with colon"
	// wwwDataID is www-data's uid and gid on Debian.
	wwwDataID = 33
)

// ftpServer is a running vsftpd container and where to reach it.
type ftpServer struct {
	running
	addr string // control connection, 127.0.0.1:port
	www  string // host directory bound at /var/www/html
	pasv []int  // passive ports, published on the same host port numbers
}

// startVsftpd runs the vsftpd image with a temp dir as the WordPress files
// volume, the given secrets, port 21 and a passive range of three ports
// published on 127.0.0.1, and waits for its health check.
func startVsftpd(ctx context.Context, t *testing.T, e *env, ref string, secrets map[string][]byte, env ...string) ftpServer {
	t.Helper()
	www := t.TempDir()
	// The volume belongs to www-data, as the wordpress image leaves it.
	require.NoError(t, os.Chown(www, wwwDataID, wwwDataID))
	require.NoError(t, os.Chmod(www, 0o755))
	secretDir := t.TempDir()
	for name, data := range secrets {
		require.NoError(t, os.WriteFile(filepath.Join(secretDir, name), data, 0o600))
	}

	ctrl := freePort(t)
	pasv := freePortRange(t, 3)
	ports := []runtime.PortMapping{{HostIP: "127.0.0.1", HostPort: ctrl, ContainerPort: 21, Protocol: runtime.TCP}}
	for _, p := range pasv {
		// PASV announces the container's port number: the host port must
		// be the same.
		ports = append(ports, runtime.PortMapping{HostIP: "127.0.0.1", HostPort: p, ContainerPort: p, Protocol: runtime.TCP})
	}
	env = append([]string{
		"FTP_USER=" + ftpTestUser,
		"FTP_PASV_MIN=" + strconv.Itoa(pasv[0]),
		"FTP_PASV_MAX=" + strconv.Itoa(pasv[len(pasv)-1]),
		"FTP_PASV_ADDRESS=127.0.0.1",
	}, env...)
	r := runContainer(ctx, t, e, "vsftpd", ref, ports,
		withBind(www, "/var/www/html", false),
		withBind(secretDir, "/run/secrets", true),
		oci.WithEnv(env))

	var last string
	ok := assert.Eventually(t, func() bool {
		var code int
		code, last = r.exec(ctx, t, "/usr/local/bin/vsftpd-health")
		return code == 0
	}, 30*time.Second, 500*time.Millisecond)
	require.True(t, ok, "health check never passed: %s\nlog:\n%s", last, r.logs(t))
	return ftpServer{running: r, addr: fmt.Sprintf("127.0.0.1:%d", ctrl), www: www, pasv: pasv}
}

// freePortRange returns n consecutive TCP ports on 127.0.0.1 nobody listens
// on, none of them returned before in this test binary.
func freePortRange(t *testing.T, n int) []int {
	t.Helper()
	ports, err := freeport.Range(n)
	require.NoError(t, err)
	return ports
}

// ftpClient is the smallest FTP client the tests need: commands and replies
// over textproto, passive data connections, optional explicit TLS.
type ftpClient struct {
	t      *testing.T
	conn   net.Conn
	text   *textproto.Conn
	tls    *tls.Config // set after AUTH TLS: data connections use it too
	server string      // host:port of the control connection
}

// dialFTP connects and reads the 220 greeting.
func dialFTP(t *testing.T, addr string) *ftpClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	c := &ftpClient{t: t, conn: conn, text: textproto.NewConn(conn), server: addr}
	code, msg, err := c.text.ReadResponse(220)
	require.NoError(t, err, "greeting: %d %s", code, msg)
	return c
}

// cmd sends one command and returns the reply's code and text.
func (c *ftpClient) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	_, err := c.text.Cmd(format, args...)
	require.NoError(c.t, err)
	// Code 0: any reply is an answer, the caller checks which.
	code, msg, err := c.text.ReadResponse(0)
	require.NoError(c.t, err, "reply to %q", strings.Fields(format)[0])
	return code, msg
}

// expect sends a command and requires the reply code.
func (c *ftpClient) expect(want int, format string, args ...any) string {
	c.t.Helper()
	code, msg := c.cmd(format, args...)
	require.Equal(c.t, want, code, "%s: %s", strings.Fields(format)[0], msg)
	return msg
}

// login sends USER and PASS and returns PASS's reply code.
func (c *ftpClient) login(user, password string) (int, string) {
	c.t.Helper()
	code, msg := c.cmd("USER %s", user)
	if code != 331 {
		return code, msg
	}
	return c.cmd("PASS %s", password)
}

// startTLS upgrades the control connection (AUTH TLS) and asks for
// encrypted data connections (PBSZ 0, PROT P come after login).
func (c *ftpClient) startTLS(cfg *tls.Config) *tls.ConnectionState {
	c.t.Helper()
	c.expect(234, "AUTH TLS")
	tc := tls.Client(c.conn, cfg)
	require.NoError(c.t, tc.Handshake())
	c.conn = tc
	c.text = textproto.NewConn(tc)
	c.tls = cfg
	st := tc.ConnectionState()
	return &st
}

// passive opens a data connection with PASV and returns it with the
// announced address.
func (c *ftpClient) passive() (net.Conn, string) {
	c.t.Helper()
	msg := c.expect(227, "PASV")
	open, end := strings.IndexByte(msg, '('), strings.IndexByte(msg, ')')
	require.True(c.t, open >= 0 && end > open, "PASV reply %q", msg)
	var h [4]int
	var p1, p2 int
	_, err := fmt.Sscanf(msg[open+1:end], "%d,%d,%d,%d,%d,%d", &h[0], &h[1], &h[2], &h[3], &p1, &p2)
	require.NoError(c.t, err, "PASV reply %q", msg)
	addr := net.JoinHostPort(fmt.Sprintf("%d.%d.%d.%d", h[0], h[1], h[2], h[3]), strconv.Itoa(p1<<8|p2))
	data, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(c.t, err, "data connection to %s", addr)
	require.NoError(c.t, data.SetDeadline(time.Now().Add(30*time.Second)))
	return data, addr
}

// stor uploads content as name through a passive data connection and
// returns the final reply's code and text.
func (c *ftpClient) stor(name string, content []byte) (int, string) {
	c.t.Helper()
	data, _ := c.passive()
	defer data.Close()
	code, msg := c.cmd("STOR %s", name)
	if code != 150 {
		return code, msg
	}
	var w io.WriteCloser = data
	if c.tls != nil {
		tc := tls.Client(data, c.tls)
		require.NoError(c.t, tc.Handshake(), "TLS on the data connection")
		w = tc
	}
	_, err := w.Write(content)
	require.NoError(c.t, err)
	require.NoError(c.t, w.Close())
	code, msg, err = c.text.ReadResponse(0)
	require.NoError(c.t, err)
	return code, msg
}

// TestVsftpd: the FTP user logs in, lands chrooted in the WordPress files,
// uploads in passive mode, and the file belongs to www-data; wrong
// passwords and anonymous logins are refused; the password never reaches
// the log.
func TestVsftpd(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "vsftpd")
	srv := startVsftpd(ctx, t, e, rep.Images[0].Ref, map[string][]byte{
		"ftp_password": []byte(ftpTestPassword + "\n"),
	})

	t.Run("upload lands in the volume as www-data", func(t *testing.T) {
		c := dialFTP(t, srv.addr)
		code, msg := c.login(ftpTestUser, ftpTestPassword)
		require.Equal(t, 230, code, msg)
		// Chrooted: the home is the root, and there is no way above it.
		assert.Contains(t, c.expect(257, "PWD"), `"/"`)
		c.expect(250, "CWD ..")
		assert.Contains(t, c.expect(257, "PWD"), `"/"`)
		c.expect(200, "TYPE I")

		content := []byte("uploaded over FTP\x00\x01binary\r\n")
		code, msg = c.stor("ftp-upload.bin", content)
		require.Equal(t, 226, code, msg)
		c.expect(221, "QUIT")

		path := filepath.Join(srv.www, "ftp-upload.bin")
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, content, got, "binary content intact (TYPE I)")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		st, ok := fi.Sys().(*syscall.Stat_t)
		require.True(t, ok)
		assert.Equal(t, uint32(wwwDataID), st.Uid, "owner uid")
		assert.Equal(t, uint32(wwwDataID), st.Gid, "owner gid")
		assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "local_umask 022")
	})

	t.Run("passive reply announces the configured address and range", func(t *testing.T) {
		c := dialFTP(t, srv.addr)
		code, msg := c.login(ftpTestUser, ftpTestPassword)
		require.Equal(t, 230, code, msg)
		data, addr := c.passive()
		data.Close()
		host, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", host)
		p, err := strconv.Atoi(port)
		require.NoError(t, err)
		assert.Contains(t, srv.pasv, p)
		code, msg = c.cmd("PORT 127,0,0,1,4,1")
		assert.NotEqual(t, 200, code, "active mode is off: %s", msg)
	})

	t.Run("wrong password refused", func(t *testing.T) {
		c := dialFTP(t, srv.addr)
		code, msg := c.login(ftpTestUser, "not-the-password")
		assert.Equal(t, 530, code, msg)
	})

	for _, user := range []string{"anonymous", "ftp"} {
		t.Run("anonymous refused as "+user, func(t *testing.T) {
			c := dialFTP(t, srv.addr)
			code, msg := c.login(user, "guest@example.com")
			assert.Equal(t, 530, code, msg)
		})
	}

	t.Run("system users refused", func(t *testing.T) {
		c := dialFTP(t, srv.addr)
		code, msg := c.login("root", ftpTestPassword)
		assert.Equal(t, 530, code, msg)
	})

	t.Run("runs under tini", func(t *testing.T) {
		code, comm := srv.exec(ctx, t, "cat", "/proc/1/comm")
		require.Equal(t, 0, code)
		assert.Equal(t, "tini", strings.TrimSpace(comm))
		code, out := srv.exec(ctx, t, "sh", "-c", "cat /proc/[0-9]*/comm")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "vsftpd")
	})

	t.Run("health check fails when nothing answers", func(t *testing.T) {
		// The image's check, pointed at a port nobody listens on.
		code, out := srv.exec(ctx, t, "sh", "-c",
			`sed 's/127.0.0.1 21 /127.0.0.1 2199 /' /usr/local/bin/vsftpd-health >/tmp/health && grep -q 2199 /tmp/health && sh /tmp/health`)
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "no FTP greeting")
	})

	t.Run("log shipped, password never in it", func(t *testing.T) {
		var log string
		require.Eventually(t, func() bool {
			log = srv.logs(t)
			return strings.Contains(log, "OK UPLOAD") && strings.Contains(log, "FAIL LOGIN")
		}, 10*time.Second, 200*time.Millisecond, "vsftpd's log does not reach the container log:\n%s", srv.logs(t))
		assert.Contains(t, log, `OK LOGIN: Client`)
		assert.NotContains(t, log, ftpTestPassword)
		assert.NotContains(t, log, "not-the-password")
		assert.NotContains(t, log, "500 OOPS")
	})
}

// TestVsftpdRequiresPassword: without the ftp_password secret the container
// stops at once, naming the missing file.
func TestVsftpdRequiresPassword(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "vsftpd")
	r := runContainer(ctx, t, e, "vsftpd", rep.Images[0].Ref, nil,
		withBind(t.TempDir(), "/var/www/html", false),
		oci.WithEnv([]string{"FTP_USER=" + ftpTestUser}))
	st, err := r.Task.Wait(ctx)
	require.NoError(t, err)
	select {
	case es := <-st:
		assert.NotEqual(t, uint32(0), es.ExitCode())
	case <-time.After(20 * time.Second):
		t.Fatal("vsftpd started without its password secret")
	}
	assert.Contains(t, r.logs(t), "missing secret /run/secrets/ftp_password")
}

// TestVsftpdFTPS: with FTP_TLS=1 the server presents the stack's
// certificate, refuses a login in clear text, and takes an upload over TLS
// on both the control and the data connection.
func TestVsftpdFTPS(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "vsftpd")
	certPEM, keyPEM, cert := testCertificate(t)
	srv := startVsftpd(ctx, t, e, rep.Images[0].Ref, map[string][]byte{
		"ftp_password": []byte(ftpTestPassword),
		"tls_cert":     certPEM,
		"tls_key":      keyPEM,
	}, "FTP_TLS=1")

	t.Run("clear-text login refused", func(t *testing.T) {
		c := dialFTP(t, srv.addr)
		code, msg := c.cmd("USER %s", ftpTestUser)
		assert.Equal(t, 530, code, msg)
	})

	t.Run("upload over TLS", func(t *testing.T) {
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		cfg := &tls.Config{
			RootCAs:    roots,
			ServerName: "localhost",
			MinVersion: tls.VersionTLS12,
			// Data connections must resume the control session
			// (require_ssl_reuse).
			ClientSessionCache: tls.NewLRUClientSessionCache(4),
		}
		c := dialFTP(t, srv.addr)
		state := c.startTLS(cfg)
		require.NotEmpty(t, state.PeerCertificates)
		assert.True(t, state.PeerCertificates[0].Equal(cert), "the certificate from the tls_cert secret")
		code, msg := c.login(ftpTestUser, ftpTestPassword)
		require.Equal(t, 230, code, msg)
		c.expect(200, "PBSZ 0")
		c.expect(200, "PROT P")
		c.expect(200, "TYPE I")
		code, msg = c.stor("over-tls.txt", []byte("sent over FTPS\n"))
		require.Equal(t, 226, code, msg)

		got, err := os.ReadFile(filepath.Join(srv.www, "over-tls.txt"))
		require.NoError(t, err)
		assert.Equal(t, "sent over FTPS\n", string(got))
	})
	assert.NotContains(t, srv.logs(t), ftpTestPassword)

	t.Run("self-signed certificate without the TLS secrets", func(t *testing.T) {
		srv := startVsftpd(ctx, t, e, rep.Images[0].Ref, map[string][]byte{
			"ftp_password": []byte(ftpTestPassword),
		}, "FTP_TLS=1", "DOMAIN_NAME=login.42.fr")
		c := dialFTP(t, srv.addr)
		state := c.startTLS(&tls.Config{
			InsecureSkipVerify: true, //nolint:gosec // checked by hand below: a self-signed certificate
			MinVersion:         tls.VersionTLS12,
		})
		require.NotEmpty(t, state.PeerCertificates)
		peer := state.PeerCertificates[0]
		assert.Equal(t, "login.42.fr", peer.Subject.CommonName)
		assert.NoError(t, peer.VerifyHostname("login.42.fr"))
		assert.NoError(t, peer.CheckSignatureFrom(peer), "self-signed")
		code, msg := c.login(ftpTestUser, ftpTestPassword)
		assert.Equal(t, 230, code, msg)
	})
}

// testCertificate makes a self-signed ECDSA certificate for localhost.
func testCertificate(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), cert
}
