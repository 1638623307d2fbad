package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// adminerFiles are the php-fpm files adminer shares with wordpress (with
// holder); Adminer itself needs no file of its own.
//
//go:embed files/php files/holder
var adminerFiles embed.FS

// adminerScript is the one script that serves every Adminer URL; nginx's
// /adminer/ location names it as SCRIPT_FILENAME.
const adminerScript = "/var/www/adminer/index.php"

// Alpine has no Adminer package: its graph takes the upstream single-file
// release, pinned by checksum (Adminer 5 supports Alpine 3.23's PHP 8.4).
const (
	adminerAlpineURL    = "https://github.com/vrana/adminer/releases/download/v5.4.1/adminer-5.4.1.php"
	adminerAlpineSHA256 = digest.Digest("sha256:3f65364b4cc96b5e4cae1b3e448b7b6fa42b0da1eeba78bed9b3774ade830fce")
)

// Adminer returns the adminer image: Adminer, the one-page database UI,
// served by php-fpm on port 9000 to nginx, which publishes it at /adminer/.
// It keeps no state but PHP sessions; log in with the MariaDB service's name
// as the server.
//
//	img, err := llbdefs.Adminer(llbdefs.WithDistro(llbdefs.Alpine()))
func Adminer(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(adminerFiles, "files")
	if err != nil {
		return Image{}, fmt.Errorf("adminer files: %w", err)
	}
	return adminer(fsys, opts...)
}

// adminer builds the image from the files in fsys ("php/..."): the seam that
// lets tests change one file.
func adminer(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "adminer"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	l := c.distro.Layout()

	config, err := fileLayer("adminer: php-fpm config", fsys, append(phpFiles(), holderFiles(c.distro)...))
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	var pkgs []string
	switch c.distro.Family() {
	case FamilyDebian:
		// adminer Depends on "libapache2-mod-php | php-cgi | php-fpm | php":
		// php8.2-fpm, named here, provides php-fpm, so Apache stays out.
		pkgs = []string{"adminer", "php8.2-fpm", "php8.2-mysql", "libfcgi-bin", "tini"}
	case FamilyAlpine:
		pkgs = []string{"php84", "php84-fpm", "php84-session", "php84-mysqli", "php84-mbstring", "fcgi", "tini"}
	default:
		return Image{}, fmt.Errorf("%s: %w", name, ErrNoDistro)
	}

	st := base(name, c).With(
		c.distro.Install(name, pkgs...),
		phpRuntime(name, c.distro),
		withLayer("adminer: add Adminer layer", adminerApp(name, c.distro)),
		withLayer("adminer: add config layer", config),
	)

	img := baseConfig(name, c.base)
	// Adminer serves one person at a time.
	phpConfig(&img, "10")
	img.Config.Entrypoint = []string{l.Tini, "--"}
	// No entrypoint script: the Cmd runs php-fpm, under holder where
	// the image has it, so that a crash of its master costs the requests
	// it was serving, not the container.
	if len(holderFiles(c.distro)) > 0 {
		img.Config.Cmd = append([]string{holderPath, "--fpm-port", phpListen}, img.Config.Cmd...)
	}
	img.Config.WorkingDir = path.Dir(adminerScript)
	img.Config.Labels[ocispec.AnnotationDescription] = "Adminer database UI on php-fpm for the Inception stack, published by nginx at /adminer/"
	return Image{Name: name, State: st, Config: img}, nil
}

// adminerApp is the layer that puts Adminer at adminerScript, on its own so
// that a new Adminer release on Alpine re-runs no package install.
//
// Debian's package ships /etc/adminer/conf.php, the entry point that loads
// the compiled adminer.php with the version-check plugin (no call home); the
// layer links to it. Otherwise (Alpine, checked by the caller) the layer
// holds the downloaded release.
func adminerApp(image string, d Distro) llb.State {
	created := llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())
	root := llb.WithUIDGID(0, 0)
	dirs := llb.Mkdir("/var", 0o755, root, created).
		Mkdir("/var/www", 0o755, root, created).
		Mkdir(path.Dir(adminerScript), 0o755, root, created)
	if d.Family() == FamilyDebian {
		return llb.Scratch().File(dirs.Symlink("/etc/adminer/conf.php", adminerScript, created),
			llb.WithCustomNamef("%s: link Debian's Adminer entry point", image))
	}
	release := llb.HTTP(adminerAlpineURL,
		llb.Checksum(adminerAlpineSHA256),
		llb.Filename("adminer.php"),
		llb.Chmod(0o644),
		llb.WithCustomNamef("%s: download %s", image, adminerAlpineURL))
	return llb.Scratch().File(dirs.Copy(release, "/adminer.php", adminerScript, root, created),
		llb.WithCustomNamef("%s: Adminer from %s", image, path.Base(adminerAlpineURL)))
}
