package dockerfile

import "fmt"

// Dialect is the Dockerfile syntax a conversion may use.
type Dialect int

const (
	// DialectCurrent is the syntax of the Dockerfile frontend built into
	// the BuildKit the engine runs: everything the converter writes.
	DialectCurrent Dialect = iota
	// DialectDocker20 is what Docker 20.10 (Debian 12's docker.io, BuildKit
	// 0.8, its built-in frontend, no `# syntax` image to pull) builds with
	// BuildKit on: RUN --mount, COPY --from and --chown, HEALTHCHECK
	// without --start-interval, one name per ARG. A step that needs more
	// (ADD --checksum, COPY --chmod or --link, RUN --network or
	// --security, heredocs) is an *UnsupportedError; a health check's
	// start interval is left out: Docker 20.10 probes at the steady
	// interval from the start.
	DialectDocker20
)

// String names the dialect as --dialect takes it.
func (d Dialect) String() string {
	switch d {
	case DialectCurrent:
		return "current"
	case DialectDocker20:
		return "docker20"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// ParseDialect accepts the names String gives.
func ParseDialect(s string) (Dialect, error) {
	for _, d := range []Dialect{DialectCurrent, DialectDocker20} {
		if s == d.String() {
			return d, nil
		}
	}
	return 0, fmt.Errorf("dialect %q: use current or docker20", s)
}

type options struct {
	dialect Dialect
	layout  func(dir string, files []File) string
}

// Option configures a conversion.
type Option func(*options)

// WithDialect restricts the Dockerfile to what d can build (default
// DialectCurrent).
//
//	res, err := dockerfile.FromImage(ctx, img, dockerfile.WithDialect(dockerfile.DialectDocker20))
func WithDialect(d Dialect) Option { return func(o *options) { o.dialect = d } }

// WithContextLayout names the build context's directories: layout gets
// each directory the converter made (one per graph vertex of files, named
// after it) with its files, paths relative to it, and returns the
// directory's path in the context, e.g. "conf/"+dir. A path that leaves
// the context keeps the name.
//
//	dockerfile.WithContextLayout(func(dir string, _ []dockerfile.File) string { return "files/" + dir })
func WithContextLayout(layout func(dir string, files []File) string) Option {
	return func(o *options) { o.layout = layout }
}
