package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// staticFiles are the static image's server source, its users and its site.
// The server's test file stays out: the image builds main.go alone.
//
//go:embed files/static/main.go files/static/passwd files/static/group files/static/site
var staticFiles embed.FS

// Where the static image keeps things. The final image is scratch: these
// are the only paths in it, besides the init.
const (
	staticServer   = "/static-server"
	staticSiteRoot = "/srv/site"
	staticAddr     = ":8080"
	// staticUser is the image's user, listed in its /etc/passwd (uid and
	// gid 65532, as distroless images have it).
	staticUser = "nonroot"
)

// staticSiteFiles are the site's files, relative to site/ and to
// staticSiteRoot.
var staticSiteFiles = []string{"index.html", "style.css"}

// staticDistro is what differs between distros for the builder stage.
type staticDistro struct {
	// packages for the builder: the Go toolchain and the static tini.
	packages []string
	// tiniStatic is where the distro's package puts the static tini; the
	// final image keeps it at the same path.
	tiniStatic string
}

func staticOn(d Distro) (staticDistro, error) {
	switch d.Family() {
	case FamilyDebian:
		// golang-go is Go 1.19 on bookworm; tini ships tini-static too.
		return staticDistro{packages: []string{"golang-go", "tini"}, tiniStatic: "/usr/bin/tini-static"}, nil
	case FamilyAlpine:
		return staticDistro{packages: []string{"go", "tini-static"}, tiniStatic: "/sbin/tini-static"}, nil
	default:
		return staticDistro{}, ErrNoDistro
	}
}

// Static returns the static image: a small Go file server and a static
// page about the project, in an image made from scratch that holds the
// server, a static tini, /etc/passwd and /etc/group, and the site. No
// shell, no package manager. nginx proxies /site/ to it on port 8080.
//
// The server is built in a builder stage from the distro's Go toolchain.
// Binary, init, users and site are four layers joined with llb.Merge:
// changing the site rebuilds the site layer only, never the binary.
//
//	img, err := llbdefs.Static(llbdefs.WithDistro(llbdefs.Alpine()))
func Static(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(staticFiles, "files/static")
	if err != nil {
		return Image{}, fmt.Errorf("static files: %w", err)
	}
	return static(fsys, opts...)
}

// static builds the image from the files in fsys, the seam tests use to
// change one file.
func static(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "static"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	sd, err := staticOn(c.distro)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	source, err := fileLayer("static: server source", fsys, []file{
		{src: "main.go", dst: "/main.go", mode: 0o644},
	})
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	users, err := fileLayer("static: passwd and group", fsys, []file{
		{src: "passwd", dst: "/etc/passwd", mode: 0o644},
		{src: "group", dst: "/etc/group", mode: 0o644},
	})
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	siteFiles := make([]file, 0, len(staticSiteFiles))
	for _, f := range staticSiteFiles {
		siteFiles = append(siteFiles, file{src: "site/" + f, dst: staticSiteRoot + "/" + f, mode: 0o644})
	}
	site, err := fileLayer("static: site", fsys, siteFiles)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	builder := base(name, c).With(c.distro.Install(name, sd.packages...))
	server := staticGoBuild(name, builder, source)
	created := time.Unix(fileEpoch, 0).UTC()
	tini := llb.Scratch().File(
		llb.Copy(builder, sd.tiniStatic, sd.tiniStatic, &llb.CopyInfo{
			CreateDestPath: true,
			ChownOpt:       &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}},
			CreatedTime:    &created,
		}),
		llb.WithCustomName("static: tini-static from the builder"))

	// Nothing from the builder but two files: the final image starts from
	// scratch. Site last: it changes most often.
	st := llb.Merge([]llb.State{tini, users, server, site}, llb.WithCustomName("static: assemble image"))

	img := baseConfig(name, c.base)
	img.Config.User = staticUser
	img.Config.Entrypoint = []string{sd.tiniStatic, "--"}
	img.Config.Cmd = []string{staticServer, "-root", staticSiteRoot, "-addr", staticAddr}
	img.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	// Go's net/http: SIGTERM starts a graceful shutdown.
	img.Config.StopSignal = "SIGTERM"
	img.Config.Labels[ocispec.AnnotationDescription] = "Static site of the Inception stack: a Go file server in a scratch image, behind nginx at /site/"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		Test:          []string{"CMD", staticServer, "-healthcheck"},
		Interval:      healthInterval,
		Timeout:       3 * time.Second,
		StartPeriod:   healthStartPeriod,
		StartInterval: healthStartInterval,
		Retries:       3,
	}
	return Image{Name: name, State: st, Config: img}, nil
}

// staticGoBuild compiles the server in the builder and returns a layer with the
// binary alone, at staticServer. The source comes in as a read-only mount
// of its own layer: the build re-runs when main.go or the toolchain
// changes, nothing else. The toolchain never goes online: no module
// downloads (the server uses the standard library only) and no toolchain
// switch (GOTOOLCHAIN is read by Go 1.21 and later). No -trimpath: the
// paths it would remove are the same in every build (/src, the toolchain's
// GOROOT), and without it the standard library packages Debian ships
// compiled are used as they are instead of being compiled again (only
// those that differ without cgo are).
func staticGoBuild(image string, builder, source llb.State) llb.State {
	run := builder.Run(
		llb.Args([]string{
			"go", "build", "-buildvcs=false", "-ldflags=-s -w",
			"-o", "/out" + staticServer, "main.go",
		}),
		llb.Dir("/src"),
		llb.AddEnv("CGO_ENABLED", "0"),
		llb.AddEnv("GOTOOLCHAIN", "local"),
		llb.AddEnv("GOPROXY", "off"),
		llb.AddEnv("GOCACHE", "/root/.cache/go-build"),
		llb.AddEnv("GOPATH", "/root/go"),
		llb.AddMount("/src", source, llb.Readonly),
		// The Go build cache is safe to share between builds.
		llb.AddMount("/root/.cache/go-build", llb.Scratch(),
			llb.AsPersistentCacheDir("inception-go-build-"+image, llb.CacheMountShared)),
		llb.AddMount("/root/go", llb.Scratch(),
			llb.AsPersistentCacheDir("inception-go-path-"+image, llb.CacheMountShared)),
		llb.WithCustomNamef("%s: go build static-server", image),
	)
	return run.AddMount("/out", llb.Scratch())
}
