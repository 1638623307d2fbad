package llbdefs

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the wordpress tests look for.
const (
	wordpressInstallName = "wordpress: install packages"
	wordpressConfigName  = "wordpress: config, setup and entrypoint"
	wordpressMergeName   = "wordpress: add config layer"
	wordpressLinksName   = "wordpress: php and php-fpm links"
)

type phpImageCase struct {
	name     string
	distro   Distro
	wantTini string
	wantPkgs []string // in the install exec's args
	wantPHP  string   // what /usr/local/bin/php links to
	wantFPM  string   // what /usr/local/sbin/php-fpm links to
}

func wordpressCases() []phpImageCase {
	return []phpImageCase{
		{
			name: "debian", distro: Debian(), wantTini: "/usr/bin/tini",
			wantPkgs: []string{"wordpress", "wordpress-theme-twentytwentythree", "php8.2-fpm", "php", "php8.2-redis", "libfcgi-bin", "tini"},
			wantPHP:  "/usr/bin/php8.2", wantFPM: "/usr/sbin/php-fpm8.2",
		},
		{
			name: "alpine", distro: Alpine(), wantTini: "/sbin/tini",
			wantPkgs: []string{"php84-fpm", "php84-mysqli", "php84-gd", "php84-pecl-redis", "fcgi", "tini"},
			wantPHP:  "/usr/bin/php84", wantFPM: "/usr/sbin/php-fpm84",
		},
	}
}

func TestWordPressGraph(t *testing.T) {
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := WordPress(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "wordpress", img.Name)
			g := marshalGraph(t, img)
			for _, d := range g.order {
				assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
			}

			installDgst, install := g.named(t, wordpressInstallName)
			for _, p := range tc.wantPkgs {
				assert.Contains(t, install.GetExec().Meta.Args, p)
			}
			for _, p := range []string{"apache2", "libapache2-mod-php", "nginx", "mariadb-server", "mariadb-client"} {
				assert.NotContains(t, install.GetExec().Meta.Args, p, "no web server or database in wordpress")
			}

			config := checkMergedConfigLayer(t, g, wordpressMergeName, wordpressConfigName, wordpressInstallName)
			assert.Equal(t, map[string]int32{
				"/usr/local/bin/wordpress-entrypoint":          0o755,
				"/usr/local/lib/inception/wordpress-setup.php": 0o644,
				"/usr/local/lib/inception/object-cache.php":    0o644,
				"/var/www/wp-config.php":                       0o644,
				"/etc/inception/php-fpm.conf":                  0o644,
				"/usr/local/bin/php-fpm-ping":                  0o755,
			}, layerFiles(t, g, config))

			linksDgst, links := g.named(t, wordpressLinksName)
			assert.True(t, g.ancestors(linksDgst)[installDgst], "links to what the install brought")
			targets := map[string]string{}
			for _, a := range links.GetFile().Actions {
				if l := a.GetSymlink(); l != nil {
					targets[l.Newpath] = l.Oldpath
				}
			}
			assert.Equal(t, map[string]string{"/usr/local/bin/php": tc.wantPHP, "/usr/local/sbin/php-fpm": tc.wantFPM}, targets)

			switch tc.distro.Family() {
			case FamilyDebian:
				// The stand-ins come before the install, or apt pulls in
				// Apache and the mysql client.
				standinsDgst, standins := g.named(t, "wordpress: install stand-ins for apache2 and the mysql client")
				assert.True(t, g.ancestors(installDgst)[standinsDgst], "stand-ins installed before wordpress")
				assert.Contains(t, strings.Join(standins.GetExec().Meta.Args, " "), "dpkg -i")
				treeDgst, tree := g.named(t, "wordpress: WordPress tree without symlinks")
				assert.True(t, g.ancestors(treeDgst)[installDgst])
				script := strings.Join(tree.GetExec().Meta.Args, " ")
				assert.Contains(t, script, "cp -RL /usr/share/wordpress /usr/src/wordpress")
				assert.Contains(t, script, "rm -f /usr/src/wordpress/wp-config.php")
			case FamilyAlpine:
				_, src := g.named(t, "wordpress: download "+wordpressAlpineURL)
				require.NotNil(t, src.GetSource())
				assert.Equal(t, wordpressAlpineURL, src.GetSource().Identifier)
				assert.Equal(t, string(wordpressAlpineSHA256), src.GetSource().Attrs[pb.AttrHTTPChecksum], "the download is pinned")
				_, unpack := g.named(t, "wordpress: unpack WordPress into /usr/src/wordpress")
				assert.Contains(t, strings.Join(unpack.GetExec().Meta.Args, " "), "tar -xzof /release/wordpress.tar.gz -C /usr/src")
				_, user := g.named(t, "wordpress: www-data user")
				assert.Contains(t, strings.Join(user.GetExec().Meta.Args, " "), "adduser -S -D -H -u 82 -G www-data")
			}
		})
	}
}

func TestWordPressImageConfig(t *testing.T) {
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := WordPress(WithDistro(tc.distro))
			require.NoError(t, err)
			dt, err := img.ConfigJSON()
			require.NoError(t, err)
			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config
			assert.Equal(t, []string{tc.wantTini, "--", "/usr/local/bin/wordpress-entrypoint"}, c.Entrypoint)
			assert.Equal(t, []string{"/usr/local/sbin/php-fpm", "--nodaemonize", "--force-stderr", "--fpm-config", "/etc/inception/php-fpm.conf"}, c.Cmd)
			assert.Subset(t, c.Env, []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"DOMAIN_NAME=localhost",
				"HTTPS_PORT=443",
				"WORDPRESS_DB_HOST=mariadb:3306",
				"MYSQL_DATABASE=wordpress",
				"MYSQL_USER=wpuser",
				"WP_TITLE=Inception",
			})
			for _, e := range c.Env {
				assert.NotContains(t, strings.ToLower(e), "password", "no password in the image config")
			}
			assert.Equal(t, map[string]struct{}{"9000/tcp": {}}, c.ExposedPorts)
			assert.Equal(t, map[string]struct{}{"/var/www/html": {}}, c.Volumes)
			assert.Equal(t, "/var/www/html", c.WorkingDir)
			assert.Equal(t, "SIGQUIT", c.StopSignal)
			assert.Equal(t, "wordpress", c.Labels["org.opencontainers.image.title"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, dockerspec.HealthcheckConfig{
				Test:          []string{"CMD", "/usr/local/bin/php-fpm-ping"},
				Interval:      5 * time.Second,
				Timeout:       3 * time.Second,
				StartPeriod:   30 * time.Second,
				StartInterval: 200 * time.Millisecond,
				Retries:       3,
			}, *c.Healthcheck)
		})
	}
}

// TestWordPressFileChangeRebuildsOnlyConfig: changing a config file, the
// setup script, the entrypoint or a shared php-fpm file changes the config
// layer and the merge only, never the install; the stand-in package's
// control file is part of the package chain and changes it.
func TestWordPressFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(wordpressFiles, "files")
	require.NoError(t, err)
	build := func(fsys fs.FS, d Distro) graph {
		img, err := wordpress(fsys, WithDistro(d))
		require.NoError(t, err)
		return marshalGraph(t, img)
	}
	files := []string{
		"wordpress/wordpress-entrypoint", "wordpress/wordpress-setup.php", "wordpress/wp-config.php",
		"wordpress/object-cache.php", "php/php-fpm.conf", "php/php-fpm-ping",
	}
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkOnlyConfigChanges(t, build, embedded, tc.distro, files, wordpressConfigName, wordpressMergeName)
		})
	}

	t.Run("stand-ins control file", func(t *testing.T) {
		modified := copyFS(t, embedded)
		modified["wordpress/standins.control"].Data = append(modified["wordpress/standins.control"].Data, " more\n"...)
		before, after := build(embedded, Debian()), build(modified, Debian())
		b, _ := before.named(t, wordpressInstallName)
		a, _ := after.named(t, wordpressInstallName)
		assert.NotEqual(t, b, a, "the install sits on the stand-ins")
		b, _ = before.named(t, wordpressConfigName)
		a, _ = after.named(t, wordpressConfigName)
		assert.Equal(t, b, a, "the config layer does not")
	})
}

func TestWordPressMissingFile(t *testing.T) {
	embedded, err := fs.Sub(wordpressFiles, "files")
	require.NoError(t, err)
	for _, missing := range []string{"wordpress/wp-config.php", "php/php-fpm.conf", "wordpress/standins.control"} {
		t.Run(missing, func(t *testing.T) {
			fsys := copyFS(t, embedded)
			delete(fsys, missing)
			_, err := wordpress(fsys)
			require.ErrorIs(t, err, ErrMissingFile)
			assert.Contains(t, err.Error(), missing)
		})
	}
}

// TestWordPressFiles checks the embedded files for what the image promises;
// the integration test runs them.
func TestWordPressFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
		deny []string
	}{
		{
			name: "wp-config",
			file: "wp-config.php",
			want: []string{
				"inception_env('MYSQL_DATABASE', 'wordpress')",
				"inception_env('MYSQL_USER', 'wpuser')",
				"inception_env('WORDPRESS_DB_PASSWORD', '')",
				"inception_env('HTTPS_PORT', '443')",
				"define('WP_HTTP_BLOCK_EXTERNAL', true);",
				"define('DISABLE_WP_CRON', true);",
				"define('AUTOMATIC_UPDATER_DISABLED', true);",
				"define('FORCE_SSL_ADMIN', true);",
				"define('ABSPATH', '/var/www/html/');",
				"if (defined('INCEPTION_SETTINGS_ONLY'))",
			},
			// Keys and salts are made by WordPress and kept in the database.
			deny: []string{"AUTH_KEY", "put your unique phrase here", "HTTP_HOST"},
		},
		{
			name: "setup",
			file: "wordpress-setup.php",
			want: []string{
				"stripos($name, 'admin') !== false",
				"secret('wp_admin_password')",
				"secret('wp_user_password')",
				"'role' => 'author'",
				"wp_install(",
				"wp_upgrade();",
				"is_blog_installed()",
				"pre_http_request",
				"wp_cache_flush();",
			},
			deny: []string{"getenv('WP_ADMIN_PASSWORD')", "var_dump", "print_r"},
		},
		{
			name: "entrypoint",
			file: "wordpress-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"/run/secrets/db_password",
				"tar --exclude=./wp-content",
				`cp -Rn "$src/wp-content/." "$docroot/wp-content/"`,
				"chown -R www-data:www-data",
				"php /usr/local/lib/inception/wordpress-setup.php",
				"WP_REDIS_HOST",
				`exec "$@"`,
			},
			deny: []string{"set -x", "echo \"$WORDPRESS_DB_PASSWORD"},
		},
		{
			name: "object cache",
			file: "object-cache.php",
			want: []string{
				"Inception Redis object cache", // the entrypoint's marker
				"function wp_cache_init()",
				"class WP_Object_Cache",
				"getenv('WP_REDIS_HOST')",
				"catch (RedisException $e)",
			},
		},
		{
			name: "stand-ins",
			file: "standins.control",
			want: []string{"Package: inception-wordpress-standins\n", "Provides: httpd, virtual-mysql-client\n", "Architecture: all\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := wordpressFiles.ReadFile("files/wordpress/" + tc.file)
			require.NoError(t, err)
			text := string(dt)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, d := range tc.deny {
				assert.NotContains(t, text, d)
			}
		})
	}
}

func TestWordPressGolden(t *testing.T) {
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := WordPress(WithDistro(tc.distro))
			require.NoError(t, err)
			g := marshalGraph(t, img)
			checkGolden(t, "wordpress-"+tc.name, g.summary("wordpress on "+tc.distro.Name()))
		})
	}
}
