package llbdefs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type redisCase struct {
	name     string
	distro   Distro
	wantRef  string
	wantTini string
	want     layeredWant
}

const (
	redisTidyName   = "redis: /data owned by redis"
	redisConfigName = "redis: config, entrypoint and health check"
	redisMergeName  = "redis: add config layer"
)

func redisCases() []redisCase {
	lw := func(ref string, install installWant) layeredWant {
		w := layeredWant{
			image: "redis", ref: ref, install: install,
			lowerName: redisTidyName, configName: redisConfigName, mergeName: redisMergeName,
			files: map[string]int32{
				"/usr/local/bin/redis-entrypoint":  0o755,
				"/usr/local/bin/redis-healthcheck": 0o755,
				"/etc/redis/inception.conf":        0o644,
			},
		}
		// holder, as in wordpress: Perl, in every Debian image.
		if ref == DebianRef {
			w.files["/usr/local/bin/holder"] = 0o755
		}
		return w
	}
	return []redisCase{
		{
			name:     "debian",
			distro:   Debian(),
			wantRef:  DebianRef,
			wantTini: "/usr/bin/tini",
			want:     lw(DebianRef, installWant{command: aptInstall, pkgs: []string{"redis-server", "tini"}, caches: aptCaches("redis")}),
		},
		{
			name:     "alpine",
			distro:   Alpine(),
			wantRef:  AlpineRef,
			wantTini: "/sbin/tini",
			want:     lw(AlpineRef, installWant{command: apkInstall, pkgs: []string{"redis", "tini", "setpriv"}}),
		},
	}
}

func TestRedisGraph(t *testing.T) {
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Redis(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "redis", img.Name)
			g := marshalGraph(t, img)
			tidy := g.ops[checkLayeredGraph(t, g, tc.distro.Family(), tc.want)].GetFile()
			require.NotNil(t, tidy)

			require.Len(t, tidy.Actions, 1)
			mkdir := tidy.Actions[0].GetMkdir()
			require.NotNil(t, mkdir)
			assert.Equal(t, "/data", mkdir.Path)
			assert.Equal(t, "redis:redis", ownerString(mkdir.Owner))
		})
	}
}

func TestRedisImageConfig(t *testing.T) {
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Redis(WithDistro(tc.distro))
			require.NoError(t, err)
			_, dt := checkImageConfig(t, img, configWant{
				entrypoint: []string{tc.wantTini, "--", "/usr/local/bin/redis-entrypoint"},
				cmd:        []string{"redis-server", "/etc/redis/inception.conf"},
				env:        []string{"REDIS_MAXMEMORY=128mb"},
				ports:      []string{"6379/tcp"},
				volumes:    []string{"/data"},
				workDir:    "/",
				stopSignal: "SIGTERM",
				baseRef:    tc.wantRef,
				health:     serviceHealth(3*time.Second, 30*time.Second, "CMD", "/usr/local/bin/redis-healthcheck"),
			})
			checkConfigNoSecret(t, dt)
		})
	}
}

func TestRedisFileChangeRebuildsOnlyConfig(t *testing.T) {
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "redis", tc.distro, withHolder(tc.distro, "redis/redis-entrypoint", "redis/redis-healthcheck", "redis/redis.conf"), redisConfigName, redisMergeName)
		})
	}
	t.Run("alpine: no holder, none of its changes", func(t *testing.T) {
		checkAlpineIgnoresHolder(t, "redis", redisConfigName)
	})
}

// redisDirectives parses a redis config file into directive -> arguments
// (the last one wins, as in redis).
func redisDirectives(t *testing.T, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, " ")
		out[k] = v
	}
	return out
}

func TestRedisConfig(t *testing.T) {
	dt, err := redisFiles.ReadFile("files/redis/redis.conf")
	require.NoError(t, err)
	got := redisDirectives(t, string(dt))
	for k, v := range map[string]string{
		"bind":             "0.0.0.0",
		"protected-mode":   "no",
		"port":             "6379",
		"daemonize":        "no",
		"logfile":          `""`,
		"dir":              "/data",
		"appendonly":       "yes",
		"maxmemory-policy": "allkeys-lru",
		"include":          "/run/redis/runtime.conf",
	} {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotContains(t, got, "requirepass", "the password is never in the image")
	assert.NotContains(t, got, "maxmemory", "maxmemory comes from REDIS_MAXMEMORY at start")
	// The runtime file must come last to override what is above it.
	lines := strings.Split(strings.TrimSpace(string(dt)), "\n")
	assert.Equal(t, "include /run/redis/runtime.conf", lines[len(lines)-1])
}

func TestRedisScripts(t *testing.T) {
	checkFileTexts(t, "redis", []fileWant{
		{
			name: "entrypoint",
			file: "redis/redis-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"secret=/run/secrets/redis_password",
				`if [ -e "$secret" ]; then`,
				"requirepass",
				"maxmemory $REDIS_MAXMEMORY",
				"chmod 0640",
				// redis-server under holder where there is Perl (Debian),
				// both as redis.
				"if [ -x /usr/local/bin/holder ]; then",
				`set -- /usr/local/bin/holder "$@"`,
				"setpriv --reuid=redis --regid=redis --init-groups",
				`exec "$@"`,
			},
			deny: []string{"set -x", "--requirepass", "daemonize yes", "echo \"$pw"},
		},
		{
			name: "health check",
			file: "redis/redis-healthcheck",
			// The password on redis-cli's stdin: not in its environment nor
			// on its command line.
			want: []string{"#!/bin/sh\n", "set -eu", `redis-cli --askpass -h 127.0.0.1 -p 6379 ping <"$cli_auth"`, `"$reply" != PONG`},
			deny: []string{" -a ", "--pass ", "REDISCLI_AUTH"},
		},
	})
}
