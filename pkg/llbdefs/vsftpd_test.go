package llbdefs

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the vsftpd tests look for.
const (
	// vsftpdAccountsName is the end of the package chain: /etc/passwd and
	// /etc/shadow made links to /run.
	vsftpdAccountsName = "vsftpd: accounts on /run, nologin in /etc/shells"
	vsftpdConfigName   = "vsftpd: config and scripts"
	vsftpdMergeName    = "vsftpd: add config layer"
)

type vsftpdCase struct {
	name        string
	distro      Distro
	wantRef     string
	wantTini    string
	wantInstall installWant
	wantOwner   string // FTP_OWNER_UID and _GID: the distro's www-data
}

func vsftpdCases() []vsftpdCase {
	return []vsftpdCase{
		{
			name:     "debian",
			distro:   Debian(),
			wantRef:  DebianRef,
			wantTini: "/usr/bin/tini",
			wantInstall: installWant{command: aptInstall, caches: aptCaches("vsftpd"),
				pkgs: []string{"vsftpd", "tini", "openssl", "netcat-openbsd"}},
			wantOwner: "33",
		},
		{
			name:        "alpine",
			distro:      Alpine(),
			wantRef:     AlpineRef,
			wantTini:    "/sbin/tini",
			wantInstall: installWant{command: apkInstall, pkgs: []string{"vsftpd", "tini", "openssl"}},
			wantOwner:   "82",
		},
	}
}

func TestVsftpdGraph(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Vsftpd(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "vsftpd", img.Name)
			// Packages below, the image's own files in a merged layer that
			// does not depend on them: the install is the package chain.
			g := marshalGraph(t, img)
			_, accounts := g.named(t, vsftpdAccountsName)
			script := strings.Join(accounts.GetExec().Meta.Args, " ")
			for _, want := range []string{"cp -p /etc/$f /etc/vsftpd/accounts/$f", "ln -sf /run/vsftpd/etc/$f /etc/$f", `>>/etc/shells`} {
				assert.Contains(t, script, want)
			}
			checkLayeredGraph(t, g, tc.distro.Family(), layeredWant{
				image: "vsftpd", ref: tc.wantRef, install: tc.wantInstall,
				lowerName: vsftpdAccountsName, configName: vsftpdConfigName, mergeName: vsftpdMergeName,
				execs: []string{vsftpdAccountsName},
				files: map[string]int32{
					"/usr/local/bin/vsftpd-entrypoint":  0o755,
					"/usr/local/bin/vsftpd-health":      0o755,
					"/etc/vsftpd/inception/vsftpd.conf": 0o644,
					"/etc/vsftpd/inception/tls.conf":    0o644,
				},
			})
		})
	}
}

func TestVsftpdImageConfig(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Vsftpd(WithDistro(tc.distro))
			require.NoError(t, err)
			ports := []string{"21/tcp"}
			for p := 21100; p <= 21110; p++ {
				ports = append(ports, strconv.Itoa(p)+"/tcp")
			}
			c, _ := checkImageConfig(t, img, configWant{
				entrypoint: []string{tc.wantTini, "--", "/usr/local/bin/vsftpd-entrypoint"},
				cmd:        []string{"vsftpd", "/run/vsftpd/vsftpd.conf"},
				env: []string{
					"FTP_PASV_MIN=21100",
					"FTP_PASV_MAX=21110",
					"FTP_PASV_ADDRESS=127.0.0.1",
					"FTP_TLS=0",
					"FTP_OWNER_UID=" + tc.wantOwner,
					"FTP_OWNER_GID=" + tc.wantOwner,
				},
				ports:      ports,
				volumes:    []string{"/var/www/html"},
				workDir:    "/",
				user:       "", // root: vsftpd binds 21, chroots and switches to the user itself
				stopSignal: "SIGTERM",
				baseRef:    tc.wantRef,
				health: dockerspec.HealthcheckConfig{
					Test:          []string{"CMD", "/usr/local/bin/vsftpd-health"},
					Interval:      30 * time.Second,
					Timeout:       6 * time.Second,
					StartPeriod:   10 * time.Second,
					StartInterval: 2 * time.Second,
					Retries:       3,
				},
			})
			for _, env := range c.Env {
				assert.False(t, strings.HasPrefix(env, "FTP_USER="), "no default login")
			}
			assert.Less(t, c.Healthcheck.Timeout, c.Healthcheck.Interval)
		})
	}
}

// TestVsftpdFileChangeRebuildsOnlyConfig: a change to any of the image's
// own files changes the config layer and the merge, never the install.
func TestVsftpdFileChangeRebuildsOnlyConfig(t *testing.T) {
	for _, tc := range vsftpdCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "vsftpd", tc.distro, []string{"vsftpd-entrypoint", "vsftpd-health", "vsftpd.conf", "tls.conf"},
				vsftpdConfigName, vsftpdMergeName)
		})
	}
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
	checkFileTexts(t, "vsftpd", []fileWant{
		{
			name: "entrypoint",
			file: "vsftpd-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				`password=$(cat "$password_file")`,
				"password_file=/run/secrets/ftp_password",
				`die "missing secret $password_file`,
				// The password reaches openssl on stdin, from a builtin.
				`printf '%s\n' "$password" | openssl passwd -6 -stdin`,
				// The accounts are written to /run, never to /etc.
				"accounts=$run_dir/etc",
				`>>"$accounts/passwd.tmp"`,
				`>>"$accounts/shadow.tmp"`,
				"tls_dir=$run_dir/tls",
				"/etc/shells",
				"/run/secrets/tls_cert",
				"/run/secrets/tls_key",
				"log=/proc/1/fd/1",
				`mkdir -p "$run_dir/empty"`,
				`set -- vsftpd "$conf"`,
				`exec "$@"`,
			},
			denyRe: []*regexp.Regexp{
				regexp.MustCompile(`set -x`),
				regexp.MustCompile(`echo[^\n]*\$password`),
				regexp.MustCompile(`--password|-p "\$password"`),
				regexp.MustCompile(`openssl[^\n]*\$password`),
				regexp.MustCompile(`useradd|chpasswd|>>\s*/etc/`),
				regexp.MustCompile(`tail -f|sleep infinity|while true`),
			},
		},
		{
			name: "health check",
			file: "vsftpd-health",
			want: []string{"#!/bin/sh\n", "set -eu", "nc -w", "127.0.0.1 21", "QUIT", "220*221*"},
			// bash only: dash and busybox sh have no /dev/tcp.
			denyRe: []*regexp.Regexp{regexp.MustCompile(`[<>]\s*/dev/tcp`), regexp.MustCompile(`PASS`), regexp.MustCompile(`#!/bin/bash`)},
		},
	})
}
