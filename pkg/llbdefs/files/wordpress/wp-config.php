<?php
/*
 * The wordpress image's wp-config.php, at /var/www/wp-config.php: one level
 * above the site, where WordPress looks when the site has none, so it is
 * never in the files volume that nginx (and FTP) share. Nothing secret is
 * written here, and no secret is in any environment: the settings come from
 * the environment php-fpm hands its workers (clear_env = yes, the list in
 * php-fpm.conf), the database password from a secret file
 * (inception_secret).
 *
 * The authentication keys and salts are left undefined on purpose: WordPress
 * then makes random ones on first use and keeps them in its database, so they
 * survive a new container and are never in an image or a file.
 */

function inception_env(string $name, string $default): string
{
    $value = getenv($name);
    return ($value === false || $value === '') ? $default : $value;
}

/* The secret's value from its file: /run/secrets/<name> where this process
 * can read it (root: the entrypoint's setup), else the copy the entrypoint
 * made for php-fpm's workers, which run as www-data and cannot read the
 * runtime's files (0400, the container user's). Empty when there is none:
 * the database then refuses the login, and says so. */
function inception_secret(string $name): string
{
    foreach (['/run/secrets/', '/run/wordpress/secrets/'] as $dir) {
        if (is_readable($dir . $name)) {
            $value = file_get_contents($dir . $name);
            if ($value !== false) {
                return rtrim($value, "\n");
            }
        }
    }
    return '';
}

// The names the mariadb service is configured with.
define('DB_NAME', inception_env('MYSQL_DATABASE', 'wordpress'));
define('DB_USER', inception_env('MYSQL_USER', 'wpuser'));
define('DB_PASSWORD', inception_secret('db_password'));
define('DB_HOST', inception_env('WORDPRESS_DB_HOST', 'mariadb:3306'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';

// The address visitors use, fixed by the stack (DOMAIN_NAME and nginx's
// published HTTPS_PORT), never guessed from a request's Host header.
$inception_port = inception_env('HTTPS_PORT', '443');
define('WP_HOME', 'https://' . inception_env('DOMAIN_NAME', 'localhost') . ($inception_port === '443' ? '' : ":$inception_port"));
define('WP_SITEURL', WP_HOME);
define('FORCE_SSL_ADMIN', true);

// No outbound HTTP, no WP-Cron spawned from page loads, no self-updates: the
// stack has no internet, and WordPress's own loopback and update requests
// would stall page loads waiting for it. Updates come with a new image.
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISALLOW_FILE_EDIT', true);
define('FS_METHOD', 'direct');

define('WP_DEBUG', false);

if (!defined('ABSPATH')) {
    define('ABSPATH', '/var/www/html/');
}
// wordpress-setup reads the settings alone, to wait for the database before
// WordPress loads (WordPress with no database stops with an HTML error page).
if (defined('INCEPTION_SETTINGS_ONLY')) {
    return;
}
require_once ABSPATH . 'wp-settings.php';
