<?php
/*
 * Inception database wait: the wp-content/db.php drop-in.
 *
 * wordpress-entrypoint puts this file into the site at every start (a site's
 * own db.php is left alone). When MariaDB cannot be reached, while it
 * restarts after a crash say, WordPress would answer at once with its
 * "Error establishing a database connection" page. With this drop-in a
 * connection is tried again every 50 ms for up to INCEPTION_DB_WAIT seconds
 * (5 unless wp-config.php says otherwise) before WordPress gives up as it
 * would have: a visitor waits a moment instead of seeing the error. A lost
 * connection is re-made through the same method (wpdb::check_connection),
 * so it waits the same way.
 */

defined('ABSPATH') || exit;

class Inception_Wpdb extends wpdb
{
    public function db_connect($allow_bail = true)
    {
        $wait = defined('INCEPTION_DB_WAIT') ? (float) INCEPTION_DB_WAIT : 5.0;
        $deadline = microtime(true) + $wait;
        $suppress = $this->suppress_errors(true);
        while (microtime(true) < $deadline) {
            if (parent::db_connect(false)) {
                $this->suppress_errors($suppress);
                return true;
            }
            usleep(50000);
        }
        $this->suppress_errors($suppress);
        return parent::db_connect($allow_bail);
    }
}

$wpdb = new Inception_Wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
