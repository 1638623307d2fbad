package integration

import (
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestNginxBuildTwiceAllCached: a second build with nothing changed runs no
// vertex of the graph.
func TestNginxBuildTwiceAllCached(t *testing.T) {
	ctx, e := setup(t)
	first := buildServices(ctx, t, e, "nginx")
	require.Len(t, first.Images, 1)
	second := buildServices(ctx, t, e, "nginx")
	require.Len(t, second.Images, 1)
	r := second.Images[0]
	assert.Positive(t, r.Vertices)
	assert.True(t, r.AllCached(), "second build ran %v", r.Ran)
	assert.Equal(t, first.Images[0].Digest, r.Digest, "same graph, same image digest")
}

// TestNginxTLS runs the nginx image with 443 published on 127.0.0.1 and
// checks which TLS versions it speaks.
func TestNginxTLS(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "nginx")
	port := freePort(t)
	runContainer(ctx, t, e, "nginx", rep.Images[0].Ref,
		[]runtime.PortMapping{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 443, Protocol: runtime.TCP}},
		withHosts(t, "127.0.0.1 wordpress\n127.0.0.1 adminer\n127.0.0.1 static\n"))
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	handshake := func(version uint16) error {
		d := &net.Dialer{Timeout: 3 * time.Second}
		conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{
			MinVersion: version, MaxVersion: version,
			InsecureSkipVerify: true, //nolint:gosec // self-signed test certificate
		})
		if err != nil {
			return err
		}
		defer conn.Close()
		if got := conn.ConnectionState().Version; got != version {
			return fmt.Errorf("negotiated %x, want %x", got, version)
		}
		return nil
	}
	require.Eventually(t, func() bool { return handshake(tls.VersionTLS13) == nil }, 30*time.Second, 200*time.Millisecond,
		"nginx never completed a TLS 1.3 handshake on %s", addr)

	for _, tc := range []struct {
		name    string
		version uint16
		ok      bool
	}{
		{"TLS 1.3 accepted", tls.VersionTLS13, true},
		{"TLS 1.2 accepted", tls.VersionTLS12, true},
		{"TLS 1.1 refused", tls.VersionTLS11, false},
		{"TLS 1.0 refused", tls.VersionTLS10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := handshake(tc.version)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				// The refusal must come from nginx (an alert), not from
				// this client declining to offer the version.
				assert.ErrorContains(t, err, "remote error")
			}
		})
	}
}

// TestNginxRunsUnderInit: PID 1 is tini, nginx runs in the foreground
// under it, and the image's health check command succeeds.
func TestNginxRunsUnderInit(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "nginx")
	r := runContainer(ctx, t, e, "nginx", rep.Images[0].Ref, nil, withHosts(t, "127.0.0.1 wordpress\n127.0.0.1 adminer\n127.0.0.1 static\n"))
	require.Eventually(t, func() bool {
		code, _ := r.exec(ctx, t, "curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health")
		return code == 0
	}, 30*time.Second, 300*time.Millisecond, "health check never passed; log:\n%s", r.logs(t))
	code, comm := r.exec(ctx, t, "cat", "/proc/1/comm")
	require.Equal(t, 0, code)
	assert.Equal(t, "tini", strings.TrimSpace(comm))
	code, out := r.exec(ctx, t, "sh", "-c", "cat /proc/[0-9]*/comm")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "nginx")
}
