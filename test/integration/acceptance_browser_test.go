package integration

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

// chromiumBinary is Debian's chromium package (make test-deps installs it: scripts/packages/test.txt).
const chromiumBinary = "chromium"

// chromiumScreenshot loads site (https://domain:port/) in a headless
// Chromium that resolves domain to 127.0.0.1, and writes a screenshot of it
// to out. Chromium is a real browser, with no Go API: it runs as a program.
func chromiumScreenshot(ctx context.Context, t *testing.T, domain, site, out string) {
	t.Helper()
	bin, err := exec.LookPath(chromiumBinary)
	if err != nil {
		// make test installs it (make test-deps); a bare go test may not have it.
		testutil.Skip(t, fmt.Sprintf("no %s on PATH: install Debian's chromium package (make test-deps does)", chromiumBinary))
	}
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	_ = os.Remove(out)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--ignore-certificate-errors",
		"--host-resolver-rules=MAP "+domain+" 127.0.0.1",
		"--screenshot="+out,
		"--window-size=1280,900",
		site)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	start := time.Now()
	err = cmd.Run()
	t.Logf("chromium took %v", time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, "chromium:\n%s", output.String())

	data, err := os.ReadFile(out)
	require.NoError(t, err, "no screenshot; chromium said:\n%s", output.String())
	assert.True(t, bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")), "not a PNG")
	assert.Greater(t, len(data), 10<<10, "a screenshot of a rendered page is more than 10 KB")
	img, err := png.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	b := img.Bounds()
	assert.Equal(t, 1280, b.Dx(), "window width")
	// More than a blank page: count distinct colours on a coarse grid.
	colours := map[string]bool{}
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[fmt.Sprint(r>>8, g>>8, bl>>8)] = true
		}
	}
	assert.Greater(t, len(colours), 8, "the screenshot is (almost) one colour: nothing rendered?")
	t.Logf("screenshot: %s (%d bytes, %dx%d, %d colours sampled)", out, len(data), b.Dx(), b.Dy(), len(colours))
}
