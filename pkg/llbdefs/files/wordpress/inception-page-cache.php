<?php
/**
 * Plugin Name: Inception page cache
 * Description: Keeps nginx's page cache true: drops the pages a change touches (a post, a comment) or every page on a site-wide change (menu, theme, option, term, plugin).
 *
 * A must-use plugin: the wordpress image's entrypoint copies it into
 * wp-content/mu-plugins at every start.
 *
 * nginx stores pages of anonymous visitors (GET and HEAD, no query string,
 * none of WordPress's log-in, comment-author or post-password cookies) and
 * purges one page on a request to its purge server
 * (http://nginx:8081/purge/<path>), which answers the stack network only.
 * nginx's purge module drops one key at a time, so this plugin keeps the
 * list of the paths nginx may have stored: every such page is rendered here
 * first. The list is a directory of one file per path, in wp-content under
 * a dot name (nginx serves no dot file); a purge of every page walks it.
 *
 * Environment: INCEPTION_PURGE_ADDR, host:port of the purge server
 * (default nginx:8081); empty: no purge, no list.
 */

defined('ABSPATH') || exit;

final class Inception_Page_Cache
{
    /** Paths on the list at most; a new path beyond it is rendered but not stored. */
    const MAX_PATHS = 5000;
    /** Purge requests per connection (nginx closes one after 1000). */
    const BATCH = 200;

    /** @var array<string,bool> paths to purge at the end of this request */
    private static $paths = array();
    /** @var bool purge every page at the end of this request */
    private static $all = false;
    /** @var string the list entry this request made, if any */
    private static $recorded = '';

    public static function addr()
    {
        $addr = getenv('INCEPTION_PURGE_ADDR');
        return $addr === false ? 'nginx:8081' : $addr;
    }

    public static function dir()
    {
        return WP_CONTENT_DIR . '/.inception-page-cache';
    }

    /**
     * Puts the request's path on the list when nginx may store its answer,
     * with the same rules as nginx's (over-recording costs only a purge).
     * When the list is full the answer says nginx must not store it.
     */
    public static function record()
    {
        if (PHP_SAPI === 'cli' || self::addr() === '') {
            return;
        }
        $method = isset($_SERVER['REQUEST_METHOD']) ? $_SERVER['REQUEST_METHOD'] : '';
        $uri = isset($_SERVER['REQUEST_URI']) ? $_SERVER['REQUEST_URI'] : '';
        if (($method !== 'GET' && $method !== 'HEAD') || $uri === '' || $uri[0] !== '/' || strpos($uri, '?') !== false) {
            return;
        }
        foreach (array_keys($_COOKIE) as $name) {
            if (preg_match('/^(wordpress_logged_in_|wordpress_sec_|comment_author_|wp-postpass_|wordpress_no_cache)/', $name)) {
                return;
            }
        }
        if (preg_match('#^/(wp-admin|wp-json)(/|$)#', $uri)) {
            return;
        }
        $dir = self::dir();
        $file = $dir . '/' . md5($uri);
        if (is_file($file)) {
            return;
        }
        if (!is_dir($dir) && !@mkdir($dir, 0700) && !is_dir($dir)) {
            header('X-Accel-Expires: 0');
            return;
        }
        $list = @scandir($dir);
        $n = is_array($list) ? count($list) - 2 : self::MAX_PATHS;
        if ($n >= self::MAX_PATHS || @file_put_contents($file, $uri, LOCK_EX) === false) {
            // Not on the list, so nginx must not keep it: a purge of every
            // page would miss it.
            header('X-Accel-Expires: 0');
            return;
        }
        self::$recorded = $file;
    }

    /** Takes the request's path off the list again when nginx does not store its answer (only 200, 301 and 302 are). */
    public static function unrecord()
    {
        if (self::$recorded !== '' && !in_array(http_response_code(), array(200, 301, 302), true)) {
            @unlink(self::$recorded);
        }
        self::$recorded = '';
    }

    public static function purge_all()
    {
        self::$all = true;
    }

    public static function purge_path($url)
    {
        $path = wp_parse_url($url, PHP_URL_PATH);
        if (is_string($path) && $path !== '' && $path[0] === '/') {
            self::$paths[$path] = true;
        }
    }

    /** A post's change: every page when it is or was public (lists, feeds, menus and widgets show it). */
    public static function on_post_status($new, $old, $post)
    {
        if ($new !== 'publish' && $old !== 'publish') {
            return;
        }
        // Not pages of the site: revisions, customizer drafts (the
        // customizer's save purges), oEmbed caches WordPress writes while
        // rendering.
        if (in_array($post->post_type, array('revision', 'customize_changeset', 'oembed_cache', 'user_request'), true)) {
            return;
        }
        // The pages a visitor looks at first go first, whatever the list
        // holds: the home page and the post's own page.
        self::purge_path(home_url('/'));
        $link = get_permalink($post);
        if (is_string($link)) {
            self::purge_path($link);
        }
        self::purge_all();
    }

    /** A comment shown or hidden: its post, the home page and the comment feeds. */
    public static function on_comment($comment)
    {
        $comment = get_comment($comment);
        if (!$comment) {
            return;
        }
        $post = (int) $comment->comment_post_ID;
        $link = get_permalink($post);
        if ($link) {
            self::purge_path($link);
            self::purge_path(get_post_comments_feed_link($post));
            // Comment pages: /slug/comment-page-N/ when comments are paged.
            $per = (int) get_option('comments_per_page');
            if (get_option('page_comments') && $per > 0) {
                $count = (int) get_comments(array('post_id' => $post, 'status' => 'approve', 'count' => true, 'parent' => 0));
                $pages = (int) ceil(($count + 1) / $per);
                for ($i = 1; $i <= $pages; $i++) {
                    self::purge_path(trailingslashit($link) . 'comment-page-' . $i . '/');
                }
            }
        }
        self::purge_path(home_url('/'));
        self::purge_path(get_feed_link('comments_' . get_default_feed()));
        self::purge_path(get_feed_link());
    }

    public static function on_comment_status($new, $old, $comment)
    {
        if ($new === 'approved' || $old === 'approved') {
            self::on_comment($comment);
        }
    }

    public static function on_comment_post($id, $approved)
    {
        if ($approved === 1 || $approved === '1') {
            self::on_comment($id);
        }
    }

    public static function on_comment_edit($id)
    {
        $c = get_comment($id);
        if ($c && $c->comment_approved === '1') {
            self::on_comment($c);
        }
    }

    /** Options WordPress rewrites on its own, which no page shows. */
    public static function on_option($name)
    {
        if (preg_match('/^(_site_transient_|_transient_|cron$|doing_cron$|recovery_|recently_|auto_updater|core_updater|auto_core_update|https_detection|can_compress_scripts$|db_upgraded$|finished_|admin_email_lifespan$|wp_force_deactivated_plugins$|rewrite_rules$|user_count$|wp_attachment_pages|theme_switched$|fresh_site$)/', $name)) {
            return;
        }
        self::purge_all();
    }

    /** Sends the purges gathered in this request to nginx's purge server. */
    public static function flush()
    {
        if (!self::$all && !self::$paths) {
            return;
        }
        $dir = self::dir();
        $paths = self::$paths;
        $files = array();
        if (self::$all) {
            foreach ((array) @scandir($dir) as $f) {
                if (preg_match('/^[0-9a-f]{32}$/', (string) $f)) {
                    $p = @file_get_contents($dir . '/' . $f);
                    if (is_string($p) && $p !== '') {
                        $paths[$p] = true;
                        $files[] = $dir . '/' . $f;
                    }
                }
            }
        } else {
            foreach (array_keys($paths) as $p) {
                $files[] = $dir . '/' . md5($p);
            }
        }
        self::$all = false;
        self::$paths = array();
        // Off the list first: a page stored again from now on is on it
        // again. What could not be purged goes back on it.
        foreach ($files as $f) {
            @unlink($f);
        }
        $left = self::send(array_keys($paths));
        if ($left && (is_dir($dir) || @mkdir($dir, 0700))) {
            foreach ($left as $p) {
                @file_put_contents($dir . '/' . md5($p), $p, LOCK_EX);
            }
        }
    }

    /**
     * One connection per batch, the requests pipelined, the last one closing
     * the connection: nginx answers them in order, and reading to the end is
     * all there is to wait for. A purge of a page nginx does not hold
     * answers 404, which is fine.
     *
     * @param string[] $paths
     * @return string[] the paths not purged (the purge server did not answer)
     */
    private static function send(array $paths)
    {
        $addr = self::addr();
        if ($addr === '' || !$paths) {
            return array();
        }
        $host = strtolower((string) wp_parse_url(home_url('/'), PHP_URL_HOST));
        $batches = array_chunk($paths, self::BATCH);
        foreach ($batches as $i => $batch) {
            $conn = @stream_socket_client('tcp://' . $addr, $errno, $errstr, 1.0);
            if (!$conn) {
                error_log("inception page cache: purge server $addr: $errstr");
                return array_merge(...array_slice($batches, $i));
            }
            stream_set_timeout($conn, 5);
            $req = '';
            $last = count($batch) - 1;
            foreach ($batch as $j => $p) {
                $req .= 'GET /purge' . $p . " HTTP/1.1\r\nHost: " . $host . "\r\n" .
                    ($j === $last ? "Connection: close\r\n" : '') . "\r\n";
            }
            fwrite($conn, $req);
            while (!feof($conn)) {
                if (fread($conn, 65536) === false) {
                    break;
                }
                $meta = stream_get_meta_data($conn);
                if ($meta['timed_out']) {
                    error_log("inception page cache: purge server $addr: no answer");
                    break;
                }
            }
            fclose($conn);
        }
        return array();
    }
}

Inception_Page_Cache::record();

add_action('transition_post_status', array('Inception_Page_Cache', 'on_post_status'), 10, 3);
add_action('transition_comment_status', array('Inception_Page_Cache', 'on_comment_status'), 10, 3);
add_action('comment_post', array('Inception_Page_Cache', 'on_comment_post'), 10, 2);
add_action('edit_comment', array('Inception_Page_Cache', 'on_comment_edit'), 10, 1);
add_action('updated_option', array('Inception_Page_Cache', 'on_option'), 10, 1);
add_action('added_option', array('Inception_Page_Cache', 'on_option'), 10, 1);
add_action('deleted_option', array('Inception_Page_Cache', 'on_option'), 10, 1);
// Site-wide changes: every page shows menus, the theme, terms, authors.
foreach (array(
    'wp_update_nav_menu', 'wp_delete_nav_menu', 'switch_theme', 'customize_save_after',
    'activated_plugin', 'deactivated_plugin', 'upgrader_process_complete',
    'created_term', 'edited_term', 'delete_term', 'profile_update', 'deleted_user',
) as $hook) {
    add_action($hook, array('Inception_Page_Cache', 'purge_all'), 10, 0);
}
add_action('shutdown', array('Inception_Page_Cache', 'unrecord'), 999);
add_action('shutdown', array('Inception_Page_Cache', 'flush'), 1000);
