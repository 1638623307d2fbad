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

// mariadbFiles are the mariadb image's config, entrypoint and health check,
// as they land in the image.
//
//go:embed files/mariadb files/holder
var mariadbFiles embed.FS

// Where the mariadb image's own files go; the config file's path is the
// distro's (mariadbDistro).
const (
	mariadbEntrypoint  = "/usr/local/bin/mariadb-entrypoint"
	mariadbHealthcheck = "/usr/local/bin/mariadb-healthcheck"
	// mariadbDataDir is the database volume.
	mariadbDataDir = "/var/lib/mysql"
)

// mariadbLayout is what differs between distros for mariadb.
type mariadbLayout struct {
	packages []string
	// conf is the Inception config file: in the directory the distro's
	// my.cnf includes, named to sort after the distro's server file, whose
	// bind-address (Debian) and skip-networking (Alpine) it overrides.
	conf string
}

func mariadbDistro(d Distro) (mariadbLayout, error) {
	switch d.Family() {
	case FamilyDebian:
		// mariadb-server depends on mariadb-client (mariadb,
		// mariadb-admin).
		return mariadbLayout{
			packages: []string{"mariadb-server", "tini"},
			conf:     "/etc/mysql/mariadb.conf.d/90-inception.cnf",
		}, nil
	case FamilyAlpine:
		return mariadbLayout{
			// coreutils: the entrypoint's cp --sparse and sync FILE.
			packages: []string{"mariadb", "mariadb-client", "coreutils", "tini"},
			conf:     "/etc/my.cnf.d/zz-inception.cnf",
		}, nil
	default:
		return mariadbLayout{}, ErrNoDistro
	}
}

// MariaDB returns the mariadb image: the WordPress database, listening on
// 3306 on the stack network. The entrypoint initialises the datadir volume
// on first start (root password, the MYSQL_DATABASE database and the
// MYSQL_USER account from the db_root_password and db_password secrets),
// re-applies both passwords on every later start, then runs mariadbd in the
// foreground under tini.
//
//	img, err := llbdefs.MariaDB(llbdefs.WithDistro(llbdefs.Alpine()))
func MariaDB(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(mariadbFiles, "files")
	if err != nil {
		return Image{}, fmt.Errorf("mariadb files: %w", err)
	}
	return mariadb(fsys, opts...)
}

// mariadb builds the image from the files in fsys, the seam tests use to
// change one file.
func mariadb(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "mariadb"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	l, err := mariadbDistro(c.distro)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	config, err := fileLayer("mariadb: config, entrypoint and health check", fsys, append([]file{
		{src: "mariadb/mariadb-entrypoint", dst: mariadbEntrypoint, mode: 0o755},
		{src: "mariadb/mariadb-healthcheck", dst: mariadbHealthcheck, mode: 0o755},
		{src: "mariadb/inception.cnf", dst: l.conf, mode: 0o644},
	}, holderFiles(c.distro)...))
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	st := base(name, c).With(
		c.distro.Install(name, l.packages...),
		mariadbEmptyDataDir(),
		withLayer("mariadb: add config layer", config),
	)

	img := baseConfig(name, c.base)
	img.Config.Entrypoint = []string{c.distro.Layout().Tini, "--", mariadbEntrypoint}
	img.Config.Cmd = []string{"mariadbd"}
	img.Config.Env = append(img.Config.Env,
		"MYSQL_DATABASE=wordpress",
		"MYSQL_USER=wpuser",
	)
	img.Config.ExposedPorts = map[string]struct{}{"3306/tcp": {}}
	img.Config.Volumes = map[string]struct{}{mariadbDataDir: {}}
	// mariadbd's own clean shutdown: it flushes InnoDB and logs
	// "Shutdown complete".
	img.Config.StopSignal = "SIGTERM"
	img.Config.Labels[ocispec.AnnotationDescription] = "Database of the Inception stack: MariaDB for WordPress, initialised on first start"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		// No credential: the script logs in as root over the socket,
		// identified by unix_socket.
		Test:     []string{"CMD", mariadbHealthcheck},
		Interval: healthInterval,
		Timeout:  5 * time.Second,
		// A first start runs mariadb-install-db and a bootstrap server
		// before the real one.
		StartPeriod:   60 * time.Second,
		StartInterval: healthSlowStartInterval,
		Retries:       3,
	}
	return Image{Name: name, State: st, Config: img}, nil
}

// mariadbEmptyDataDir leaves an empty datadir owned by mysql. Debian's
// postinst initialises /var/lib/mysql at install time; a volume seeded from
// the image (as Docker does with named volumes) would then hold a database
// without the entrypoint's marker, which it refuses to touch, and with an
// empty root password. It changes what the package installed, so it stays in
// the package chain.
func mariadbEmptyDataDir() llb.StateOption {
	return func(s llb.State) llb.State {
		return s.File(
			llb.Rm(mariadbDataDir, llb.WithAllowNotFound(true)).
				Mkdir(mariadbDataDir, 0o755, llb.WithUser("mysql:mysql"),
					llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())),
			llb.WithCustomName("mariadb: empty datadir owned by mysql"),
		)
	}
}
