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

// redisFiles are the redis image's config, entrypoint and health check, as
// they land in the image.
//
//go:embed files/redis files/holder
var redisFiles embed.FS

// Where the redis image's own files go: the same paths on every distro.
const (
	redisEntrypoint  = "/usr/local/bin/redis-entrypoint"
	redisHealthcheck = "/usr/local/bin/redis-healthcheck"
	// redisConf is a file of its own next to the distro's redis.conf, which
	// daemonizes and logs to a file.
	redisConf = "/etc/redis/inception.conf"
	// redisDataDir is the persistence volume.
	redisDataDir = "/data"
)

// redisPackages are the packages the redis image installs on d. The
// entrypoint drops to the redis user with util-linux's setpriv: part of
// Debian's essential set, a package of its own on Alpine (BusyBox has none
// that changes uid).
func redisPackages(d Distro) ([]string, error) {
	switch d.Family() {
	case FamilyDebian:
		return []string{"redis-server", "tini"}, nil
	case FamilyAlpine:
		return []string{"redis", "tini", "setpriv"}, nil
	default:
		return nil, ErrNoDistro
	}
}

// Redis returns the redis image: WordPress's object cache on 6379 of the
// stack network, persisting to the /data volume, with maxmemory from
// REDIS_MAXMEMORY (default 128mb) and allkeys-lru eviction. Clients must
// authenticate when the optional redis_password secret is mounted.
//
//	img, err := llbdefs.Redis(llbdefs.WithDistro(llbdefs.Alpine()))
func Redis(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(redisFiles, "files")
	if err != nil {
		return Image{}, fmt.Errorf("redis files: %w", err)
	}
	return redis(fsys, opts...)
}

// redis builds the image from the files in fsys, the seam tests use to
// change one file.
func redis(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "redis"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	pkgs, err := redisPackages(c.distro)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	config, err := fileLayer("redis: config, entrypoint and health check", fsys, append([]file{
		{src: "redis/redis-entrypoint", dst: redisEntrypoint, mode: 0o755},
		{src: "redis/redis-healthcheck", dst: redisHealthcheck, mode: 0o755},
		{src: "redis/redis.conf", dst: redisConf, mode: 0o644},
	}, holderFiles(c.distro)...))
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	st := base(name, c).With(
		c.distro.Install(name, pkgs...),
		redisDataDirOwned(),
		withLayer("redis: add config layer", config),
	)

	img := baseConfig(name, c.base)
	img.Config.Entrypoint = []string{c.distro.Layout().Tini, "--", redisEntrypoint}
	img.Config.Cmd = []string{"redis-server", redisConf}
	img.Config.Env = append(img.Config.Env, "REDIS_MAXMEMORY=128mb")
	img.Config.ExposedPorts = map[string]struct{}{"6379/tcp": {}}
	img.Config.Volumes = map[string]struct{}{redisDataDir: {}}
	// redis saves a final snapshot and exits on SIGTERM.
	img.Config.StopSignal = "SIGTERM"
	img.Config.Labels[ocispec.AnnotationDescription] = "Object cache of the Inception stack: Redis for WordPress, persisting to /data"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		Test:          []string{"CMD", redisHealthcheck},
		Interval:      healthInterval,
		Timeout:       3 * time.Second,
		StartPeriod:   healthStartPeriod,
		StartInterval: healthStartInterval,
		Retries:       3,
	}
	return Image{Name: name, State: st, Config: img}, nil
}

// redisDataDirOwned makes /data, owned by the redis user that the package
// created, so that the image also runs without a volume there. The user's
// name is resolved in the image's /etc/passwd: it stays in the package chain.
func redisDataDirOwned() llb.StateOption {
	return func(s llb.State) llb.State {
		return s.File(
			llb.Mkdir(redisDataDir, 0o755, llb.WithUser("redis:redis"),
				llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())),
			llb.WithCustomName("redis: /data owned by redis"),
		)
	}
}
