package llbdefs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPHPFPMConfig: what both PHP images rely on in the shared php-fpm
// configuration and health check.
func TestPHPFPMConfig(t *testing.T) {
	files := []fileWant{
		{
			name: "files/php/php-fpm.conf",
			file: "php/php-fpm.conf",
			want: []string{
				"error_log = /proc/self/fd/2",
				"daemonize = no",
				"user = www-data",
				"listen = 9000",
				"ping.path = /fpm-ping",
				"ping.response = pong",
				// Workers get the listed variables only, none of them secret.
				"clear_env = yes",
				"env[WORDPRESS_DB_HOST] = $WORDPRESS_DB_HOST",
				"env[WP_REDIS_HOST] = $WP_REDIS_HOST",
				"env[INCEPTION_PURGE_ADDR] = $INCEPTION_PURGE_ADDR",
				"php_admin_flag[display_errors] = off",
				"security.limit_extensions = .php",
				// The images' environment sets the process count.
				"pm.max_children = ${PHP_FPM_MAX_CHILDREN}",
				"pm.start_servers = ${PHP_FPM_START_SERVERS}",
				"pm.min_spare_servers = ${PHP_FPM_MIN_SPARE_SERVERS}",
				"pm.max_spare_servers = ${PHP_FPM_MAX_SPARE_SERVERS}",
			},
			deny: []string{"listen = /run", "listen = 127.0.0.1", "clear_env = no", "PASSWORD"},
		},
		{
			name: "files/php/php-fpm-ping",
			file: "php/php-fpm-ping",
			want: []string{"#!/bin/sh\n", "set -eu", "SCRIPT_NAME=/fpm-ping", "cgi-fcgi -bind -connect", "*pong*) exit 0"},
		},
	}
	checkFileTexts(t, "wordpress", files)
	for _, f := range files {
		dt, err := wordpressFiles.ReadFile("files/" + f.file)
		require.NoError(t, err)
		same, err := adminerFiles.ReadFile("files/" + f.file)
		require.NoError(t, err)
		assert.Equal(t, dt, same, "both images embed the same %s", f.file)
	}
	// The pool's port is the one the images expose and nginx dials.
	dt, err := wordpressFiles.ReadFile("files/php/php-fpm.conf")
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(dt), "listen = "+strings.TrimSuffix(phpPort, "/tcp")))
}

// TestWordPressSpeedFiles: the page cache plugin, OPcache's settings and
// the entrypoint's part in both.
func TestWordPressSpeedFiles(t *testing.T) {
	checkFileTexts(t, "wordpress", []fileWant{
		{
			name: "page cache plugin",
			file: "wordpress/inception-page-cache.php",
			want: []string{
				"Plugin Name: Inception page cache",
				"defined('ABSPATH') || exit;",
				"'nginx:8081'",
				"'GET /purge'",
				"header('X-Accel-Expires: 0');",
				"add_action('transition_post_status'",
				"add_action('transition_comment_status'",
				"add_action('comment_post'",
				"add_action('updated_option'",
				"'wp_update_nav_menu', 'wp_delete_nav_menu', 'switch_theme'",
				"add_action('shutdown'",
			},
			deny: []string{"curl_", "var_dump", "print_r"},
		},
		{
			name: "opcache",
			file: "wordpress/opcache.ini",
			want: []string{
				"opcache.enable = 1",
				"opcache.memory_consumption = 128",
				"opcache.max_accelerated_files = 20000",
				"opcache.file_cache = /var/www/html/.opcache",
			},
			deny: []string{"opcache.jit = tracing", "opcache.jit_buffer_size"},
		},
		{
			name: "opcache warm-up",
			file: "wordpress/opcache-warm.php",
			want: []string{"opcache_compile_file(", "/wp-content/uploads/", "$i % $parts !== $part"},
		},
		{
			name: "entrypoint",
			file: "wordpress/wordpress-entrypoint",
			want: []string{
				"/usr/local/lib/inception/inception-page-cache.php",
				"wp-content/mu-plugins",
				"/sys/fs/cgroup/cpu.max",
				"/sys/fs/cgroup/memory.max",
				"export PHP_FPM_MAX_CHILDREN PHP_FPM_START_SERVERS PHP_FPM_MIN_SPARE_SERVERS PHP_FPM_MAX_SPARE_SERVERS",
				"-d opcache.enable_cli=1 -d opcache.file_cache_only=1",
				`opcache-warm.php "$docroot" "$part" "$cpus" &`,
				// The file cache in the site's volume, warmed at the
				// lowest priority.
				"opcache_dir=$docroot/.opcache",
				"nice -n 19 $as_workers php",
				`chown -R www-data:www-data "$opcache_dir"`,
				// stock: the distro's php.ini directory alone, the pool
				// of before the tuning, no warm-up.
				"unset PHP_INI_SCAN_DIR",
				"PHP_FPM_MAX_CHILDREN=10",
				`if [ "$tuning" = auto ]; then`,
			},
		},
	})
}
