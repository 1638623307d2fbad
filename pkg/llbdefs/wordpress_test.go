package llbdefs

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
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

// phpImageCase is a distro's expectations of an image on php-fpm.
type phpImageCase struct {
	name        string
	distro      Distro
	wantRef     string
	wantTini    string
	wantInstall installWant
	wantPHP     string // what /usr/local/bin/php links to
	wantFPM     string // what /usr/local/sbin/php-fpm links to
}

func wordpressCases() []phpImageCase {
	return []phpImageCase{
		{
			name: "debian", distro: Debian(), wantRef: DebianRef, wantTini: "/usr/bin/tini",
			wantInstall: installWant{command: aptInstall, caches: aptCaches("wordpress"), pkgs: []string{
				"wordpress", "wordpress-theme-twentytwentythree", "php8.2-fpm", "php", "php8.2-mbstring", "php8.2-redis", "libfcgi-bin", "tini",
			}},
			wantPHP: "/usr/bin/php8.2", wantFPM: "/usr/sbin/php-fpm8.2",
		},
		{
			name: "alpine", distro: Alpine(), wantRef: AlpineRef, wantTini: "/sbin/tini",
			wantInstall: installWant{command: apkInstall, pkgs: []string{
				"php84", "php84-fpm", "php84-mysqli", "php84-gd", "php84-mbstring", "php84-opcache", "php84-dom", "php84-xml",
				"php84-fileinfo", "php84-exif", "php84-zip", "php84-pecl-redis", "fcgi", "tini",
			}},
			wantPHP: "/usr/bin/php84", wantFPM: "/usr/sbin/php-fpm84",
		},
	}
}

// phpConfigWant is the config both images on php-fpm share, with at most
// maxChildren workers.
func phpConfigWant(tc phpImageCase, maxChildren string) configWant {
	return configWant{
		env: []string{
			"PHP_FPM_MAX_CHILDREN=" + maxChildren,
			"PHP_FPM_START_SERVERS=2",
			"PHP_FPM_MIN_SPARE_SERVERS=1",
			"PHP_FPM_MAX_SPARE_SERVERS=4",
		},
		entrypoint: []string{tc.wantTini, "--"},
		cmd:        []string{"/usr/local/sbin/php-fpm", "--nodaemonize", "--force-stderr", "--fpm-config", "/etc/inception/php-fpm.conf"},
		ports:      []string{"9000/tcp"},
		stopSignal: "SIGQUIT",
		baseRef:    tc.wantRef,
		health:     slowStartHealth(3*time.Second, 30*time.Second, "CMD", "/usr/local/bin/php-fpm-ping"),
	}
}

func TestWordPressGraph(t *testing.T) {
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := WordPress(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "wordpress", img.Name)
			g := marshalGraph(t, img)
			checkVertexNames(t, g)
			checkBase(t, g, "wordpress", tc.wantRef)

			installDgst, install := checkInstall(t, g, "wordpress", tc.distro.Family(), tc.wantInstall)
			for _, p := range []string{"apache2", "libapache2-mod-php", "nginx", "mariadb-server", "mariadb-client"} {
				assert.NotContains(t, install.Meta.Args, p, "no web server or database in wordpress")
			}

			_, config := checkMergedConfigLayer(t, g, wordpressMergeName, wordpressConfigName, wordpressInstallName)
			files := map[string]int32{
				"/usr/local/bin/wordpress-entrypoint":               0o755,
				"/usr/local/lib/inception/wordpress-setup.php":      0o644,
				"/usr/local/lib/inception/object-cache.php":         0o644,
				"/usr/local/lib/inception/db.php":                   0o644,
				"/usr/local/lib/inception/inception-page-cache.php": 0o644,
				"/usr/local/lib/inception/opcache-warm.php":         0o644,
				"/etc/inception/php.d/opcache.ini":                  0o644,
				"/var/www/wp-config.php":                            0o644,
				"/etc/inception/php-fpm.conf":                       0o644,
				"/usr/local/bin/php-fpm-ping":                       0o755,
			}
			if tc.distro.Family() == FamilyDebian {
				// Perl: in every Debian image, in no Alpine one.
				files["/usr/local/bin/holder"] = 0o755
			}
			assert.Equal(t, files, layerFiles(t, g, config))

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
			want := phpConfigWant(tc, "auto")
			want.entrypoint = append(want.entrypoint, "/usr/local/bin/wordpress-entrypoint")
			want.env = append(want.env,
				"DOMAIN_NAME=localhost",
				"HTTPS_PORT=443",
				"WORDPRESS_DB_HOST=mariadb:3306",
				"MYSQL_DATABASE=wordpress",
				"MYSQL_USER=wpuser",
				"WP_TITLE=Inception",
				"PHP_INI_SCAN_DIR=:/etc/inception/php.d",
				"PHP_TUNING=auto",
			)
			want.volumes = []string{"/var/www/html"}
			want.workDir = "/var/www/html"
			checkImageConfig(t, img, want)
		})
	}
}

// TestWordPressFileChangeRebuildsOnlyConfig: changing a config file, the
// setup script, the entrypoint or a shared php-fpm file changes the config
// layer and the merge only, never the install; the stand-in package's
// control file is part of the package chain and changes it.
func TestWordPressFileChangeRebuildsOnlyConfig(t *testing.T) {
	files := []string{
		"wordpress/wordpress-entrypoint", "wordpress/wordpress-setup.php", "wordpress/wp-config.php",
		"wordpress/object-cache.php", "wordpress/db.php", "wordpress/inception-page-cache.php", "wordpress/opcache-warm.php", "wordpress/opcache.ini", "php/php-fpm.conf", "php/php-fpm-ping",
	}
	for _, tc := range wordpressCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "wordpress", tc.distro, withHolder(tc.distro, files...), wordpressConfigName, wordpressMergeName)
		})
	}
	t.Run("alpine: no holder, none of its changes", func(t *testing.T) {
		checkAlpineIgnoresHolder(t, "wordpress", wordpressConfigName)
	})

	t.Run("stand-ins control file", func(t *testing.T) {
		embedded, err := Files("wordpress")
		require.NoError(t, err)
		modified := copyFS(t, embedded)
		modified["wordpress/standins.control"].Data = append(modified["wordpress/standins.control"].Data, " more\n"...)
		before, after := graphFromFiles(t, "wordpress", embedded, Debian()), graphFromFiles(t, "wordpress", modified, Debian())
		b, _ := before.named(t, wordpressInstallName)
		a, _ := after.named(t, wordpressInstallName)
		assert.NotEqual(t, b, a, "the install sits on the stand-ins")
		b, _ = before.named(t, wordpressConfigName)
		a, _ = after.named(t, wordpressConfigName)
		assert.Equal(t, b, a, "the config layer does not")
	})
}

// TestWordPressFiles checks the embedded files for what the image promises;
// the integration test runs them.
func TestWordPressFiles(t *testing.T) {
	checkFileTexts(t, "wordpress", []fileWant{
		{
			name: "wp-config",
			file: "wordpress/wp-config.php",
			want: []string{
				"inception_env('MYSQL_DATABASE', 'wordpress')",
				"inception_env('MYSQL_USER', 'wpuser')",
				"define('DB_PASSWORD', inception_secret('db_password'));",
				"['/run/secrets/', '/run/wordpress/secrets/']",
				"inception_env('HTTPS_PORT', '443')",
				"define('WP_HTTP_BLOCK_EXTERNAL', true);",
				"define('DISABLE_WP_CRON', true);",
				"define('AUTOMATIC_UPDATER_DISABLED', true);",
				"define('FORCE_SSL_ADMIN', true);",
				"define('ABSPATH', '/var/www/html/');",
				"if (defined('INCEPTION_SETTINGS_ONLY'))",
			},
			// Keys and salts are made by WordPress and kept in the database;
			// no password from the environment.
			deny: []string{"AUTH_KEY", "put your unique phrase here", "HTTP_HOST", "PASSWORD')"},
		},
		{
			name: "setup",
			file: "wordpress/wordpress-setup.php",
			want: []string{
				"stripos($name, 'admin') !== false",
				"secret('wp_admin_password')",
				"secret('wp_user_password')",
				"'role' => 'author'",
				"wp_install(",
				"wp_upgrade();",
				"is_blog_installed()",
				"require ABSPATH . 'wp-includes/version.php';",
				"WHERE option_name = 'db_version'",
				"(int) $row[0] >= (int) $wp_db_version",
				"pre_http_request",
				"wp_cache_flush();",
			},
			deny: []string{"getenv('WP_ADMIN_PASSWORD')", "var_dump", "print_r"},
		},
		{
			name: "entrypoint",
			file: "wordpress/wordpress-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"/run/secrets/db_password",
				"worker_secrets=/run/wordpress/secrets",
				`chown root:www-data /run/wordpress "$worker_secrets"`,
				`chmod 0440 "$worker_secrets/$name.tmp"`,
				"INCEPTION_PURGE_ADDR=${INCEPTION_PURGE_ADDR-nginx:8081}",
				`[ "${f##*/}" != wp-content ] || continue`,
				`cp -a "$f" "$docroot/" &`,
				`wait "$p" || {`,
				`cp -Rn "$src/wp-content/." "$docroot/wp-content/"`,
				// A copy a stop cut short is done again.
				"incomplete=$docroot/.inception-copy-incomplete",
				`[ "$want" != "$have" ] || [ -e "$incomplete" ]`,
				`rm -f "$incomplete"`,
				"chown -R www-data:www-data",
				"php /usr/local/lib/inception/wordpress-setup.php",
				"WP_REDIS_HOST",
				// php-fpm under holder where there is Perl (Debian).
				"if [ -x /usr/local/bin/holder ]; then",
				`set -- /usr/local/bin/holder --fpm-port 9000 "$@"`,
				`exec "$@"`,
			},
			// No secret in an environment variable: php-fpm's would hand it
			// to PHP.
			deny: []string{"set -x", "PASSWORD=", "export WORDPRESS_"},
		},
		{
			name: "object cache",
			file: "wordpress/object-cache.php",
			want: []string{
				"Inception Redis object cache", // the entrypoint's marker
				"function wp_cache_init()",
				"class WP_Object_Cache",
				"getenv('WP_REDIS_HOST')",
				"inception_secret('redis_password')",
				"catch (RedisException $e)",
			},
			deny: []string{"getenv('WORDPRESS_REDIS_PASSWORD')"},
		},
		{
			name: "database wait",
			file: "wordpress/db.php",
			want: []string{
				"Inception database wait", // the entrypoint's marker
				"class Inception_Wpdb extends wpdb",
				"parent::db_connect(false)",
				"return parent::db_connect($allow_bail);",
				"$wpdb = new Inception_Wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);",
			},
		},
		{
			name: "holder",
			file: "holder/holder",
			want: []string{
				"#!/usr/bin/perl\n",
				"use strict;",
				// php-fpm's own name for the socket, and its format.
				`":::$port"`, `"0.0.0.0:$port"`, `$ENV{FPM_SOCKETS} = "$key=" . fileno($sock);`,
				"F_SETFD, $fdflags & ~FD_CLOEXEC",
				"setpgid(0, 0);",
				"for my $sig (qw(TERM QUIT INT))",
				"kill 'QUIT', -$group;",
			},
			// perl-base's modules only: no IO::Socket::IP, no Time::HiRes.
			deny: []string{"use IO::Socket", "use Time::HiRes", "system(", "`"},
		},
		{
			name: "stand-ins",
			file: "wordpress/standins.control",
			want: []string{"Package: inception-wordpress-standins\n", "Provides: httpd, virtual-mysql-client\n", "Architecture: all\n"},
		},
	})
}

// TestWordPressHolderPort: holder holds the port php-fpm.conf listens
// on, or php-fpm would make a socket of its own, close the held one, and
// a crash would cost every request again.
func TestWordPressHolderPort(t *testing.T) {
	fsys, err := Files("wordpress")
	require.NoError(t, err)
	conf, err := fs.ReadFile(fsys, "php/php-fpm.conf")
	require.NoError(t, err)
	entrypoint, err := fs.ReadFile(fsys, "wordpress/wordpress-entrypoint")
	require.NoError(t, err)
	listen := regexp.MustCompile(`(?m)^listen = ([0-9]+)$`).FindSubmatch(conf)
	require.NotNil(t, listen, "php-fpm.conf listens on a port of every address (listen = PORT)")
	held := regexp.MustCompile(`holder --fpm-port ([0-9]+) "\$@"`).FindSubmatch(entrypoint)
	require.NotNil(t, held, "the entrypoint runs holder --fpm-port PORT")
	assert.Equal(t, string(listen[1]), string(held[1]))
}
