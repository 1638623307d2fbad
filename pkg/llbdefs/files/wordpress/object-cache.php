<?php
/*
 * Inception Redis object cache: the wp-content/object-cache.php drop-in.
 *
 * wordpress-entrypoint puts this file into the site when WP_REDIS_HOST is set
 * (host:port of the stack's redis service) and takes it out again when it is
 * not. WordPress then keeps its object cache (options, query results,
 * transients) in Redis, shared by every php-fpm worker and kept from one
 * request to the next, instead of rebuilding it on every page.
 *
 * When Redis cannot be reached, the cache lives for one request only, as with
 * no drop-in at all: a cache never takes the site down. Values are PHP
 * serialized in a one-element array, so that a cached false is told apart
 * from a miss. Functions this file leaves out (the *_multiple ones, ...) come
 * from WordPress's cache-compat.php, built on the ones below.
 */

defined('ABSPATH') || exit;

function wp_cache_init()
{
    $GLOBALS['wp_object_cache'] = new WP_Object_Cache();
}

function wp_cache_add($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->add($key, $data, $group, (int) $expire);
}

function wp_cache_set($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->set($key, $data, $group, (int) $expire);
}

function wp_cache_replace($key, $data, $group = '', $expire = 0)
{
    return $GLOBALS['wp_object_cache']->replace($key, $data, $group, (int) $expire);
}

function wp_cache_get($key, $group = '', $force = false, &$found = null)
{
    return $GLOBALS['wp_object_cache']->get($key, $group, $force, $found);
}

function wp_cache_delete($key, $group = '')
{
    return $GLOBALS['wp_object_cache']->delete($key, $group);
}

function wp_cache_incr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, (int) $offset, $group);
}

function wp_cache_decr($key, $offset = 1, $group = '')
{
    return $GLOBALS['wp_object_cache']->incr($key, -(int) $offset, $group);
}

function wp_cache_flush()
{
    return $GLOBALS['wp_object_cache']->flush();
}

function wp_cache_flush_runtime()
{
    return $GLOBALS['wp_object_cache']->flush_runtime();
}

function wp_cache_close()
{
    return true;
}

function wp_cache_add_global_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_global_groups((array) $groups);
}

function wp_cache_add_non_persistent_groups($groups)
{
    $GLOBALS['wp_object_cache']->add_non_persistent_groups((array) $groups);
}

function wp_cache_switch_to_blog($blog_id)
{
    $GLOBALS['wp_object_cache']->switch_to_blog((int) $blog_id);
}

function wp_cache_reset()
{
    _deprecated_function(__FUNCTION__, '3.5.0', 'wp_cache_switch_to_blog()');
    return false;
}

class WP_Object_Cache
{
    /** Lookups answered, from this request's copy or from Redis. */
    public $cache_hits = 0;
    /** Lookups that found nothing. */
    public $cache_misses = 0;

    /** @var Redis|null null: no Redis, this request's cache only */
    private $redis = null;
    private $cache = [];
    private $global_groups = [];
    private $non_persistent_groups = [];
    private $blog_prefix = '';
    /** Keeps two sites sharing one Redis apart. */
    private $salt;

    public function __construct()
    {
        $this->salt = DB_NAME . ':' . $GLOBALS['table_prefix'];
        $this->blog_prefix = is_multisite() ? get_current_blog_id() . ':' : '';
        $this->connect();
    }

    private function connect(): void
    {
        $address = getenv('WP_REDIS_HOST');
        if (!$address || !class_exists('Redis')) {
            return;
        }
        $host = $address;
        $port = 6379;
        if (preg_match('/^(.*):(\d+)$/', $address, $m)) {
            [$host, $port] = [$m[1], (int) $m[2]];
        }
        try {
            $redis = new Redis();
            // One second at most, to connect and for any reply: a slow
            // cache is no cache.
            $redis->connect($host, $port, 1.0, null, 0, 1.0);
            // From the redis_password secret's file (wp-config.php),
            // never from the environment.
            $password = function_exists('inception_secret') ? inception_secret('redis_password') : '';
            if ($password !== '') {
                $redis->auth($password);
            }
            $redis->ping();
            $this->redis = $redis;
        } catch (RedisException $e) {
            $this->lost($e);
        }
    }

    /** Drops Redis for the rest of the request, once, with a reason in the log. */
    private function lost(Throwable $e): void
    {
        $this->redis = null;
        error_log('object-cache: Redis at ' . getenv('WP_REDIS_HOST') . ' unavailable, caching per request: ' . $e->getMessage());
    }

    /** Runs one Redis command; null when there is no Redis (any more). */
    private function call(string $command, ...$args)
    {
        if ($this->redis === null) {
            return null;
        }
        try {
            return $this->redis->$command(...$args);
        } catch (RedisException $e) {
            $this->lost($e);
            return null;
        }
    }

    private function key($key, string $group): string
    {
        $prefix = isset($this->global_groups[$group]) ? '' : $this->blog_prefix;
        return "{$this->salt}:{$prefix}{$group}:{$key}";
    }

    private function persistent(string $group): bool
    {
        return $this->redis !== null && !isset($this->non_persistent_groups[$group]);
    }

    /** Objects are copied in and out, as WordPress's own cache does. */
    private static function copy($data)
    {
        return is_object($data) ? clone $data : $data;
    }

    public function get($key, $group = '', $force = false, &$found = null)
    {
        $group = $group ?: 'default';
        $k = $this->key($key, $group);
        if (!$force && array_key_exists($k, $this->cache)) {
            $found = true;
            $this->cache_hits++;
            return self::copy($this->cache[$k]);
        }
        if ($this->persistent($group)) {
            $raw = $this->call('get', $k);
            if (is_string($raw)) {
                $value = @unserialize($raw);
                if (is_array($value) && array_key_exists(0, $value)) {
                    $this->cache[$k] = $value[0];
                    $found = true;
                    $this->cache_hits++;
                    return self::copy($value[0]);
                }
            }
        }
        $found = false;
        $this->cache_misses++;
        return false;
    }

    public function set($key, $data, $group = '', $expire = 0)
    {
        $group = $group ?: 'default';
        $k = $this->key($key, $group);
        $this->cache[$k] = self::copy($data);
        if ($this->persistent($group)) {
            $raw = serialize([$data]);
            $this->call('set', $k, $raw, $expire > 0 ? ['ex' => $expire] : null);
        }
        return true;
    }

    public function add($key, $data, $group = '', $expire = 0)
    {
        if (wp_suspend_cache_addition()) {
            return false;
        }
        $this->get($key, $group, false, $found);
        return $found ? false : $this->set($key, $data, $group, $expire);
    }

    public function replace($key, $data, $group = '', $expire = 0)
    {
        $this->get($key, $group, false, $found);
        return $found ? $this->set($key, $data, $group, $expire) : false;
    }

    public function delete($key, $group = '')
    {
        $group = $group ?: 'default';
        $k = $this->key($key, $group);
        $existed = array_key_exists($k, $this->cache);
        unset($this->cache[$k]);
        if ($this->persistent($group)) {
            $existed = ((int) $this->call('del', $k)) > 0 || $existed;
        }
        return $existed;
    }

    public function incr($key, int $offset, $group = '')
    {
        $value = $this->get($key, $group, false, $found);
        if (!$found) {
            return false;
        }
        $value = max(0, (is_numeric($value) ? (int) $value : 0) + $offset);
        $this->set($key, $value, $group);
        return $value;
    }

    /** Empties the whole cache: the stack's Redis serves this site only. */
    public function flush()
    {
        $this->cache = [];
        $this->call('flushDb');
        return true;
    }

    public function flush_runtime()
    {
        $this->cache = [];
        return true;
    }

    public function add_global_groups(array $groups): void
    {
        $this->global_groups += array_fill_keys($groups, true);
    }

    public function add_non_persistent_groups(array $groups): void
    {
        $this->non_persistent_groups += array_fill_keys($groups, true);
    }

    public function switch_to_blog(int $blog_id): void
    {
        $this->blog_prefix = is_multisite() ? $blog_id . ':' : '';
    }
}
