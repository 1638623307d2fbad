package llbdefs

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the nginx tests look for.
const (
	nginxInstallName = "nginx: install packages"
	nginxTidyName    = "nginx: drop default site, logs to stdout/stderr"
	nginxConfigName  = "nginx: config and entrypoint"
	nginxMergeName   = "nginx: add config layer"
)

type nginxCase struct {
	name        string
	distro      Distro
	wantRef     string
	wantTini    string
	wantConfDir string
	wantSite    string
	wantInstall installWant
}

// nginxPackages are the image's packages on every distro.
var nginxPackages = []string{"nginx", "openssl", "tini", "curl"}

func nginxCases() []nginxCase {
	return []nginxCase{
		{
			name:        "debian",
			distro:      Debian(),
			wantRef:     "docker.io/library/debian:bookworm",
			wantTini:    "/usr/bin/tini",
			wantConfDir: "/etc/nginx/conf.d",
			wantSite:    "/etc/nginx/sites-enabled/default",
			wantInstall: installWant{command: aptInstall, pkgs: nginxPackages, caches: aptCaches("nginx")},
		},
		{
			name:        "alpine",
			distro:      Alpine(),
			wantRef:     "docker.io/library/alpine:3.23",
			wantTini:    "/sbin/tini",
			wantConfDir: "/etc/nginx/http.d",
			wantSite:    "/etc/nginx/http.d/default.conf",
			wantInstall: installWant{command: apkInstall, pkgs: nginxPackages},
		},
	}
}

func TestNginxGraph(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "nginx", img.Name)
			g := marshalGraph(t, img)

			// The result merges the package chain with a config layer that
			// does not depend on the install.
			lower := checkLayeredGraph(t, g, tc.distro.Family(), layeredWant{
				image: "nginx", ref: tc.wantRef, install: tc.wantInstall,
				lowerName: nginxTidyName, configName: nginxConfigName, mergeName: nginxMergeName,
				files: map[string]int32{
					"/usr/local/bin/nginx-entrypoint":            0o755,
					"/etc/nginx/inception/server.conf.template":  0o644,
					"/etc/nginx/inception/adminer.conf.template": 0o644,
					"/etc/nginx/inception/static.conf.template":  0o644,
					path.Join(tc.wantConfDir, "inception.conf"):  0o644,
				},
			})

			tidy := g.ops[lower].GetFile()
			require.NotNil(t, tidy)
			var removed []string
			for _, a := range tidy.Actions {
				if rm := a.GetRm(); rm != nil {
					removed = append(removed, rm.Path)
				}
			}
			assert.Contains(t, removed, tc.wantSite, "no port 80 server")
		})
	}
}

func TestNginxImageConfig(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(WithDistro(tc.distro))
			require.NoError(t, err)
			checkImageConfig(t, img, configWant{
				entrypoint: []string{tc.wantTini, "--", "/usr/local/bin/nginx-entrypoint"},
				cmd:        []string{"nginx", "-g", "daemon off;"},
				env: []string{
					"DOMAIN_NAME=localhost",
					"WORDPRESS_UPSTREAM=wordpress:9000",
					"ADMINER_UPSTREAM=adminer:9000",
					"STATIC_UPSTREAM=static:8080",
				},
				ports:      []string{"443/tcp"},
				volumes:    []string{"/var/www/html"},
				workDir:    "/",
				stopSignal: "SIGQUIT",
				baseRef:    tc.wantRef,
				health:     serviceHealth(3*time.Second, 5*time.Second, "CMD", "curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health"),
			})
		})
	}
}

// TestNginxFileChangeRebuildsOnlyConfig changes one embedded file at a time:
// only the config layer and the merge on top may change, never the install.
func TestNginxFileChangeRebuildsOnlyConfig(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "nginx", tc.distro,
				[]string{"nginx-entrypoint", "server.conf.template", "adminer.conf.template", "static.conf.template", "inception.conf"},
				nginxConfigName, nginxMergeName)
		})
	}
}

// TestNginxFiles checks the embedded files for what the image promises;
// nginx itself checks the rendered config at start (nginx -t).
func TestNginxFiles(t *testing.T) {
	checkFileTexts(t, "nginx", []fileWant{
		{
			name: "server template",
			file: "server.conf.template",
			want: []string{
				"listen 443 ssl default_server;",
				"listen [::]:443 ssl default_server;",
				"server_name @DOMAIN_NAME@;",
				"ssl_protocols TLSv1.2 TLSv1.3;",
				"ssl_prefer_server_ciphers off;",
				"root /var/www/html;",
				"index index.php index.html;",
				`location ~ \.php$`,
				"include fastcgi_params;",
				"fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;",
				"fastcgi_param HTTP_HOST $http_host;",
				"fastcgi_pass @WORDPRESS_UPSTREAM@;",
				"location = /nginx-health",
				`return 200 "ok\n";`,
				"access_log /dev/stdout;",
				"error_log /dev/stderr;",
				"absolute_redirect off;",
				"client_max_body_size 32m;",
				"include /etc/nginx/inception/server.d/*.conf;",
				`location ~ /\.(?!well-known/)`,
				`location ~* ^/wp-content/uploads/.*\.php$`,
			},
			deny: []string{"listen 80", "TLSv1.1", "TLSv1 ", "ssl_prefer_server_ciphers on", "@ADMINER_UPSTREAM@"},
		},
		{
			name: "adminer location",
			file: "adminer.conf.template",
			want: []string{
				"location = /adminer {",
				"return 301 /adminer/;",
				"location ^~ /adminer/ {",
				"include fastcgi_params;",
				"fastcgi_param SCRIPT_FILENAME /var/www/adminer/index.php;",
				"fastcgi_param HTTP_HOST $http_host;",
				"fastcgi_pass @ADMINER_UPSTREAM@;",
			},
			deny: []string{"server {", "root "},
		},
		{
			name: "include",
			file: "inception.conf",
			want: []string{"include /etc/nginx/inception/server.conf;"},
		},
		{
			name: "entrypoint",
			file: "nginx-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"/run/secrets/tls_cert",
				"/run/secrets/tls_key",
				`-subj "/CN=$DOMAIN_NAME"`,
				"DNS:$DOMAIN_NAME,DNS:localhost,IP:127.0.0.1",
				"/etc/nginx/inception/server.conf.template",
				"/etc/nginx/inception/adminer.conf.template",
				"ADMINER_UPSTREAM=${ADMINER_UPSTREAM-adminer:9000}",
				`check_upstream ADMINER_UPSTREAM "$ADMINER_UPSTREAM"`,
				`rm -f "$server_d/adminer.conf"`,
				"nginx -t",
				"set -- nginx -g 'daemon off;'",
				`exec "$@"`,
			},
			deny: []string{"envsubst", "cat /run/secrets", "set -x"},
		},
	})
}

// TestNginxCiphers: forward secrecy and AEAD only for TLS 1.2.
func TestNginxCiphers(t *testing.T) {
	dt, err := nginxFiles.ReadFile("files/nginx/server.conf.template")
	require.NoError(t, err)
	var ciphers []string
	for line := range strings.Lines(string(dt)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ssl_ciphers "); ok {
			require.Nil(t, ciphers, "one ssl_ciphers line")
			ciphers = strings.Split(strings.TrimSuffix(v, ";"), ":")
		}
	}
	require.NotEmpty(t, ciphers)
	for _, c := range ciphers {
		assert.True(t, strings.HasPrefix(c, "ECDHE-"), "%s: no forward secrecy", c)
		assert.True(t, strings.Contains(c, "-GCM-") || strings.HasSuffix(c, "-CHACHA20-POLY1305"), "%s: not AEAD", c)
	}
}
