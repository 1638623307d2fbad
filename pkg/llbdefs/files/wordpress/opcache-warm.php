<?php
// opcache-warm.php: compiles every PHP file of the site into OPcache's file
// cache (opcache.file_cache), so that php-fpm's first requests load
// compiled scripts instead of compiling them. Run by wordpress-entrypoint
// with the CLI: php -d opcache.enable_cli=1 -d opcache.file_cache_only=1.
// A script already in the file cache, and not changed since, is read from
// it rather than compiled again.
//
// Usage: php opcache-warm.php DIR [PART PARTS]
//
// With PART and PARTS (0 <= PART < PARTS), it compiles one share of the
// files, the PART-th of every PARTS: PARTS processes, one per CPU, warm the
// cache together.

if (PHP_SAPI !== 'cli' || ($argc !== 2 && $argc !== 4)) {
    fwrite(STDERR, "usage: php -d opcache.enable_cli=1 -d opcache.file_cache_only=1 opcache-warm.php DIR [PART PARTS]\n");
    exit(2);
}
$part = $argc === 4 ? (int) $argv[2] : 0;
$parts = $argc === 4 ? (int) $argv[3] : 1;
if ($parts < 1 || $part < 0 || $part >= $parts) {
    fwrite(STDERR, "opcache-warm: PART must be from 0 to PARTS-1, PARTS at least 1\n");
    exit(2);
}
if (!function_exists('opcache_compile_file') || !ini_get('opcache.enable_cli')) {
    fwrite(STDERR, "opcache-warm: OPcache is off in the CLI: pass -d opcache.enable_cli=1\n");
    exit(1);
}
$root = rtrim($argv[1], '/');
$n = 0;
$failed = 0;
$i = -1;
$files = new RecursiveIteratorIterator(
    new RecursiveDirectoryIterator($root, FilesystemIterator::SKIP_DOTS),
    RecursiveIteratorIterator::LEAVES_ONLY
);
foreach ($files as $file) {
    $path = $file->getPathname();
    // Uploads are data, never run (nginx refuses them).
    if (substr($path, -4) !== '.php' || strpos($path, $root . '/wp-content/uploads/') === 0) {
        continue;
    }
    // Files that declare what another file declares too (the installer's
    // stand-ins, drop-ins that replace core functions): compiling both in
    // one process is a fatal error. php-fpm compiles them when used.
    if (in_array(substr($path, strlen($root)), array('/wp-admin/includes/noop.php', '/wp-content/object-cache.php', '/wp-content/advanced-cache.php', '/wp-content/db.php'), true)) {
        continue;
    }
    $i++;
    if ($i % $parts !== $part) {
        continue;
    }
    try {
        if (@opcache_compile_file($path)) {
            $n++;
        } else {
            $failed++;
        }
    } catch (Throwable $e) {
        // A file that does not compile on its own (a template that needs
        // its caller): php-fpm compiles it when it is used.
        $failed++;
    }
}
$share = $parts > 1 ? " (share $part of $parts)" : '';
fwrite(STDERR, "opcache-warm: $n files in the file cache, $failed left to php-fpm$share\n");
