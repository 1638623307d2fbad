package llbdefs

// Family is a group of distros that share a package manager and a file
// layout.
type Family string

// The families llbdefs knows how to install packages on.
const (
	FamilyDebian Family = "debian"
	FamilyAlpine Family = "alpine"
)

// Default base image references. Both are the penultimate stable release of
// their distro, and both name a tag: never "latest", so a rebuild next year
// starts from the same release.
const (
	DebianRef = "docker.io/library/debian:bookworm"
	AlpineRef = "docker.io/library/alpine:3.23"
)

// Layout holds the paths that differ between distros and that images need
// to know about.
type Layout struct {
	// Tini is the init that runs as PID 1 in every image: it reaps zombies
	// and forwards the stop signal.
	Tini string
	// NginxConfDir is the directory nginx includes inside http {}.
	NginxConfDir string
	// NginxDefaultSite is the distro's port 80 welcome site, removed from
	// the nginx image.
	NginxDefaultSite string
	// PHP is the PHP command-line interpreter of the distro's PHP release.
	PHP string
	// PHPFPM is the FastCGI process manager of the same release.
	PHPFPM string
}

// Distro is the base an image starts from: a base image reference, a way to
// install packages, and where that distro keeps things. The zero Distro is
// not usable: get one from Debian, Alpine or DefaultDistro.
type Distro struct {
	family  Family
	release string
	ref     string
	layout  Layout
	extra   *extraPackages // set from the image options (variants.go)
}

// Debian returns Debian bookworm, the default distro. Its base image is
// resolved locally first: the project imports a base it made itself into
// containerd, and there is no registry to pull from.
//
//	img, err := llbdefs.Nginx(llbdefs.WithDistro(llbdefs.Debian()))
func Debian() Distro {
	return Distro{
		family:  FamilyDebian,
		release: "bookworm",
		ref:     DebianRef,
		layout: Layout{
			Tini:             "/usr/bin/tini",
			NginxConfDir:     "/etc/nginx/conf.d",
			NginxDefaultSite: "/etc/nginx/sites-enabled/default",
			PHP:              "/usr/bin/php8.2",
			PHPFPM:           "/usr/sbin/php-fpm8.2",
		},
	}
}

// Alpine returns Alpine 3.23. Its graphs are emitted and tested like
// Debian's, but building them needs a registry and an Alpine mirror.
//
//	img, err := llbdefs.Nginx(llbdefs.WithDistro(llbdefs.Alpine()))
func Alpine() Distro {
	return Distro{
		family:  FamilyAlpine,
		release: "3.23",
		ref:     AlpineRef,
		layout: Layout{
			Tini:             "/sbin/tini",
			NginxConfDir:     "/etc/nginx/http.d",
			NginxDefaultSite: "/etc/nginx/http.d/default.conf",
			PHP:              "/usr/bin/php84",
			PHPFPM:           "/usr/sbin/php-fpm84",
		},
	}
}

// DefaultDistro returns the distro images use when no WithDistro option is
// given: Debian bookworm, the one that builds on these machines.
func DefaultDistro() Distro { return Debian() }

// Name returns family and release, e.g. "debian-bookworm".
func (d Distro) Name() string {
	if d.family == "" {
		return ""
	}
	return string(d.family) + "-" + d.release
}

// Family returns the distro's family.
func (d Distro) Family() Family { return d.family }

// Release returns the distro's release, e.g. "bookworm" or "3.23".
func (d Distro) Release() string { return d.release }

// Ref returns the default base image reference; WithBase overrides it for
// one image.
func (d Distro) Ref() string { return d.ref }

// Layout returns where the distro keeps the files images care about.
func (d Distro) Layout() Layout { return d.layout }
