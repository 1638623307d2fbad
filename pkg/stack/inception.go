package stack

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// wwwData owns the WordPress files volume (Debian's fixed www-data ids).
const wwwData = 33

// scratch are every Inception service's /run and /tmp, the only writable
// places of its root filesystem: nosuid, nodev and noexec (no service runs
// a program from them; PHP's OPcache file cache, nginx's page cache and
// MariaDB's first-start scratch directory are data), the runtime's default
// sizes. Named here rather than left to the runtime's defaults, so that the
// compose export carries them (docker mounts neither) and every entrypoint
// makes its own directories under /run.
var scratch = []Tmpfs{
	{Target: "/run", Size: 64 << 20, Mode: 0o755, NoExec: true},
	{Target: "/tmp", Size: 256 << 20, Mode: 0o1777, NoExec: true},
}

// capabilities are what each Inception service keeps of Linux's
// capabilities (all others are dropped): the root filesystem is read-only
// and every service but static starts as root only to set up, then runs its
// workers as a user of its own.
//
//   - CHOWN: hand a directory or volume to the service's user;
//   - DAC_OVERRIDE, FOWNER: root's set-up writes into directories and
//     files of that user (the WordPress files, the datadir);
//   - SETUID, SETGID: start the server or its workers as that user;
//   - KILL: signal processes of that user (tini's forwarded stop signal,
//     a master stopping its workers);
//   - NET_BIND_SERVICE: listen on 443 (nginx) and 21 (vsftpd);
//   - SYS_CHROOT: lock an FTP session into the WordPress files.
var capabilities = map[string][]string{
	"nginx":     {"CHOWN", "SETUID", "SETGID", "KILL", "NET_BIND_SERVICE"},
	"wordpress": {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL"},
	"mariadb":   {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL"},
	"redis":     {"CHOWN", "SETUID", "SETGID", "KILL"},
	"vsftpd":    {"CHOWN", "SETUID", "SETGID", "KILL", "NET_BIND_SERVICE", "SYS_CHROOT"},
	"adminer":   {"SETUID", "SETGID", "KILL"},
	"static":    nil, // runs as nonroot from the start
}

// Inception returns the Inception stack configured by c: the services of
// Default() with their environment, secrets, volumes, published ports,
// dependencies and restart policies, each with a read-only root
// filesystem, a noexec /tmp and the capabilities it needs only. Bonus
// services switched off in c are left out, and nginx is told so (no
// /adminer/ or /site/ location).
//
//	cfg, _ := stack.NewConfig(env)
//	st, err := stack.Inception(cfg)
func Inception(c Config) (Stack, error) {
	restart := RestartPolicy{Mode: RestartUnlessStopped}
	env := func(keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = c.Env[k]
		}
		return m
	}
	wordpressFiles := Mount{Kind: MountVolume, Source: "wordpress", Target: "/var/www/html", UID: wwwData, GID: wwwData}
	tlsSecrets := []string{}
	if c.HasTLS() {
		tlsSecrets = []string{SecretTLSCert, SecretTLSKey}
	}
	on := func(svc string) bool {
		enabled, bonus := c.Bonus[svc]
		return !bonus || enabled
	}
	// Redis asks every client for its password (EnsureSecrets makes it
	// like the others); WordPress's object cache logs in with it.
	redisSecrets := []string{}
	if on("redis") {
		redisSecrets = []string{SecretRedis}
	}
	upstream := func(svc, addr string) string {
		if on(svc) {
			return addr
		}
		return ""
	}

	wire := map[string]func(*Service){
		"nginx": func(s *Service) {
			s.Env = env("DOMAIN_NAME", "HTTPS_PORT", "NGINX_PAGE_CACHE")
			s.Env["WORDPRESS_UPSTREAM"] = "wordpress:9000"
			s.Env["ADMINER_UPSTREAM"] = upstream("adminer", "adminer:9000")
			s.Env["STATIC_UPSTREAM"] = upstream("static", "static:8080")
			s.Secrets = tlsSecrets
			ro := wordpressFiles
			ro.ReadOnly = true
			s.Mounts = []Mount{ro}
			s.Ports = []Port{{HostIP: c.HostIP, HostPort: c.HTTPSPort, ContainerPort: 443, Protocol: TCP}}
			s.DependsOn = map[string]Condition{"wordpress": ConditionStarted}
			if on("adminer") {
				s.DependsOn["adminer"] = ConditionStarted
			}
			if on("static") {
				s.DependsOn["static"] = ConditionStarted
			}
		},
		"wordpress": func(s *Service) {
			s.Env = env("DOMAIN_NAME", "HTTPS_PORT", "MYSQL_DATABASE", "MYSQL_USER", "WP_TITLE",
				"WP_ADMIN_USER", "WP_ADMIN_EMAIL", "WP_USER", "WP_USER_EMAIL", "PHP_TUNING")
			s.Env["WORDPRESS_DB_HOST"] = "mariadb:3306"
			s.Env["WP_REDIS_HOST"] = upstream("redis", "redis:6379")
			s.Secrets = append([]string{SecretDB, SecretWPAdmin, SecretWPUser}, redisSecrets...)
			s.Mounts = []Mount{wordpressFiles}
			// php-fpm's workers read their copies of the secrets here
			// (the entrypoint makes them): memory only, in every runtime.
			s.Tmpfs = []Tmpfs{{Target: "/run/wordpress", Size: 1 << 20, Mode: 0o750, NoExec: true}}
			// Started, not healthy: WordPress copies its files into the
			// volume while MariaDB initialises, then waits for the
			// database itself (wordpress-setup.php, every 100 ms).
			s.DependsOn = map[string]Condition{"mariadb": ConditionStarted}
			if on("redis") {
				s.DependsOn["redis"] = ConditionStarted
			}
		},
		"mariadb": func(s *Service) {
			s.Env = env("MYSQL_DATABASE", "MYSQL_USER")
			s.Secrets = []string{SecretDBRoot, SecretDB}
			s.Mounts = []Mount{{Kind: MountVolume, Source: "mariadb", Target: "/var/lib/mysql"}}
			s.StopGracePeriod = 30 * time.Second
		},
		"redis": func(s *Service) {
			s.Mounts = []Mount{{Kind: MountVolume, Source: "redis", Target: "/data"}}
			s.Secrets = redisSecrets
		},
		"vsftpd": func(s *Service) {
			s.Env = env("FTP_USER", "FTP_PASV_MIN", "FTP_PASV_MAX", "FTP_PASV_ADDRESS", "FTP_TLS")
			s.Secrets = append([]string{SecretFTP}, tlsSecrets...)
			s.Mounts = []Mount{wordpressFiles}
			s.Ports = []Port{{HostIP: c.HostIP, HostPort: c.FTPPort, ContainerPort: 21, Protocol: TCP}}
			for p := c.PasvMin; p <= c.PasvMax; p++ {
				s.Ports = append(s.Ports, Port{HostIP: c.HostIP, HostPort: p, ContainerPort: p, Protocol: TCP})
			}
		},
		"adminer": func(s *Service) {
			s.DependsOn = map[string]Condition{"mariadb": ConditionStarted}
			// PHP's sessions (Debian's session.save_path), the only
			// state Adminer keeps: a login lasts as long as the container.
			s.Tmpfs = []Tmpfs{{Target: "/var/lib/php/sessions", Size: 16 << 20, Mode: 0o1733, NoExec: true}}
		},
		"static": func(*Service) {},
	}

	st := Stack{Name: "inception"}
	for _, svc := range Default().Services {
		if !on(svc.Name) {
			continue
		}
		w, ok := wire[svc.Name]
		if !ok {
			return Stack{}, fmt.Errorf("%w: service %q has no run-time wiring in stack.Inception", ErrInvalid, svc.Name)
		}
		svc.Restart = restart
		svc.Limits = c.Limits[svc.Name]
		w(&svc)
		caps, ok := capabilities[svc.Name]
		if !ok {
			return Stack{}, fmt.Errorf("%w: service %q has no capability set in stack.Inception", ErrInvalid, svc.Name)
		}
		svc.ReadOnlyRoot = true
		svc.Tmpfs = append(slices.Clone(scratch), svc.Tmpfs...)
		svc.CapDrop = []string{"ALL"}
		svc.CapAdd = slices.Clone(caps)
		st.Services = append(st.Services, svc)
	}
	return st, nil
}

// VolumePath is where named volume name lives on the host.
func (c Config) VolumePath(name string) string { return filepath.Join(c.DataDir, name) }

// SiteURL is the address the site answers on.
func (c Config) SiteURL() string {
	if c.HTTPSPort == 443 {
		return "https://" + c.Domain
	}
	return "https://" + c.Domain + ":" + strconv.Itoa(c.HTTPSPort)
}
