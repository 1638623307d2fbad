package llbdefs

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the vsftpd tests look for.
const (
	vsftpdInstallName = "vsftpd: install packages"
	vsftpdConfigName  = "vsftpd: config and scripts"
	vsftpdMergeName   = "vsftpd: add config layer"
)

type vsftpdCase struct {
	name         string
	distro       Distro
	wantRef      string
	wantTini     string
	wantPackages []string
	wantOwner    string // FTP_OWNER_UID and _GID: the distro's www-data
	wantCaches   map[string]string
}

func vsftpdCases() []vsftpdCase {
	return []vsftpdCase{
		{
			name:         "debian",
			distro:       Debian(),
			wantRef:      DebianRef,
			wantTini:     "/usr/bin/tini",
			wantPackages: []string{"vsftpd", "tini", "openssl", "passwd", "netcat-openbsd"},
			wantOwner:    "33",
			wantCaches: map[string]string{
				"/var/cache/apt":     "inception-apt-cache-vsftpd",
				"/var/lib/apt/lists": "inception-apt-lists-vsftpd",
			},
		},
		{
			name:         "alpine",
			distro:       Alpine(),
			wantRef:      AlpineRef,
			wantTini:     "/sbin/tini",
			wantPackages: []string{"vsftpd", "tini", "openssl", "shadow"},
			wantOwner:    "82",
			wantCaches:   map[string]string{},
		},
	}
}

func TestVsftpdGraph(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Vsftpd(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "vsftpd", img.Name)
			g := marshalGraph(t, img)
			for _, d := range g.order {
				assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
			}

			_, src := g.named(t, "vsftpd: base "+tc.wantRef)
			require.NotNil(t, src.GetSource())
			assert.Equal(t, "docker-image://"+tc.wantRef, src.GetSource().Identifier)

			execs := g.execs()
			require.Len(t, execs, 1, "one exec: the package install")
			installDgst := execs[0]
			assert.Equal(t, vsftpdInstallName, g.names[installDgst])
			install := g.ops[installDgst].GetExec()
			args := install.Meta.Args
			assert.Equal(t, tc.wantPackages, args[len(args)-len(tc.wantPackages):], "packages, as arguments")
			caches := map[string]string{}
			for _, m := range install.Mounts {
				if m.MountType == pb.MountType_CACHE {
					caches[m.Dest] = m.CacheOpt.ID
				}
			}
			assert.Equal(t, tc.wantCaches, caches)

			// Packages below, the image's own files in a merged layer that
			// does not depend on them.
			require.Equal(t, vsftpdMergeName, g.names[g.result])
			merge := g.ops[g.result]
			require.NotNil(t, merge.GetMerge())
			require.Len(t, merge.Inputs, 2)
			lower, upper := digest.Digest(merge.Inputs[0].Digest), digest.Digest(merge.Inputs[1].Digest)
			assert.Equal(t, installDgst, lower)
			assert.Equal(t, vsftpdConfigName, g.names[upper])
			assert.False(t, g.ancestors(upper)[installDgst], "config layer must not depend on the install")
			assert.Empty(t, g.ops[upper].Inputs, "config layer starts from scratch")

			files := map[string]int32{}
			for _, a := range g.ops[upper].GetFile().Actions {
				if mk := a.GetMkfile(); mk != nil {
					files[mk.Path] = mk.Mode
					assert.Equal(t, "0:0", ownerString(mk.Owner), mk.Path)
				}
			}
			assert.Equal(t, map[string]int32{
				"/usr/local/bin/vsftpd-entrypoint":  0o755,
				"/usr/local/bin/vsftpd-health":      0o755,
				"/etc/vsftpd/inception/vsftpd.conf": 0o644,
				"/etc/vsftpd/inception/tls.conf":    0o644,
			}, files)
		})
	}
}

func TestVsftpdImageConfig(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Vsftpd(WithDistro(tc.distro))
			require.NoError(t, err)
			dt, err := img.ConfigJSON()
			require.NoError(t, err)
			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config

			assert.Equal(t, []string{tc.wantTini, "--", "/usr/local/bin/vsftpd-entrypoint"}, c.Entrypoint)
			assert.Equal(t, []string{"vsftpd", "/run/vsftpd/vsftpd.conf"}, c.Cmd)
			assert.Empty(t, c.User, "root: vsftpd binds 21, chroots and switches to the user itself")
			assert.Subset(t, c.Env, []string{
				"FTP_PASV_MIN=21100",
				"FTP_PASV_MAX=21110",
				"FTP_PASV_ADDRESS=127.0.0.1",
				"FTP_TLS=0",
				"FTP_OWNER_UID=" + tc.wantOwner,
				"FTP_OWNER_GID=" + tc.wantOwner,
			})
			for _, env := range c.Env {
				assert.NotContains(t, strings.ToLower(env), "password")
				assert.False(t, strings.HasPrefix(env, "FTP_USER="), "no default login")
			}
			assert.Len(t, c.ExposedPorts, 1+11)
			assert.Contains(t, c.ExposedPorts, "21/tcp")
			assert.Contains(t, c.ExposedPorts, "21100/tcp")
			assert.Contains(t, c.ExposedPorts, "21110/tcp")
			assert.Equal(t, map[string]struct{}{"/var/www/html": {}}, c.Volumes)
			assert.Equal(t, "SIGTERM", c.StopSignal)
			assert.Equal(t, "vsftpd", c.Labels["org.opencontainers.image.title"])
			assert.Equal(t, tc.wantRef, c.Labels["org.opencontainers.image.base.name"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, []string{"CMD", "/usr/local/bin/vsftpd-health"}, c.Healthcheck.Test)
			assert.Less(t, c.Healthcheck.Timeout, c.Healthcheck.Interval)
			assert.Positive(t, c.Healthcheck.StartInterval)
			assert.Equal(t, 30*time.Second, c.Healthcheck.Interval)
		})
	}
}

// TestVsftpdFileChangeRebuildsOnlyConfig: a change to any of the image's
// own files changes the config layer and the merge, never the install.
func TestVsftpdFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(vsftpdFiles, "files/vsftpd")
	require.NoError(t, err)
	for _, tc := range vsftpdCases() {
		for _, changed := range []string{"vsftpd-entrypoint", "vsftpd-health", "vsftpd.conf", "tls.conf"} {
			t.Run(tc.name+"/"+changed, func(t *testing.T) {
				modified := copyFS(t, embedded)
				modified[changed].Data = append(modified[changed].Data, "\n# changed\n"...)
				before := vsftpdGraph(t, embedded, tc.distro)
				after := vsftpdGraph(t, modified, tc.distro)
				wantChanged := map[string]bool{vsftpdConfigName: true, vsftpdMergeName: true}
				for _, d := range before.order {
					name := before.names[d]
					got, _ := after.named(t, name)
					if wantChanged[name] {
						assert.NotEqual(t, d, got, "%q must change with %s", name, changed)
					} else {
						assert.Equal(t, d, got, "%q must not change with %s", name, changed)
					}
				}
			})
		}
	}
}

func vsftpdGraph(t *testing.T, fsys fs.FS, d Distro) graph {
	t.Helper()
	img, err := vsftpd(fsys, WithDistro(d))
	require.NoError(t, err)
	return marshalGraph(t, img)
}

func TestVsftpdMissingFile(t *testing.T) {
	embedded, err := fs.Sub(vsftpdFiles, "files/vsftpd")
	require.NoError(t, err)
	fsys := copyFS(t, embedded)
	delete(fsys, "tls.conf")
	_, err = vsftpd(fsys)
	require.ErrorIs(t, err, ErrMissingFile)
	assert.Contains(t, err.Error(), "tls.conf")
}

// vsftpdOptions parses a vsftpd config file the way vsftpd reads it.
func vsftpdOptions(t *testing.T, text string) map[string]string {
	t.Helper()
	// vsftpd takes option=value with nothing around the '=' and stops on
	// anything it does not know how to read.
	line := regexp.MustCompile(`^([a-z0-9_]+)=(\S(?:.*\S)?)$`)
	opts := map[string]string{}
	for l := range strings.Lines(text) {
		l = strings.TrimSuffix(l, "\n")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := line.FindStringSubmatch(l)
		require.NotNil(t, m, "vsftpd cannot read %q", l)
		_, dup := opts[m[1]]
		require.False(t, dup, "%s set twice", m[1])
		opts[m[1]] = m[2]
	}
	return opts
}

func TestVsftpdConfig(t *testing.T) {
	read := func(name string) string {
		dt, err := vsftpdFiles.ReadFile("files/vsftpd/" + name)
		require.NoError(t, err)
		return string(dt)
	}
	entrypoint := read("vsftpd-entrypoint")
	// The entrypoint appends these to vsftpd.conf (and tls.conf): together
	// they must still set each option once.
	appended := "pasv_min_port=1\npasv_max_port=2\npasv_address=127.0.0.1\nvsftpd_log_file=/proc/1/fd/1\n" +
		"rsa_cert_file=/c\nrsa_private_key_file=/k\n"
	for _, k := range []string{"pasv_min_port", "pasv_max_port", "pasv_address", "vsftpd_log_file", "rsa_cert_file", "rsa_private_key_file"} {
		assert.Contains(t, entrypoint, `echo "`+k+`=`, "the entrypoint sets %s", k)
	}
	opts := vsftpdOptions(t, read("vsftpd.conf")+read("tls.conf")+appended)

	for k, want := range map[string]string{
		"listen":                 "YES",
		"listen_ipv6":            "NO",
		"background":             "NO",
		"anonymous_enable":       "NO",
		"local_enable":           "YES",
		"write_enable":           "YES",
		"local_umask":            "022",
		"chroot_local_user":      "YES",
		"allow_writeable_chroot": "YES",
		"pam_service_name":       "vsftpd",
		"pasv_enable":            "YES",
		"pasv_addr_resolve":      "NO",
		"port_enable":            "NO",
		"connect_from_port_20":   "NO",
		"xferlog_enable":         "YES",
		"xferlog_std_format":     "NO",
		"log_ftp_protocol":       "NO",
		"syslog_enable":          "NO",
		"secure_chroot_dir":      "/run/vsftpd/empty",
		// FTPS, when on.
		"ssl_enable":             "YES",
		"allow_anon_ssl":         "NO",
		"force_local_logins_ssl": "YES",
		"force_local_data_ssl":   "YES",
		"ssl_sslv2":              "NO",
		"ssl_sslv3":              "NO",
		"require_ssl_reuse":      "YES",
	} {
		assert.Equal(t, want, opts[k], k)
	}
	// The log never goes to /dev/stdout or /dev/stderr: in a session
	// process those are the client's socket ("500 OOPS").
	assert.NotContains(t, read("vsftpd.conf"), "/dev/std")
	assert.NotContains(t, entrypoint, "log_file=/dev/std")
	assert.Contains(t, read("vsftpd.conf"), "clear text", "plain FTP is said to be plain")
}

func TestVsftpdScripts(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
		deny []*regexp.Regexp
	}{
		{
			name: "entrypoint",
			file: "vsftpd-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				`password=$(cat "$password_file")`,
				"password_file=/run/secrets/ftp_password",
				`die "missing secret $password_file`,
				// The password reaches chpasswd on stdin, from a builtin.
				`printf '%s:%s\n' "$FTP_USER" "$password" | chpasswd`,
				`useradd -o -u "$FTP_OWNER_UID" -g "$FTP_OWNER_GID"`,
				`-d "$home"`,
				"/etc/shells",
				"/run/secrets/tls_cert",
				"/run/secrets/tls_key",
				"log=/proc/1/fd/1",
				`mkdir -p "$run_dir/empty"`,
				`set -- vsftpd "$conf"`,
				`exec "$@"`,
			},
			deny: []*regexp.Regexp{
				regexp.MustCompile(`set -x`),
				regexp.MustCompile(`echo[^\n]*\$password`),
				regexp.MustCompile(`--password|-p "\$password"`),
				regexp.MustCompile(`chpasswd[^\n]*\$password`),
				regexp.MustCompile(`tail -f|sleep infinity|while true`),
			},
		},
		{
			name: "health check",
			file: "vsftpd-health",
			want: []string{"#!/bin/sh\n", "set -eu", "nc -w", "127.0.0.1 21", "QUIT", "220*221*"},
			// bash only: dash and busybox sh have no /dev/tcp.
			deny: []*regexp.Regexp{regexp.MustCompile(`[<>]\s*/dev/tcp`), regexp.MustCompile(`PASS`), regexp.MustCompile(`#!/bin/bash`)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := vsftpdFiles.ReadFile("files/vsftpd/" + tc.file)
			require.NoError(t, err)
			text := string(dt)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, d := range tc.deny {
				assert.NotRegexp(t, d, text)
			}
		})
	}
}

func TestVsftpdGolden(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Vsftpd(WithDistro(tc.distro))
			require.NoError(t, err)
			checkGolden(t, "vsftpd-"+tc.name, marshalGraph(t, img).summary("vsftpd on "+tc.distro.Name()))
		})
	}
}
