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

// nginxPackages are the image's packages on each distro: the cache purge
// module's package is named differently.
var (
	nginxPackages       = []string{"nginx", "libnginx-mod-http-cache-purge", "openssl", "tini", "curl"}
	nginxAlpinePackages = []string{"nginx", "nginx-mod-http-cache-purge", "openssl", "tini", "curl"}
)

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
			wantInstall: installWant{command: apkInstall, pkgs: nginxAlpinePackages},
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
					"/etc/nginx/inception/page-cache.conf":       0o644,
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
					"NGINX_PAGE_CACHE=1",
				},
				ports:      []string{"443/tcp"},
				volumes:    []string{"/var/www/html"},
				workDir:    "/",
				stopSignal: "SIGQUIT",
				baseRef:    tc.wantRef,
				health:     serviceHealth(3*time.Second, 30*time.Second, "CMD", "curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health"),
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
				"listen 443 ssl http2 default_server;",
				"listen [::]:443 ssl http2 default_server;",
				"ssl_session_cache shared:",
				"gzip on;",
				"fastcgi_cache_path /tmp/nginx-page-cache ",
				"max_size=",
				"fastcgi_cache_key $scheme$host$request_uri;",
				"wordpress_logged_in_|", "comment_author_|", "wp-postpass_|",
				`"~^/wp-admin(/|$)" 1;`, `"~^/wp-json(/|$)" 1;`, "wp-login|xmlrpc|", `"~/admin-ajax\.php" 1;`, `"~[?]" 1;`,
				"include /run/nginx/inception/page-cache.d/*.conf;",
				// The purge server: its own port, the stack network only.
				"listen 8081;",
				"include /run/nginx/inception/purge-allow.conf;",
				"fastcgi_cache_purge inception_pages https$host$inception_purge_uri;",
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
				"include /run/nginx/inception/server.d/*.conf;",
				`location ~ /\.(?!well-known/)`,
				`location ~* ^/wp-content/uploads/.*\.php$`,
			},
			deny: []string{"listen 80;", "listen 443 ssl default", "TLSv1.1", "TLSv1 ", "ssl_prefer_server_ciphers on", "@ADMINER_UPSTREAM@"},
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
			name: "page cache",
			file: "page-cache.conf",
			want: []string{
				"fastcgi_cache inception_pages;",
				"fastcgi_cache_bypass $inception_skip_cache;",
				"fastcgi_no_cache $inception_skip_cache;",
				"fastcgi_cache_lock on;",
				"fastcgi_cache_use_stale updating error timeout http_500 http_503;",
				"fastcgi_cache_background_update on;",
				"add_header X-Cache $upstream_cache_status always;",
			},
			// Responses that set cookies must never be stored.
			deny: []string{"fastcgi_ignore_headers", "Set-Cookie"},
		},
		{
			name: "include",
			file: "inception.conf",
			want: []string{
				"include /run/nginx/inception/server.conf;",
				// Nothing under /var/lib/nginx: the root may be read-only.
				"client_body_temp_path /tmp/", "proxy_temp_path /tmp/", "fastcgi_temp_path /tmp/",
				"uwsgi_temp_path /tmp/", "scgi_temp_path /tmp/",
			},
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
				// Everything it writes goes to /run.
				"run_dir=/run/nginx/inception",
				"tls_dir=/run/nginx/tls",
				"ADMINER_UPSTREAM=${ADMINER_UPSTREAM-adminer:9000}",
				`check_upstream ADMINER_UPSTREAM "$ADMINER_UPSTREAM"`,
				`rm -f "$server_d/adminer.conf"`,
				"NGINX_PAGE_CACHE=${NGINX_PAGE_CACHE:-1}",
				`-e "s|@DOMAIN_LOWER@|$DOMAIN_LOWER|g"`,
				`rm -f "$page_cache_d/page-cache.conf"`,
				"</proc/net/route",
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
