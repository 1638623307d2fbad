package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// wordpressFiles are the wordpress image's config, setup script and
// entrypoint, next to the php-fpm files it shares with adminer.
//
//go:embed files/wordpress files/php files/holder
var wordpressFiles embed.FS

// Where the wordpress image's own files go.
const (
	wordpressEntrypoint = "/usr/local/bin/wordpress-entrypoint"
	wordpressSetup      = "/usr/local/lib/inception/wordpress-setup.php"
	// wordpressObjectCache is the Redis drop-in the entrypoint copies into
	// wp-content when WP_REDIS_HOST is set.
	wordpressObjectCache = "/usr/local/lib/inception/object-cache.php"
	// wordpressDBWait is the db.php drop-in that waits for the database
	// for a few seconds instead of failing at once; the entrypoint copies
	// it into wp-content.
	wordpressDBWait = "/usr/local/lib/inception/db.php"
	// wordpressPageCache is the must-use plugin that purges nginx's page
	// cache; the entrypoint copies it into wp-content/mu-plugins.
	wordpressPageCache = "/usr/local/lib/inception/inception-page-cache.php"
	// wordpressOPcacheWarm fills OPcache's file cache before php-fpm
	// starts.
	wordpressOPcacheWarm = "/usr/local/lib/inception/opcache-warm.php"
	// phpIniDir is read after the distro's php.ini directory
	// (PHP_INI_SCAN_DIR), by php-fpm and the CLI alike.
	phpIniDir = "/etc/inception/php.d"
	// wordpressConfig is one level above the site: WordPress looks there
	// when the site has no wp-config.php, and it is not in the volume.
	wordpressConfig = "/var/www/wp-config.php"
	// wordpressSrc is the WordPress release the image carries, with no
	// symlinks: the entrypoint copies it into the files volume (wwwRoot).
	wordpressSrc = "/usr/src/wordpress"
)

// Alpine has no WordPress package: its graph takes the upstream release,
// pinned by checksum. Debian bookworm's package is WordPress 6.1, which
// predates PHP 8.4; Alpine 3.23's PHP is 8.4, hence a newer release there.
const (
	wordpressAlpineURL    = "https://wordpress.org/wordpress-6.9.tar.gz"
	wordpressAlpineSHA256 = digest.Digest("sha256:5b36390233e32fef68cb5f66435bb32bdd50e0b3dfa5750aceb2de3c5993d720")
)

// WordPress returns the wordpress image: WordPress served by php-fpm on
// port 9000 (no web server: nginx is the entry point), its files in the
// /var/www/html volume that nginx serves too. On first start it installs the
// site into MariaDB with an administrator and a second user; later starts
// only upgrade the database when the image brings a newer WordPress.
//
// Environment: DOMAIN_NAME and HTTPS_PORT (the site's address),
// WORDPRESS_DB_HOST, MYSQL_DATABASE, MYSQL_USER, WP_TITLE, WP_REDIS_HOST
// (Redis object cache; none when empty), PHP_TUNING (auto: OPcache sized
// with its file cache warmed at start, php-fpm's workers from the
// container's limits; stock: PHP as the image ran it before that tuning),
// PHP_FPM_MAX_CHILDREN (auto: from the container's limits),
// INCEPTION_PURGE_ADDR (nginx's page cache purge
// server, nginx:8081), and for the first start
// WP_ADMIN_USER (must not contain "admin"), WP_ADMIN_EMAIL, WP_USER,
// WP_USER_EMAIL. Secrets under /run/secrets: db_password,
// wp_admin_password, wp_user_password, and redis_password when Redis asks
// for one.
//
//	img, err := llbdefs.WordPress(llbdefs.WithDistro(llbdefs.Alpine()))
func WordPress(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(wordpressFiles, "files")
	if err != nil {
		return Image{}, fmt.Errorf("wordpress files: %w", err)
	}
	return wordpress(fsys, opts...)
}

// wordpress builds the image from the files in fsys ("wordpress/...",
// "php/..."): the seam that lets tests change one file.
func wordpress(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "wordpress"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	l := c.distro.Layout()

	files := append(phpFiles(),
		file{src: "wordpress/wordpress-entrypoint", dst: wordpressEntrypoint, mode: 0o755},
		file{src: "wordpress/wordpress-setup.php", dst: wordpressSetup, mode: 0o644},
		file{src: "wordpress/wp-config.php", dst: wordpressConfig, mode: 0o644},
		file{src: "wordpress/object-cache.php", dst: wordpressObjectCache, mode: 0o644},
		file{src: "wordpress/db.php", dst: wordpressDBWait, mode: 0o644},
		file{src: "wordpress/inception-page-cache.php", dst: wordpressPageCache, mode: 0o644},
		file{src: "wordpress/opcache-warm.php", dst: wordpressOPcacheWarm, mode: 0o644},
		file{src: "wordpress/opcache.ini", dst: phpIniDir + "/opcache.ini", mode: 0o644},
	)
	// The entrypoint runs php-fpm under holder where the image has it.
	files = append(files, holderFiles(c.distro)...)
	config, err := fileLayer("wordpress: config, setup and entrypoint", fsys, files)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	var packages llb.StateOption
	switch c.distro.Family() {
	case FamilyDebian:
		control, err := fs.ReadFile(fsys, "wordpress/standins.control")
		if err != nil {
			return Image{}, fmt.Errorf("%s: %w wordpress/standins.control: %w", name, ErrMissingFile, err)
		}
		packages = debianWordPress(name, c.distro, control)
	case FamilyAlpine:
		packages = alpineWordPress(name, c.distro)
	default:
		return Image{}, fmt.Errorf("%s: %w", name, ErrNoDistro)
	}

	st := base(name, c).With(
		packages,
		phpRuntime(name, c.distro),
		withLayer("wordpress: add config layer", config),
	)

	img := baseConfig(name, c.base)
	phpConfig(&img, "auto")
	img.Config.Entrypoint = []string{l.Tini, "--", wordpressEntrypoint}
	// The stack's names (pkg/stack): MYSQL_* are the mariadb service's.
	img.Config.Env = append(img.Config.Env,
		"DOMAIN_NAME=localhost",
		"HTTPS_PORT=443",
		"WORDPRESS_DB_HOST=mariadb:3306",
		"MYSQL_DATABASE=wordpress",
		"MYSQL_USER=wpuser",
		"WP_TITLE=Inception",
		// The distro's directory (the empty entry), then the image's,
		// which PHP_TUNING=stock leaves out.
		"PHP_INI_SCAN_DIR=:"+phpIniDir,
		"PHP_TUNING=auto",
	)
	img.Config.Volumes = map[string]struct{}{wwwRoot: {}}
	img.Config.WorkingDir = wwwRoot
	img.Config.Labels[ocispec.AnnotationDescription] = "WordPress on php-fpm (no web server) for the Inception stack, installed into MariaDB on first start"
	return Image{Name: name, State: st, Config: img}, nil
}

// debianWordPress installs Debian's wordpress package with php-fpm and no
// Apache, then lays out a copy of it without symlinks.
//
// The package Depends on "apache2 | httpd" and on a mysql client. A one-file
// package that Provides both (files/wordpress/standins.control) is installed
// first, so apt installs neither; naming php next to php8.2-fpm makes apt
// pick php-fpm over libapache2-mod-php for "libapache2-mod-php | php".
//
// Debian's tree under /usr/share/wordpress links into /etc/wordpress,
// /var/lib/wordpress and other packages (/usr/share/javascript, ...). nginx
// serves the same files from the shared volume without those packages, so
// the copy dereferences every link. Debian's wp-config.php (a loader for
// /etc/wordpress/config-<host>.php) is left out: the image has its own.
func debianWordPress(image string, d Distro, control []byte) llb.StateOption {
	created := llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())
	root := llb.WithUIDGID(0, 0)
	standins := llb.Scratch().File(
		llb.Mkdir("/DEBIAN", 0o755, root, created).
			Mkfile("/DEBIAN/control", 0o644, control, root, created),
		llb.WithCustomNamef("%s: stand-in package source", image))
	const tree = `set -e
cp -RL /usr/share/wordpress ` + wordpressSrc + `
cp -RL /var/lib/wordpress/wp-content/. ` + wordpressSrc + `/wp-content/
rm -f ` + wordpressSrc + `/wp-config.php ` + wordpressSrc + `/.htaccess
mkdir -p ` + wwwRoot
	return func(s llb.State) llb.State {
		s = s.Run(
			llb.Args([]string{"/bin/sh", "-c", "dpkg-deb --build --root-owner-group /src /build/standins.deb && dpkg -i /build/standins.deb && rm -f /var/log/dpkg.log"}),
			llb.AddMount("/src", standins, llb.Readonly),
			llb.AddMount("/build", llb.Scratch(), llb.Tmpfs()),
			llb.WithCustomNamef("%s: install stand-ins for apache2 and the mysql client", image),
		).Root()
		s = s.With(d.Install(image,
			"wordpress", "wordpress-theme-twentytwentythree",
			"php8.2-fpm", "php", "php8.2-mbstring", "php8.2-redis",
			"libfcgi-bin", "tini"))
		return s.Run(llb.Args([]string{"/bin/sh", "-c", tree}),
			llb.WithCustomNamef("%s: WordPress tree without symlinks", image)).Root()
	}
}

// alpineWordPress installs PHP 8.4 with the extensions WordPress uses and
// unpacks the upstream release, checked against its pinned digest.
func alpineWordPress(image string, d Distro) llb.StateOption {
	release := llb.HTTP(wordpressAlpineURL,
		llb.Checksum(wordpressAlpineSHA256),
		llb.Filename("wordpress.tar.gz"),
		llb.WithCustomNamef("%s: download %s", image, wordpressAlpineURL))
	// -o: the files belong to root, not to the uid in the tarball.
	const unpack = `set -e
mkdir -p /usr/src ` + wwwRoot + `
tar -xzof /release/wordpress.tar.gz -C /usr/src`
	return func(s llb.State) llb.State {
		s = s.With(d.Install(image,
			"php84", "php84-fpm", "php84-mysqli", "php84-gd", "php84-mbstring",
			"php84-opcache", "php84-dom", "php84-xml", "php84-fileinfo", "php84-exif",
			"php84-zip", "php84-pecl-redis", "fcgi", "tini"))
		return s.Run(llb.Args([]string{"/bin/sh", "-c", unpack}),
			llb.AddMount("/release", release, llb.Readonly),
			llb.WithCustomNamef("%s: unpack WordPress into %s", image, wordpressSrc)).Root()
	}
}
