package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/archive"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	"github.com/package-url/packageurl-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/sbom"
)

// unpack applies every layer of the stored image ref into dir with
// containerd's own layer applier (whiteouts and all), the way a snapshotter
// would: a rootfs the SBOM scan never saw.
func unpack(ctx context.Context, t *testing.T, e *env, ref, dir string) {
	t.Helper()
	img, err := e.cd.ImageService().Get(ctx, ref)
	require.NoError(t, err)
	cs := e.cd.ContentStore()
	m, err := images.Manifest(ctx, cs, img.Target, platforms.Default())
	require.NoError(t, err)
	for _, l := range m.Layers {
		ra, err := cs.ReaderAt(ctx, l)
		require.NoError(t, err)
		r, err := compression.DecompressStream(content.NewReader(ra))
		require.NoError(t, err)
		_, err = archive.Apply(ctx, dir, r)
		r.Close()
		ra.Close()
		require.NoError(t, err, "apply %s layer %s", ref, l.Digest)
	}
}

// TestSBOMMatchesDpkg: for every Debian image, the SBOM lists exactly the
// packages, architectures and versions that dpkg-query lists from the
// image's own dpkg database on an unpacked copy of the image; every package
// has a deb purl; the static site's SBOM names its Go server's module.
func TestSBOMMatchesDpkg(t *testing.T) {
	ctx, e := setup(t)
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg-query is not installed")
	}
	rep := buildServices(ctx, t, e, sbomServices()...)
	for _, r := range rep.Images {
		t.Run(r.Service, func(t *testing.T) {
			img, err := e.cd.ImageService().Get(ctx, r.Ref)
			require.NoError(t, err)
			inv, doc, err := sbom.ForImage(ctx, e.cd.ContentStore(), img)
			require.NoError(t, err)
			assert.Equal(t, "SPDX-2.3", doc.SPDXVersion)

			root := t.TempDir()
			unpack(ctx, t, e, r.Ref, root)
			admin := filepath.Join(root, "var/lib/dpkg")
			if _, err := os.Stat(filepath.Join(admin, "status")); os.IsNotExist(err) {
				assert.Empty(t, inv.Packages, "no dpkg database, no packages")
				require.NotEmpty(t, inv.GoBinaries, "the scratch image's server is a Go binary")
				assert.Equal(t, "/static-server", inv.GoBinaries[0].Path)
				assert.NotEmpty(t, inv.GoBinaries[0].GoVersion)
				return
			}
			out, err := exec.CommandContext(ctx, "dpkg-query", "--admindir="+admin, "-W",
				"-f", `${db:Status-Status} ${Package} ${Architecture} ${Version}\n`).CombinedOutput()
			require.NoError(t, err, "%s", out)
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				status, rest, _ := strings.Cut(line, " ")
				if status == "config-files" || status == "not-installed" {
					continue
				}
				want = append(want, rest)
			}
			var got []string
			licensed := 0
			for _, p := range inv.Packages {
				got = append(got, fmt.Sprintf("%s %s %s", p.Name, p.Architecture, p.Version))
				purl, err := packageurl.FromString(p.PURL(inv.OS))
				require.NoError(t, err, p.PURL(inv.OS))
				assert.Equal(t, []string{"deb", "debian", p.Name, p.Version, p.Architecture, "debian-12"},
					[]string{purl.Type, purl.Namespace, purl.Name, purl.Version, purl.Qualifiers.Map()["arch"], purl.Qualifiers.Map()["distro"]})
				if p.License != "" {
					licensed++
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got)
			assert.Greater(t, licensed, len(inv.Packages)/3, "most Debian packages have a machine-readable copyright file")
			t.Logf("%s: %d packages, %d with a licence", r.Service, len(got), licensed)
		})
	}
}

// sbomServices are the images TestSBOMMatchesDpkg checks: all of them, or
// the ones INCEPTION_TEST_SERVICES names (comma-separated).
func sbomServices() []string {
	if v := os.Getenv("INCEPTION_TEST_SERVICES"); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}
