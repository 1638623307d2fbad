package integration

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imageFiles walks every layer of the stored image ref and calls fn for each
// file entry (whiteouts included), lower layers first; it returns the image
// config JSON.
func imageFiles(ctx context.Context, t *testing.T, e *env, ref string, fn func(layer int, h *tar.Header, r io.Reader)) []byte {
	t.Helper()
	img, err := e.cd.ImageService().Get(ctx, ref)
	require.NoError(t, err)
	cs := e.cd.ContentStore()
	m, err := images.Manifest(ctx, cs, img.Target, platforms.Default())
	require.NoError(t, err)
	cfg, err := content.ReadBlob(ctx, cs, m.Config)
	require.NoError(t, err)
	for i, l := range m.Layers {
		ra, err := cs.ReaderAt(ctx, l)
		require.NoError(t, err)
		r := io.Reader(content.NewReader(ra))
		if strings.HasSuffix(l.MediaType, "gzip") {
			gz, err := gzip.NewReader(r)
			require.NoError(t, err)
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, "%s layer %d", ref, i)
			fn(i, h, tr)
		}
		ra.Close()
	}
	return cfg
}

// TestImageContents builds every image and reads every layer and the
// config once:
//   - no file under /run/secrets, no .env file, no password setting in the
//     config, no apt lists or downloaded .deb files (the images' layers are
//     scanned for the secret values a running stack really uses in
//     TestAcceptance: a build never receives a secret to leak);
//   - for Debian images, the dpkg database that wins (the last layer's
//     /var/lib/dpkg/status) lists the base system and the image's own
//     packages as installed: no layer merge lost a package;
//   - /etc/passwd and /etc/group hold the system accounts the packages
//     create, with the ids the graphs fix, and no other outside
//     base-passwd's.
func TestImageContents(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e)
	require.Len(t, rep.Images, 7, "the stack has seven images")
	packages := map[string][]string{
		"nginx":     {"nginx", "libnginx-mod-http-cache-purge", "openssl", "tini", "curl"},
		"wordpress": {"php8.2-fpm", "php8.2-opcache", "php8.2-mysql", "php8.2-redis", "tini"},
		"mariadb":   {"mariadb-server", "tini"},
		"redis":     {"redis-server", "tini"},
		"vsftpd":    {"vsftpd", "tini"},
		"adminer":   {"adminer", "php8.2-fpm", "tini"},
	}
	base := []string{"base-files", "dpkg", "apt", "bash", "coreutils", "libc6"}
	// The system accounts the packages create, with the ids the graphs
	// give them; no other account outside base-passwd's. static has its
	// own /etc/passwd.
	systemd := map[string]string{"systemd-network": "998:998"}
	systemdGroups := map[string]string{"systemd-network": "998", "systemd-journal": "999"}
	none := map[string]string{}
	accounts := map[string]struct{ users, groups map[string]string }{
		"nginx":     {none, none},
		"wordpress": {systemd, systemdGroups},
		"adminer":   {systemd, systemdGroups},
		"mariadb":   {map[string]string{"mysql": "997:997"}, map[string]string{"mysql": "997"}},
		"redis":     {map[string]string{"redis": "996:996"}, map[string]string{"redis": "996"}},
		"vsftpd":    {map[string]string{"ftp": "995:995"}, map[string]string{"ftp": "995"}},
		"static":    {map[string]string{"nonroot": "65532:65532"}, map[string]string{"nonroot": "65532"}},
	}
	for _, img := range rep.Images {
		t.Run(img.Service, func(t *testing.T) {
			var status, passwd, group []byte
			cfg := imageFiles(ctx, t, e, img.Ref, func(layer int, h *tar.Header, r io.Reader) {
				name := path.Clean("/" + h.Name)
				assert.False(t, strings.HasPrefix(name, "/run/secrets/"), "secret file %s in layer %d", name, layer)
				assert.NotEqual(t, ".env", path.Base(name), "%s in layer %d", name, layer)
				assert.False(t, strings.HasSuffix(name, ".deb"), "downloaded package %s in layer %d", name, layer)
				if strings.HasPrefix(name, "/var/lib/apt/lists/") && h.Typeflag == tar.TypeReg && path.Base(name) != "lock" {
					assert.Failf(t, "apt list in a layer", "%s in layer %d", name, layer)
				}
				if h.Typeflag != tar.TypeReg {
					return
				}
				switch name {
				case "/var/lib/dpkg/status", "/etc/passwd", "/etc/group":
				default:
					return
				}
				data, err := io.ReadAll(r)
				require.NoError(t, err)
				switch name {
				case "/var/lib/dpkg/status":
					status = data
				case "/etc/passwd":
					passwd = data
				case "/etc/group":
					group = data
				}
			})
			assert.NotContains(t, strings.ToLower(string(cfg)), "password=", "no password in the image config")
			assert.NotContains(t, img.Ref, ":latest")
			users, groups := systemAccounts(string(passwd)), systemAccounts(string(group))
			assert.Equal(t, accounts[img.Service].users, users, "%s: users outside base-passwd's, uid:gid", img.Service)
			assert.Equal(t, accounts[img.Service].groups, groups, "%s: groups outside base-passwd's, gid", img.Service)

			want, debian := packages[img.Service]
			if !debian {
				assert.Empty(t, status, "%s has no package manager", img.Service)
				return
			}
			require.NotEmpty(t, status, "no dpkg status file")
			installed := dpkgInstalled(string(status))
			for _, p := range append(base, want...) {
				assert.True(t, installed[p], "%s: package %s not installed per dpkg", img.Service, p)
			}
		})
	}
}

// dpkgInstalled parses a dpkg status file into the set of installed packages.
func dpkgInstalled(status string) map[string]bool {
	out := map[string]bool{}
	for _, stanza := range strings.Split(status, "\n\n") {
		var name string
		ok := false
		for _, line := range strings.Split(stanza, "\n") {
			if v, found := strings.CutPrefix(line, "Package: "); found {
				name = v
			}
			if line == "Status: install ok installed" {
				ok = true
			}
		}
		if name != "" && ok {
			out[name] = true
		}
	}
	return out
}

// systemAccounts returns the accounts of an /etc/passwd or /etc/group file
// that base-passwd does not fix (ids 0-99, users 100, nogroup and nobody
// 65534): name to "uid:gid" for passwd, name to gid for group.
func systemAccounts(file string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(file), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		id, err := strconv.Atoi(f[2])
		if err != nil || id < 100 || id == 65534 || (id == 100 && f[0] == "users") {
			continue
		}
		if len(f) >= 7 { // passwd
			out[f[0]] = f[2] + ":" + f[3]
			continue
		}
		out[f[0]] = f[2]
	}
	return out
}
