package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// TestStatic runs the static image with 8080 published on 127.0.0.1: it
// serves the site, as the nonroot user, under tini, with no shell in the
// image, and its health check is the server binary itself.
func TestStatic(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "static")
	port := freePort(t)
	r := runContainer(ctx, t, e, "static", rep.Images[0].Ref,
		[]runtime.PortMapping{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080, Protocol: runtime.TCP}})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 3 * time.Second}

	get := func(path string) (int, string, string, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, "", "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body), err
	}
	require.Eventually(t, func() bool {
		code, _, _, err := get("/")
		return err == nil && code == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "no page on %s; log:\n%s", base, r.logs(t))

	t.Run("serves the site", func(t *testing.T) {
		code, ctype, body, err := get("/")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
		assert.True(t, strings.HasPrefix(ctype, "text/html"), ctype)
		assert.Contains(t, body, "<title>Inception")
		// Relative: the same page works behind nginx at /site/.
		assert.Contains(t, body, `href="style.css"`)

		// What nginx asks for /site/style.css once it strips the prefix.
		code, ctype, body, err = get("/style.css")
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
		assert.True(t, strings.HasPrefix(ctype, "text/css"), ctype)
		assert.Contains(t, body, "body {")

		code, _, _, err = get("/missing.html")
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, code)
	})

	t.Run("no shell in the image", func(t *testing.T) {
		for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/busybox"} {
			assert.Error(t, startExec(t, r, sh, "-c", "true"), "%s exists in the image", sh)
		}
		// The same exec of a binary that is there works: the failure above
		// is the missing shell, not exec itself.
		require.NoError(t, startExec(t, r, "/static-server", "-h"))
	})

	t.Run("tini is PID 1, the server runs as nonroot", func(t *testing.T) {
		pid := int(r.Task.Pid()) // host PID of the container's PID 1
		assert.Equal(t, "tini-static", procRead(t, pid, "comm"))
		children := strings.Fields(procRead(t, pid, "task/"+strconv.Itoa(pid)+"/children"))
		require.Len(t, children, 1, "tini has one child")
		child, err := strconv.Atoi(children[0])
		require.NoError(t, err)
		assert.Equal(t, "static-server", procRead(t, child, "comm"))
		status := procRead(t, child, "status")
		assert.Regexp(t, `(?m)^Uid:\s+65532\s+65532\s+65532\s+65532$`, status)
		assert.Regexp(t, `(?m)^Gid:\s+65532\s+65532\s+65532\s+65532$`, status)
	})

	t.Run("health check", func(t *testing.T) {
		code, out := r.exec(ctx, t, "/static-server", "-healthcheck")
		assert.Equal(t, 0, code, out)
		// And it can fail: nothing listens on 9999.
		code, out = r.exec(ctx, t, "/static-server", "-healthcheck", "-addr", ":9999")
		assert.Equal(t, 1, code, out)
	})

	assert.Contains(t, r.logs(t), "static-server: serving /srv/site on :8080")
}

// startExec starts args in the container and waits for it, returning the
// error of the start: what a missing program gives.
func startExec(t *testing.T, r running, args ...string) error {
	t.Helper()
	ctx := t.Context()
	spec, err := r.Container.Spec(ctx)
	require.NoError(t, err)
	pspec := *spec.Process
	pspec.Args = args
	pspec.Terminal = false
	id := fmt.Sprintf("exec-%d", time.Now().UnixNano())
	p, err := r.Task.Exec(ctx, id, &pspec, cio.LogFile(filepath.Join(t.TempDir(), "exec.log")))
	require.NoError(t, err)
	defer p.Delete(ctx) //nolint:errcheck // best effort
	st, err := p.Wait(ctx)
	require.NoError(t, err)
	if err := p.Start(ctx); err != nil {
		return err
	}
	select {
	case <-st:
	case <-time.After(10 * time.Second):
		t.Fatalf("exec %v did not end", args)
	}
	return nil
}

// procRead reads /proc/<pid>/<name> on the host.
func procRead(t *testing.T, pid int, name string) string {
	t.Helper()
	dt, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), name))
	require.NoError(t, err)
	return strings.TrimSpace(string(dt))
}
