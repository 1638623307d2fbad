<?php
/*
 * Inception database wait: the wp-content/db.php drop-in.
 *
 * wordpress-entrypoint puts this file into the site at every start (a site's
 * own db.php is left alone). When MariaDB cannot be reached, while it
 * restarts after a crash say, WordPress would answer at once with its
 * "Error establishing a database connection" page. With this drop-in a
 * connection is tried again every 20 ms for up to INCEPTION_DB_WAIT seconds
 * (5 unless wp-config.php says otherwise) before WordPress gives up as it
 * would have: a visitor waits a moment instead of seeing the error. A lost
 * connection is re-made through the same method (wpdb::check_connection),
 * so it waits the same way, and a read cut by the crash is asked again. A
 * connection the crash cuts before WordPress has selected its database is
 * made again too.
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
                if ($this->ready || !$this->lost()) {
                    $this->suppress_errors($suppress);
                    return true;
                }
                // Connected, then the server died before the database was
                // selected: wpdb has recorded "Cannot select database",
                // which would end the request with the database error
                // page. Forget it and connect again.
                $this->error = null;
            }
            usleep(20000);
        }
        $this->suppress_errors($suppress);
        return parent::db_connect($allow_bail);
    }

    /*
     * lost says whether the connection's last error is a lost server:
     * gone away (2006), lost during a query (2013), lost with a system
     * error (2055).
     */
    private function lost()
    {
        return $this->dbh instanceof mysqli && in_array(mysqli_errno($this->dbh), [2006, 2013, 2055], true);
    }

    /*
     * A read that lost its connection in the middle (mariadbd killed under
     * it: error 2013) is asked again once the database is back, as wpdb
     * itself does only for a connection lost before the query (2006).
     * Writes are never asked twice: the first may have been committed.
     */
    public function query($query)
    {
        $result = parent::query($query);
        if ($result === false && $this->dbh instanceof mysqli && mysqli_errno($this->dbh) === 2013
            && preg_match('/^\s*(SELECT|SHOW|DESCRIBE|EXPLAIN)\b/i', (string) $query)
            && $this->check_connection(false)) {
            $result = parent::query($query);
        }
        return $result;
    }
}

$wpdb = new Inception_Wpdb(DB_USER, DB_PASSWORD, DB_NAME, DB_HOST);
