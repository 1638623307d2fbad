package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
)

// Variants of the images, for measuring them (pkg/bench): the same
// constructors, fed another file set or a longer package list. Nothing here
// changes an image built without these options.

// extraPackages are packages added to every Install of an image.
type extraPackages struct {
	pkgs    []string
	ownStep bool // in an exec of their own on top of the image's install
}

// WithExtraPackages adds pkgs to the image's package list, as a Dockerfile
// author adds a name to the apt-get line: the whole install runs again.
//
//	img, err := llbdefs.Nginx(llbdefs.WithExtraPackages("less"))
func WithExtraPackages(pkgs ...string) Option {
	return func(c *config) { c.extra = &extraPackages{pkgs: slices.Clone(pkgs)} }
}

// WithExtraPackageStep installs pkgs in a step of their own ("<image>:
// install extra packages") on top of the image's install, which stays
// cached: the layered way to add a package. The step stays in the package
// chain rather than in a merged layer, because merged package layers lose
// each other's dpkg status (design.md, "Pitfall").
//
//	img, err := llbdefs.Nginx(llbdefs.WithExtraPackageStep("less"))
func WithExtraPackageStep(pkgs ...string) Option {
	return func(c *config) { c.extra = &extraPackages{pkgs: slices.Clone(pkgs), ownStep: true} }
}

// imageSource is where an image's embedded files are and the constructor
// that builds the image from them.
type imageSource struct {
	files embed.FS
	dir   string
	build func(fs.FS, ...Option) (Image, error)
}

func sourceOf(image string) (imageSource, error) {
	switch image {
	case "nginx":
		return imageSource{nginxFiles, "files/nginx", nginx}, nil
	case "wordpress":
		return imageSource{wordpressFiles, "files", wordpress}, nil
	case "adminer":
		return imageSource{adminerFiles, "files", adminer}, nil
	case "mariadb":
		return imageSource{mariadbFiles, "files", mariadb}, nil
	case "redis":
		return imageSource{redisFiles, "files", redis}, nil
	case "vsftpd":
		return imageSource{vsftpdFiles, "files/vsftpd", vsftpd}, nil
	case "static":
		return imageSource{staticFiles, "files/static", static}, nil
	}
	return imageSource{}, fmt.Errorf("%w %q", ErrUnknownImage, image)
}

// Files returns the files image is built from, as its constructor reads
// them: copy them, change one, and build the copy with FromFiles.
//
//	fsys, err := llbdefs.Files("nginx") // nginx-entrypoint, inception.conf, ...
func Files(image string) (fs.FS, error) {
	src, err := sourceOf(image)
	if err != nil {
		return nil, err
	}
	fsys, err := fs.Sub(src.files, src.dir)
	if err != nil {
		return nil, fmt.Errorf("%s files: %w", image, err)
	}
	return fsys, nil
}

// FromFiles builds image from fsys instead of its embedded files; fsys
// has the layout Files returns.
//
//	img, err := llbdefs.FromFiles("nginx", os.DirFS(dir))
func FromFiles(image string, fsys fs.FS, opts ...Option) (Image, error) {
	src, err := sourceOf(image)
	if err != nil {
		return Image{}, err
	}
	return src.build(fsys, opts...)
}
