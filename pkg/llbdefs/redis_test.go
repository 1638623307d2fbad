package llbdefs

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type redisCase struct {
	name     string
	distro   Distro
	wantRef  string
	wantTini string
	want     statefulGraph
}

const (
	redisTidyName   = "redis: /data owned by redis"
	redisConfigName = "redis: config, entrypoint and health check"
	redisMergeName  = "redis: add config layer"
)

func redisCases() []redisCase {
	sg := func(ref, install string, pkgs []string, caches map[string]string) statefulGraph {
		return statefulGraph{
			image: "redis", wantRef: ref, wantInstall: install, wantPkgs: pkgs, wantCaches: caches,
			tidyName: redisTidyName, configName: redisConfigName, mergeName: redisMergeName,
			wantFiles: map[string]int32{
				"/usr/local/bin/redis-entrypoint":  0o755,
				"/usr/local/bin/redis-healthcheck": 0o755,
				"/etc/redis/inception.conf":        0o644,
			},
		}
	}
	return []redisCase{
		{
			name:     "debian",
			distro:   Debian(),
			wantRef:  DebianRef,
			wantTini: "/usr/bin/tini",
			want: sg(DebianRef, "apt-get update && apt-get install -y --no-install-recommends",
				[]string{"redis-server", "tini"},
				map[string]string{
					"/var/cache/apt":     "inception-apt-cache-redis",
					"/var/lib/apt/lists": "inception-apt-lists-redis",
				}),
		},
		{
			name:     "alpine",
			distro:   Alpine(),
			wantRef:  AlpineRef,
			wantTini: "/sbin/tini",
			want: sg(AlpineRef, "apk add --no-cache",
				[]string{"redis", "tini", "setpriv"}, map[string]string{}),
		},
	}
}

func TestRedisGraph(t *testing.T) {
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Redis(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "redis", img.Name)
			tidy := checkStatefulGraph(t, marshalGraph(t, img), tc.want, tc.distro.Family())

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
			dt, err := img.ConfigJSON()
			require.NoError(t, err)
			checkStatefulConfigNoSecret(t, dt)

			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config
			assert.Equal(t, []string{tc.wantTini, "--", "/usr/local/bin/redis-entrypoint"}, c.Entrypoint)
			assert.Equal(t, []string{"redis-server", "/etc/redis/inception.conf"}, c.Cmd)
			assert.Subset(t, c.Env, []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"REDIS_MAXMEMORY=128mb",
			})
			assert.Equal(t, map[string]struct{}{"6379/tcp": {}}, c.ExposedPorts)
			assert.Equal(t, map[string]struct{}{"/data": {}}, c.Volumes)
			assert.Equal(t, "SIGTERM", c.StopSignal)
			assert.Equal(t, "redis", c.Labels["org.opencontainers.image.title"])
			assert.Equal(t, SourceURL, c.Labels["org.opencontainers.image.source"])
			assert.Equal(t, tc.wantRef, c.Labels["org.opencontainers.image.base.name"])
			assert.NotEmpty(t, c.Labels["org.opencontainers.image.description"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, dockerspec.HealthcheckConfig{
				Test:          []string{"CMD", "/usr/local/bin/redis-healthcheck"},
				Interval:      5 * time.Second,
				Timeout:       3 * time.Second,
				StartPeriod:   10 * time.Second,
				StartInterval: 200 * time.Millisecond,
				Retries:       3,
			}, *c.Healthcheck)
		})
	}
}

func TestRedisFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(redisFiles, "files/redis")
	require.NoError(t, err)
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkStatefulConfigOnlyChanges(t, embedded, tc.distro,
				[]string{"redis-entrypoint", "redis-healthcheck", "redis.conf"}, redis, tc.want)
		})
	}
}

func TestRedisMissingFile(t *testing.T) {
	embedded, err := fs.Sub(redisFiles, "files/redis")
	require.NoError(t, err)
	fsys := copyFS(t, embedded)
	delete(fsys, "redis.conf")

	_, err = redis(fsys)
	require.ErrorIs(t, err, ErrMissingFile)
	assert.Contains(t, err.Error(), "redis.conf")
}

func TestRedisZeroDistro(t *testing.T) {
	_, err := Redis(WithDistro(Distro{}))
	require.ErrorIs(t, err, ErrNoDistro)
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
	tests := []struct {
		name string
		file string
		want []string
		deny []string
	}{
		{
			name: "entrypoint",
			file: "redis-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"secret=/run/secrets/redis_password",
				`if [ -e "$secret" ]; then`,
				"requirepass",
				"maxmemory $REDIS_MAXMEMORY",
				"chmod 0640",
				"setpriv --reuid=redis --regid=redis --init-groups",
				`exec "$@"`,
			},
			deny: []string{"set -x", "--requirepass", "daemonize yes", "echo \"$pw"},
		},
		{
			name: "health check",
			file: "redis-healthcheck",
			want: []string{"#!/bin/sh\n", "set -eu", "REDISCLI_AUTH", "ping", `"$reply" != PONG`},
			deny: []string{" -a ", "--pass"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := redisFiles.ReadFile("files/redis/" + tc.file)
			require.NoError(t, err)
			text := string(dt)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, d := range tc.deny {
				assert.NotContains(t, text, d)
			}
		})
	}
}

func TestRedisGolden(t *testing.T) {
	for _, tc := range redisCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Redis(WithDistro(tc.distro))
			require.NoError(t, err)
			g := marshalGraph(t, img)
			checkGolden(t, "redis-"+tc.name, g.summary("redis on "+tc.distro.Name()))
		})
	}
}
