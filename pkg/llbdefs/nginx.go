package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// nginxFiles are the nginx image's config and entrypoint, as they land in
// the image.
//
//go:embed files/nginx
var nginxFiles embed.FS

// Where the nginx image's own files go; the include file's directory is the
// distro's (Layout.NginxConfDir).
const (
	nginxEntrypoint = "/usr/local/bin/nginx-entrypoint"
	nginxTemplate   = "/etc/nginx/inception/server.conf.template"
	// nginxAdminerTemplate is the /adminer/ location, rendered unless
	// ADMINER_UPSTREAM is empty.
	nginxAdminerTemplate = "/etc/nginx/inception/adminer.conf.template"
	// nginxStaticTemplate is the /site/ location (the static site),
	// rendered unless STATIC_UPSTREAM is empty.
	nginxStaticTemplate = "/etc/nginx/inception/static.conf.template"
	// nginxPageCache is the page cache of the WordPress location, put in
	// place unless NGINX_PAGE_CACHE is 0.
	nginxPageCache = "/etc/nginx/inception/page-cache.conf"
	nginxLogDir    = "/var/log/nginx"
	// wwwRoot is the WordPress files volume, at the same path in wordpress.
	wwwRoot = "/var/www/html"
)

// Nginx returns the nginx image: the stack's only entry point, HTTPS on 443
// (TLS 1.2 and 1.3), serving the WordPress files volume and passing PHP to
// php-fpm. The certificate comes from the tls_cert and tls_key secrets, or
// is made self-signed on first start. DOMAIN_NAME and WORDPRESS_UPSTREAM in
// the container's environment set the server name and the php-fpm address;
// ADMINER_UPSTREAM is Adminer's php-fpm, published at /adminer/, and
// STATIC_UPSTREAM the static site's server, published at /site/ (set either
// empty for a stack without that service). NGINX_PAGE_CACHE=0 switches off
// the page cache of anonymous visitors' pages; its purge server, for the
// wordpress image's must-use plugin, listens on 8081 for the stack network
// only.
//
//	img, err := llbdefs.Nginx(llbdefs.WithDistro(llbdefs.Alpine()))
func Nginx(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(nginxFiles, "files/nginx")
	if err != nil {
		return Image{}, fmt.Errorf("nginx files: %w", err)
	}
	return nginx(fsys, opts...)
}

// nginx builds the image from the files in fsys: the seam that lets tests
// change one file and watch which vertices change with it.
func nginx(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "nginx"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	l := c.distro.Layout()

	config, err := fileLayer("nginx: config and entrypoint", fsys, []file{
		{src: "nginx-entrypoint", dst: nginxEntrypoint, mode: 0o755},
		{src: "server.conf.template", dst: nginxTemplate, mode: 0o644},
		{src: "adminer.conf.template", dst: nginxAdminerTemplate, mode: 0o644},
		{src: "static.conf.template", dst: nginxStaticTemplate, mode: 0o644},
		{src: "page-cache.conf", dst: nginxPageCache, mode: 0o644},
		{src: "inception.conf", dst: path.Join(l.NginxConfDir, "inception.conf"), mode: 0o644},
	})
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	// The cache purge module (fastcgi_cache_purge) is a package of its
	// own, named differently; each distro's package enables it in the
	// nginx.conf it ships (modules-enabled, modules).
	purge := "libnginx-mod-http-cache-purge"
	if c.distro.Family() == FamilyAlpine {
		purge = "nginx-mod-http-cache-purge"
	}
	st := base(name, c).With(
		// tini is PID 1, curl runs the health check.
		c.distro.Install(name, "nginx", purge, "openssl", "tini", "curl"),
		nginxSiteAndLogs(l),
		withLayer("nginx: add config layer", config),
	)

	img := baseConfig(name, c.base)
	img.Config.Entrypoint = []string{l.Tini, "--", nginxEntrypoint}
	img.Config.Cmd = []string{"nginx", "-g", "daemon off;"}
	img.Config.Env = append(img.Config.Env,
		"DOMAIN_NAME=localhost",
		"WORDPRESS_UPSTREAM=wordpress:9000",
		"ADMINER_UPSTREAM=adminer:9000",
		"STATIC_UPSTREAM=static:8080",
		"NGINX_PAGE_CACHE=1",
	)
	img.Config.ExposedPorts = map[string]struct{}{"443/tcp": {}}
	img.Config.Volumes = map[string]struct{}{wwwRoot: {}}
	// nginx's graceful stop: finish the requests in flight, then exit.
	img.Config.StopSignal = "SIGQUIT"
	img.Config.Labels[ocispec.AnnotationDescription] = "HTTPS entry point of the Inception stack: nginx with TLS 1.2/1.3 in front of WordPress"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		Test:          []string{"CMD", "curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health"},
		Interval:      healthInterval,
		Timeout:       3 * time.Second,
		StartPeriod:   healthStartPeriod,
		StartInterval: healthStartInterval,
		Retries:       3,
	}
	return Image{Name: name, State: st, Config: img}, nil
}

// nginxSiteAndLogs removes the distro's port 80 site and sends the log files
// named in the distro's nginx.conf to the container's stdout and stderr, as
// the official nginx image does. It changes files the package owns, so it
// stays in the package chain rather than in the merged config layer, which
// can add files but not remove them.
func nginxSiteAndLogs(l Layout) llb.StateOption {
	notFoundOK := llb.WithAllowNotFound(true)
	access := path.Join(nginxLogDir, "access.log")
	errorLog := path.Join(nginxLogDir, "error.log")
	return func(s llb.State) llb.State {
		return s.File(
			llb.Rm(l.NginxDefaultSite, notFoundOK).
				Rm(access, notFoundOK).
				Symlink("/dev/stdout", access).
				Rm(errorLog, notFoundOK).
				Symlink("/dev/stderr", errorLog),
			llb.WithCustomName("nginx: drop default site, logs to stdout/stderr"),
		)
	}
}
