package integration

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// runRedis runs one redis container on a /data directory, with extra spec
// options (secrets, env).
func runRedis(ctx context.Context, t *testing.T, e *env, ref, data string, opts ...oci.SpecOpts) running {
	t.Helper()
	opts = append([]oci.SpecOpts{withBind(data, "/data", false), withHosts(t, "")}, opts...)
	return runContainer(ctx, t, e, "redis", ref, nil, opts...)
}

// redisCLI runs redis-cli against 127.0.0.1 and returns its trimmed output.
// It fails the test when redis-cli itself fails; an error reply is output.
func redisCLI(ctx context.Context, t *testing.T, r running, args ...string) string {
	t.Helper()
	code, out := execOnce(ctx, t, r, append([]string{"redis-cli", "-h", "127.0.0.1"}, args...)...)
	require.Equal(t, 0, code, out)
	return strings.TrimSpace(out)
}

// TestRedis: commands, configuration, process tree, and data that survives a
// restart on the same /data directory.
func TestRedis(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "redis")
	require.Len(t, rep.Images, 1)
	ref := rep.Images[0].Ref
	hc := imageHealthcheck(t, llbdefs.Redis)
	// A fresh volume as the runtime makes one: owned by root. The
	// entrypoint hands it to redis.
	data := t.TempDir()
	value := "kept-" + randomSuffix(t)

	first := runRedis(ctx, t, e, ref, data)
	eventuallyHealthy(ctx, t, first, hc, time.Minute)

	t.Run("commands", func(t *testing.T) {
		assert.Equal(t, "PONG", redisCLI(ctx, t, first, "PING"))
		assert.Equal(t, "OK", redisCLI(ctx, t, first, "SET", "inception:key", value))
		assert.Equal(t, value, redisCLI(ctx, t, first, "GET", "inception:key"))
		// The container's own address: redis listens on every interface.
		code, out := execOnce(ctx, t, first, "redis-cli", "-h", first.IP.String(), "PING")
		require.Equal(t, 0, code, out)
		assert.Equal(t, "PONG", strings.TrimSpace(out))
	})

	t.Run("configuration", func(t *testing.T) {
		for k, want := range map[string]string{
			"maxmemory-policy": "allkeys-lru",
			"maxmemory":        "134217728", // REDIS_MAXMEMORY's default, 128mb
			"appendonly":       "yes",
			"dir":              "/data",
			"bind":             "0.0.0.0",
			"protected-mode":   "no",
			"daemonize":        "no",
			"requirepass":      "", // no redis_password secret
		} {
			assert.Equal(t, strings.TrimSpace(k+"\n"+want), redisCLI(ctx, t, first, "CONFIG", "GET", k), k)
		}
	})

	t.Run("the volume belongs to redis", func(t *testing.T) {
		code, out := first.exec(ctx, t, "id", "-u", "redis")
		require.Equal(t, 0, code, out)
		uid, err := strconv.Atoi(strings.TrimSpace(out))
		require.NoError(t, err)
		fi, err := os.Stat(data)
		require.NoError(t, err)
		assert.Equal(t, uint32(uid), fi.Sys().(*syscall.Stat_t).Uid)
	})

	t.Run("tini is PID 1 and runs holder, which runs redis-server, both as redis", func(t *testing.T) {
		code, comm := first.exec(ctx, t, "cat", "/proc/1/comm")
		require.Equal(t, 0, code)
		assert.Equal(t, "tini", strings.TrimSpace(comm))
		procs := processes(ctx, t, first)
		h := processNamed(t, procs, "holder")
		assert.Equal(t, "redis", h[1], "holder's user")
		assert.Equal(t, "1", h[2], "holder's parent is tini")
		p := processNamed(t, procs, "redis-server")
		assert.Equal(t, "redis", p[1], "redis-server's user")
		assert.Equal(t, h[3], p[2], "redis-server's parent is holder")
	})

	t.Run("SIGTERM saves and exits", func(t *testing.T) {
		code, after := stopWithSIGTERM(ctx, t, first, 20*time.Second)
		assert.Equal(t, uint32(0), code, "exit code; log after SIGTERM:\n%s", after)
		assert.Contains(t, after, "DB saved on disk")
		assert.Contains(t, after, "ready to exit")
	})

	// Same /data, another memory limit from the environment.
	second := runRedis(ctx, t, e, ref, data, oci.WithEnv([]string{"REDIS_MAXMEMORY=64mb"}))
	eventuallyHealthy(ctx, t, second, hc, time.Minute)

	t.Run("data survives a restart", func(t *testing.T) {
		assert.Equal(t, value, redisCLI(ctx, t, second, "GET", "inception:key"))
	})

	t.Run("REDIS_MAXMEMORY sets the limit", func(t *testing.T) {
		assert.Equal(t, "maxmemory\n67108864", redisCLI(ctx, t, second, "CONFIG", "GET", "maxmemory"))
	})
}

// TestRedisPassword: with the optional redis_password secret, clients must
// authenticate; the health check still passes, and the password appears on no
// command line and in no log.
func TestRedisPassword(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "redis")
	hc := imageHealthcheck(t, llbdefs.Redis)
	// Quote, backslash and a space: what config-file quoting gets wrong.
	password := `re"dis\ pw ` + randomSuffix(t)
	secrets := secretFilesDir(t, map[string]string{"redis_password": password})

	r := runRedis(ctx, t, e, rep.Images[0].Ref, t.TempDir(), withBind(secrets, "/run/secrets", true))
	eventuallyHealthy(ctx, t, r, hc, time.Minute)

	assert.Contains(t, redisCLI(ctx, t, r, "PING"), "NOAUTH")
	// The password on redis-cli's stdin, as the health check gives it.
	code, out := execOnce(ctx, t, r, "sh", "-c",
		`exec redis-cli --askpass -h 127.0.0.1 PING </run/secrets/redis_password`)
	require.Equal(t, 0, code, out)
	assert.Equal(t, "PONG", strings.TrimSpace(out))
	_, out = execOnce(ctx, t, r, "sh", "-c", `REDISCLI_AUTH=wrong exec redis-cli -h 127.0.0.1 PING`)
	assert.Contains(t, out, "WRONGPASS")
	assert.NotContains(t, out, "PONG")

	all := cmdlines(ctx, t, r)
	assert.Contains(t, all, "redis-server")
	assert.NotContains(t, all, password)
	assert.NotContains(t, r.logs(t), password)
	assert.Contains(t, r.logs(t), "clients must authenticate")
}

// TestRedisRejectsBadMaxmemory: REDIS_MAXMEMORY lands in a config file, so
// anything but a size is refused before redis starts.
func TestRedisRejectsBadMaxmemory(t *testing.T) {
	ctx, e := setup(t)
	rep := buildServices(ctx, t, e, "redis")
	r := runRedis(ctx, t, e, rep.Images[0].Ref, t.TempDir(),
		oci.WithEnv([]string{"REDIS_MAXMEMORY=1gb\nrequirepass x"}))
	code := taskExitCode(ctx, t, r, time.Minute)
	assert.NotEqual(t, uint32(0), code)
	assert.Contains(t, r.logs(t), "REDIS_MAXMEMORY must be a size")
}
