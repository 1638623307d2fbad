<?php
/*
 * wordpress-setup: run by wordpress-entrypoint, as root, before php-fpm
 * starts. Waits for the database, then either installs the site (first
 * start: the site, its administrator and a second user) or, when the image
 * brought a newer WordPress, upgrades the database tables. A start with
 * everything in place changes nothing.
 *
 * Environment: the database and the site's address through wp-config.php;
 * WP_TITLE, WP_ADMIN_USER, WP_ADMIN_EMAIL, WP_USER, WP_USER_EMAIL (first
 * start only); WORDPRESS_DB_WAIT, seconds to wait for the database (120).
 * Secrets: /run/secrets/wp_admin_password, /run/secrets/wp_user_password.
 * Passwords are read from the secret files only, never from the environment.
 */

const SECRETS_DIR = '/run/secrets';
const DOCROOT = '/var/www/html/';

function say(string $msg): void
{
    fwrite(STDERR, "wordpress-setup: $msg\n");
}

function fail(string $msg): never
{
    say($msg);
    exit(1);
}

function env(string $name, ?string $default = null): string
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            fail("$name is not set: the first start installs the site and needs it");
        }
        return $default;
    }
    return $value;
}

function secret(string $name): string
{
    $file = SECRETS_DIR . "/$name";
    $value = is_readable($file) ? file_get_contents($file) : false;
    if ($value === false) {
        fail("no secret $name: mount it at $file");
    }
    $value = rtrim($value, "\r\n");
    if ($value === '') {
        fail("secret $name is empty");
    }
    return $value;
}

/* Waits until the database accepts the site's credentials. WordPress starts
 * as soon as MariaDB has started, and MariaDB may still be initialising or
 * creating the user, so every error is retried every 100 ms until the
 * deadline, and the last one is reported. */
function wait_for_database(int $timeout): mysqli
{
    $host = DB_HOST;
    $port = 3306;
    if (preg_match('/^(.*):(\d+)$/', $host, $m)) {
        [$host, $port] = [$m[1], (int) $m[2]];
    }
    mysqli_report(MYSQLI_REPORT_OFF);
    $deadline = time() + $timeout;
    for ($try = 1; ; $try++) {
        $link = @mysqli_connect($host, DB_USER, DB_PASSWORD, DB_NAME, $port);
        if ($link) {
            if ($try > 1) {
                say("database $host:$port ready");
            }
            return $link;
        }
        $error = mysqli_connect_error();
        if (time() >= $deadline) {
            fail("database " . DB_NAME . " on $host:$port not ready after {$timeout}s: $error");
        }
        if ($try === 1) {
            say("waiting for database $host:$port: $error");
        }
        usleep(100000);
    }
}

/* The administrator's name must not say what it is. */
function check_admin_name(string $name): void
{
    if (stripos($name, 'admin') !== false) {
        fail("WP_ADMIN_USER '$name' must not contain 'admin' (nor Admin, administrator, ...)");
    }
}

// No mail server in the stack: the "new site" mail would only log an error.
// (WordPress defines this one only when nobody did before.)
function wp_new_blog_notification($blog_title, $blog_url, $user_id, $password)
{
}

define('INCEPTION_SETTINGS_ONLY', true);
require '/var/www/wp-config.php';

// The request WordPress believes it is serving: the site's own address.
$home = parse_url(WP_HOME);
$_SERVER['HTTP_HOST'] = $home['host'] . (isset($home['port']) ? ':' . $home['port'] : '');
$_SERVER['SERVER_NAME'] = $home['host'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['HTTPS'] = 'on';

$link = wait_for_database((int) env('WORDPRESS_DB_WAIT', '120'));

// The common case, every start but the first: the site is installed and
// its tables are as new as this WordPress. Said by one query, without
// loading WordPress (about a second of PHP compilation).
require ABSPATH . 'wp-includes/version.php';
$row = false;
if ($res = mysqli_query($link, "SELECT option_value FROM `{$table_prefix}options` WHERE option_name = 'db_version'")) {
    $row = mysqli_fetch_row($res);
}
mysqli_close($link);
if ($row && (int) $row[0] >= (int) $wp_db_version) {
    say("WordPress $wp_version already installed");
    exit(0);
}

define('WP_INSTALLING', true);
// What wp-config.php does when WordPress loads it.
require ABSPATH . 'wp-settings.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

// The stack has no internet: no request leaves during setup (wp_install
// probes the site over HTTP to decide on pretty permalinks).
add_filter('pre_http_request', fn() => new WP_Error('inception_offline', 'no HTTP during setup'));

if (is_blog_installed()) {
    global $wp_db_version;
    if ((int) get_option('db_version') < (int) $wp_db_version) {
        wp_upgrade();
        wp_cache_flush();
        say("database upgraded to WordPress " . get_bloginfo('version'));
    } else {
        say("WordPress " . get_bloginfo('version') . " already installed");
    }
    exit(0);
}

// Every input of a first install is checked before anything is written.
$admin = env('WP_ADMIN_USER');
$admin_email = env('WP_ADMIN_EMAIL');
$user = env('WP_USER');
$user_email = env('WP_USER_EMAIL');
check_admin_name($admin);
if (strcasecmp($admin, $user) === 0) {
    fail("WP_USER must differ from WP_ADMIN_USER ('$admin')");
}
foreach (['WP_ADMIN_USER' => $admin, 'WP_USER' => $user] as $name => $login) {
    if (sanitize_user($login, true) !== $login) {
        fail("$name '$login': use letters, digits, space, _ . - @ only");
    }
}
foreach (['WP_ADMIN_EMAIL' => $admin_email, 'WP_USER_EMAIL' => $user_email] as $name => $email) {
    if (!is_email($email)) {
        fail("$name '$email' is not an e-mail address");
    }
}
$admin_password = secret('wp_admin_password');
$user_password = secret('wp_user_password');

$result = wp_install(env('WP_TITLE', 'Inception'), $admin, $admin_email, true, '', wp_slash($admin_password));
if (is_wp_error($result['user_id'] ?? null)) {
    fail("install: " . $result['user_id']->get_error_message());
}
$id = wp_insert_user(wp_slash([
    'user_login' => $user,
    'user_email' => $user_email,
    'user_pass' => $user_password,
    'role' => 'author',
]));
if (is_wp_error($id)) {
    fail("user $user: " . $id->get_error_message());
}
// nginx sends every path that is not a file to index.php.
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%postname%/');
$wp_rewrite->flush_rules(false);
// Nothing cached before the tables existed may outlive the install.
wp_cache_flush();

say("installed WordPress " . get_bloginfo('version') . " at " . WP_HOME . ": administrator $admin, author $user");
