package llbdefs

import (
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// Where the PHP images' shared files go, the same on every distro.
const (
	phpFPMConfig = "/etc/inception/php-fpm.conf"
	phpFPMPing   = "/usr/local/bin/php-fpm-ping"
	// phpCLI and phpFPM are links to the distro's versioned binaries
	// (Layout.PHP, Layout.PHPFPM): scripts and image configs name these.
	phpCLI = "/usr/local/bin/php"
	phpFPM = "/usr/local/sbin/php-fpm"
	// phpListen is where php-fpm listens for nginx: php-fpm.conf's
	// listen, the port holder holds (--fpm-port).
	phpListen = "9000"
	phpPort   = phpListen + "/tcp"
)

// phpFiles are the files every PHP image carries in its config layer: the
// php-fpm configuration and the health check, from files/php. Each PHP image
// embeds files/php next to its own directory and reads both from one file
// set, so a test can change any of its files.
func phpFiles() []file {
	return []file{
		{src: "php/php-fpm.conf", dst: phpFPMConfig, mode: 0o644},
		{src: "php/php-fpm-ping", dst: phpFPMPing, mode: 0o755},
	}
}

// phpRuntime links the distro's versioned PHP binaries to fixed names and,
// on Alpine, adds the www-data user that Debian's base already has (uid 33;
// Alpine has the group only, gid 82, the uid Alpine's own PHP images use).
// php-fpm.conf runs workers as www-data on both.
func phpRuntime(image string, d Distro) llb.StateOption {
	l := d.Layout()
	return func(s llb.State) llb.State {
		if d.Family() == FamilyAlpine {
			s = s.Run(llb.Args([]string{"/bin/sh", "-c",
				"getent passwd www-data >/dev/null || adduser -S -D -H -u 82 -G www-data -h /var/www -s /sbin/nologin www-data"}),
				llb.WithCustomNamef("%s: www-data user", image)).Root()
		}
		created := llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())
		return s.File(
			llb.Mkdir("/usr/local/sbin", 0o755, llb.WithParents(true)).
				Symlink(l.PHP, phpCLI, created).
				Symlink(l.PHPFPM, phpFPM, created),
			llb.WithCustomNamef("%s: php and php-fpm links", image))
	}
}

// phpConfig fills in what the PHP images' configs share: php-fpm in the
// foreground under tini, its port, its health check and its process count
// (php-fpm.conf reads it from the environment): maxChildren workers at
// most, "auto" for an entrypoint that computes it from the container's
// limits.
func phpConfig(img *dockerspec.DockerOCIImage, maxChildren string) {
	img.Config.Cmd = []string{phpFPM, "--nodaemonize", "--force-stderr", "--fpm-config", phpFPMConfig}
	img.Config.Env = append(img.Config.Env,
		"PHP_FPM_MAX_CHILDREN="+maxChildren,
		"PHP_FPM_START_SERVERS=2",
		"PHP_FPM_MIN_SPARE_SERVERS=1",
		"PHP_FPM_MAX_SPARE_SERVERS=4",
	)
	img.Config.ExposedPorts = map[string]struct{}{phpPort: {}}
	// php-fpm's graceful stop: workers finish their requests, then exit.
	img.Config.StopSignal = "SIGQUIT"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		Test:          []string{"CMD", phpFPMPing},
		Interval:      healthInterval,
		Timeout:       3 * time.Second,
		StartPeriod:   30 * time.Second,
		StartInterval: healthSlowStartInterval,
		Retries:       3,
	}
}
