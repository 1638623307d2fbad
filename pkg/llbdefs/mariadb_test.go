package llbdefs

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statefulGraph is what the mariadb and redis graph tests expect of an image
// built like nginx: one install exec, one file op on the package chain, and
// a config layer from scratch merged on top.
type statefulGraph struct {
	image       string
	wantRef     string
	wantInstall string   // in the install exec's joined args
	wantPkgs    []string // exactly the packages after the installer's own args
	wantCaches  map[string]string
	tidyName    string // the file op on the package chain
	configName  string
	mergeName   string
	wantFiles   map[string]int32 // config layer: path -> mode
}

// checkStatefulGraph checks g against want and returns the package chain's
// file op, for the caller's own checks.
func checkStatefulGraph(t *testing.T, g graph, want statefulGraph, family Family) *pb.FileOp {
	t.Helper()
	for _, d := range g.order {
		assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
	}

	_, src := g.named(t, want.image+": base "+want.wantRef)
	require.NotNil(t, src.GetSource())
	assert.Equal(t, "docker-image://"+want.wantRef, src.GetSource().Identifier)
	assert.Equal(t, pb.AttrImageResolveModePreferLocal, src.GetSource().Attrs[pb.AttrImageResolveMode])

	execs := g.execs()
	require.Len(t, execs, 1, "one exec: the package install")
	installDgst := execs[0]
	assert.Equal(t, want.image+": install packages", g.names[installDgst])
	install := g.ops[installDgst].GetExec()
	assert.Contains(t, strings.Join(install.Meta.Args, " "), want.wantInstall)
	args := install.Meta.Args
	require.GreaterOrEqual(t, len(args), len(want.wantPkgs))
	assert.Equal(t, want.wantPkgs, args[len(args)-len(want.wantPkgs):], "packages")
	caches := map[string]string{}
	for _, m := range install.Mounts {
		if m.MountType != pb.MountType_CACHE {
			continue
		}
		caches[m.Dest] = m.CacheOpt.ID
		assert.Equal(t, pb.CacheSharingOpt_LOCKED, m.CacheOpt.Sharing, "apt locks %s", m.Dest)
	}
	assert.Equal(t, want.wantCaches, caches, "per-image cache ids")
	if family == FamilyDebian {
		assert.Contains(t, install.Meta.Env, "DEBIAN_FRONTEND=noninteractive")
	}

	require.Equal(t, want.mergeName, g.names[g.result])
	merge := g.ops[g.result]
	require.NotNil(t, merge.GetMerge())
	require.Len(t, merge.Inputs, 2)
	lower, upper := digest.Digest(merge.Inputs[0].Digest), digest.Digest(merge.Inputs[1].Digest)
	assert.Equal(t, want.tidyName, g.names[lower])
	assert.Equal(t, want.configName, g.names[upper])
	assert.True(t, g.ancestors(lower)[installDgst], "package chain holds the install")
	assert.False(t, g.ancestors(upper)[installDgst], "config layer must not depend on the install")
	assert.Empty(t, g.ops[upper].Inputs, "config layer starts from scratch")

	config := g.ops[upper].GetFile()
	require.NotNil(t, config)
	files := map[string]int32{}
	for _, a := range config.Actions {
		var owner *pb.ChownOpt
		var ts int64
		switch x := a.Action.(type) {
		case *pb.FileAction_Mkfile:
			files[x.Mkfile.Path] = x.Mkfile.Mode
			owner, ts = x.Mkfile.Owner, x.Mkfile.Timestamp
		case *pb.FileAction_Mkdir:
			assert.Equal(t, int32(0o755), x.Mkdir.Mode, x.Mkdir.Path)
			owner, ts = x.Mkdir.Owner, x.Mkdir.Timestamp
		default:
			t.Errorf("unexpected action %T in the config layer", x)
			continue
		}
		assert.Equal(t, "0:0", ownerString(owner))
		assert.Equal(t, int64(fileEpoch)*int64(time.Second), ts)
	}
	assert.Equal(t, want.wantFiles, files)

	tidy := g.ops[lower].GetFile()
	require.NotNil(t, tidy)
	assert.True(t, g.ancestors(lower)[installDgst])
	return tidy
}

// checkStatefulConfigOnlyChanges changes each embedded file in turn: only the config
// layer and the merge on top may change, never the install.
func checkStatefulConfigOnlyChanges(t *testing.T, embedded fs.FS, d Distro, files []string, build func(fs.FS, ...Option) (Image, error), want statefulGraph) {
	t.Helper()
	graphOf := func(fsys fs.FS) graph {
		img, err := build(fsys, WithDistro(d))
		require.NoError(t, err)
		return marshalGraph(t, img)
	}
	for _, changed := range files {
		t.Run(changed, func(t *testing.T) {
			modified := copyFS(t, embedded)
			require.Contains(t, modified, changed)
			modified[changed].Data = append(modified[changed].Data, "\n# changed\n"...)
			before, after := graphOf(embedded), graphOf(modified)
			wantChanged := map[string]bool{want.configName: true, want.mergeName: true}
			for _, dg := range before.order {
				name := before.names[dg]
				got, _ := after.named(t, name)
				if wantChanged[name] {
					assert.NotEqual(t, dg, got, "%q must change with %s", name, changed)
				} else {
					assert.Equal(t, dg, got, "%q must not change with %s", name, changed)
				}
			}
		})
	}
}

// checkStatefulConfigNoSecret: nothing in an image config may look like a
// credential; secrets only exist at run time under /run/secrets.
func checkStatefulConfigNoSecret(t *testing.T, dt []byte) {
	t.Helper()
	lower := strings.ToLower(string(dt))
	for _, w := range []string{"password", "passwd", "pwd", "secret", "-p"} {
		assert.NotContains(t, lower, w)
	}
}

type mariadbCase struct {
	name     string
	distro   Distro
	wantRef  string
	wantTini string
	wantConf string
	want     statefulGraph
}

const (
	mariadbTidyName   = "mariadb: empty datadir owned by mysql"
	mariadbConfigName = "mariadb: config, entrypoint and health check"
	mariadbMergeName  = "mariadb: add config layer"
)

func mariadbCases() []mariadbCase {
	sg := func(ref, install, conf string, pkgs []string, caches map[string]string) statefulGraph {
		return statefulGraph{
			image: "mariadb", wantRef: ref, wantInstall: install, wantPkgs: pkgs, wantCaches: caches,
			tidyName: mariadbTidyName, configName: mariadbConfigName, mergeName: mariadbMergeName,
			wantFiles: map[string]int32{
				"/usr/local/bin/mariadb-entrypoint":  0o755,
				"/usr/local/bin/mariadb-healthcheck": 0o755,
				conf:                                 0o644,
			},
		}
	}
	return []mariadbCase{
		{
			name:     "debian",
			distro:   Debian(),
			wantRef:  DebianRef,
			wantTini: "/usr/bin/tini",
			wantConf: "/etc/mysql/mariadb.conf.d/90-inception.cnf",
			want: sg(DebianRef, "apt-get update && apt-get install -y --no-install-recommends",
				"/etc/mysql/mariadb.conf.d/90-inception.cnf",
				[]string{"mariadb-server", "tini"},
				map[string]string{
					"/var/cache/apt":     "inception-apt-cache-mariadb",
					"/var/lib/apt/lists": "inception-apt-lists-mariadb",
				}),
		},
		{
			name:     "alpine",
			distro:   Alpine(),
			wantRef:  AlpineRef,
			wantTini: "/sbin/tini",
			wantConf: "/etc/my.cnf.d/zz-inception.cnf",
			want: sg(AlpineRef, "apk add --no-cache", "/etc/my.cnf.d/zz-inception.cnf",
				[]string{"mariadb", "mariadb-client", "tini"}, map[string]string{}),
		},
	}
}

func TestMariaDBGraph(t *testing.T) {
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := MariaDB(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "mariadb", img.Name)
			tidy := checkStatefulGraph(t, marshalGraph(t, img), tc.want, tc.distro.Family())

			// The datadir the package may have initialised is replaced by
			// an empty one that mysql owns.
			require.Len(t, tidy.Actions, 2)
			rm := tidy.Actions[0].GetRm()
			require.NotNil(t, rm)
			assert.Equal(t, "/var/lib/mysql", rm.Path)
			assert.True(t, rm.AllowNotFound)
			mkdir := tidy.Actions[1].GetMkdir()
			require.NotNil(t, mkdir)
			assert.Equal(t, "/var/lib/mysql", mkdir.Path)
			assert.Equal(t, "mysql:mysql", ownerString(mkdir.Owner))
		})
	}
}

func TestMariaDBImageConfig(t *testing.T) {
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := MariaDB(WithDistro(tc.distro))
			require.NoError(t, err)
			dt, err := img.ConfigJSON()
			require.NoError(t, err)
			checkStatefulConfigNoSecret(t, dt)

			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config
			assert.Equal(t, []string{tc.wantTini, "--", "/usr/local/bin/mariadb-entrypoint"}, c.Entrypoint)
			assert.Equal(t, []string{"mariadbd"}, c.Cmd)
			assert.Subset(t, c.Env, []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"MYSQL_DATABASE=wordpress",
				"MYSQL_USER=wpuser",
			})
			assert.Equal(t, map[string]struct{}{"3306/tcp": {}}, c.ExposedPorts)
			assert.Equal(t, map[string]struct{}{"/var/lib/mysql": {}}, c.Volumes)
			assert.Equal(t, "SIGTERM", c.StopSignal)
			assert.Equal(t, "mariadb", c.Labels["org.opencontainers.image.title"])
			assert.Equal(t, SourceURL, c.Labels["org.opencontainers.image.source"])
			assert.Equal(t, tc.wantRef, c.Labels["org.opencontainers.image.base.name"])
			assert.NotEmpty(t, c.Labels["org.opencontainers.image.description"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, dockerspec.HealthcheckConfig{
				Test:          []string{"CMD", "/usr/local/bin/mariadb-healthcheck"},
				Interval:      5 * time.Second,
				Timeout:       5 * time.Second,
				StartPeriod:   60 * time.Second,
				StartInterval: 200 * time.Millisecond,
				Retries:       3,
			}, *c.Healthcheck)
		})
	}
}

func TestMariaDBFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(mariadbFiles, "files/mariadb")
	require.NoError(t, err)
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkStatefulConfigOnlyChanges(t, embedded, tc.distro,
				[]string{"mariadb-entrypoint", "mariadb-healthcheck", "inception.cnf"}, mariadb, tc.want)
		})
	}
}

func TestMariaDBMissingFile(t *testing.T) {
	embedded, err := fs.Sub(mariadbFiles, "files/mariadb")
	require.NoError(t, err)
	fsys := copyFS(t, embedded)
	delete(fsys, "mariadb-healthcheck")

	_, err = mariadb(fsys)
	require.ErrorIs(t, err, ErrMissingFile)
	assert.Contains(t, err.Error(), "mariadb-healthcheck")
}

func TestMariaDBZeroDistro(t *testing.T) {
	_, err := MariaDB(WithDistro(Distro{}))
	require.ErrorIs(t, err, ErrNoDistro)
}

// TestMariaDBFiles checks the embedded files for what the image promises;
// the integration tests check that mariadbd agrees.
func TestMariaDBFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
		deny []string
	}{
		{
			name: "server config",
			file: "inception.cnf",
			want: []string{
				"[mysqld]",
				"user     = mysql",
				"datadir  = /var/lib/mysql",
				"bind-address    = 0.0.0.0",
				"skip-networking = OFF",
				"skip-name-resolve",
				"socket = /run/mysqld/mysqld.sock",
				"port   = 3306",
			},
			// Unset: mariadbd logs to stderr.
			deny: []string{"\nlog_error", "\nlog-error", "\nbind-address = 127", "password"},
		},
		{
			name: "entrypoint",
			file: "mariadb-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"read_secret db_root_password",
				"read_secret db_password",
				`die "missing secret file $f: mount the $1 secret"`,
				"--skip-test-db",
				"--auth-root-authentication-method=normal",
				"--skip-networking",
				`--socket="$boot_socket"`,
				"DELETE FROM mysql.global_priv WHERE User = '';",
				"DROP DATABASE IF EXISTS test;",
				"IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$root_sql')",
				"CREATE USER '$MYSQL_USER'@'%' IDENTIFIED BY '$app_sql';",
				"GRANT ALL PRIVILEGES ON \\`$grant_db\\`.* TO '$MYSQL_USER'@'%';",
				"mariadb-admin --socket=\"$boot_socket\" --user=root shutdown",
				`mv "$marker.tmp" "$marker"`,
				"has files but no",
				`exec "$@"`,
			},
			// No password on a command line, no tracing, no wrapper.
			deny: []string{"mysqld_safe", "set -x", "--password", "-p$", "MYSQL_PWD", "echo \"$root", "rm -rf"},
		},
		{
			name: "health check",
			file: "mariadb-healthcheck",
			want: []string{"#!/bin/sh\n", "set -eu", "--user=root", "/run/mysqld/mysqld.sock", "ping status"},
			deny: []string{"--password", "secrets", "MYSQL_PWD"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := mariadbFiles.ReadFile("files/mariadb/" + tc.file)
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

// TestMariaDBMarkerLast: the marker is written after the bootstrap server
// has shut down, never before, so a half-finished init cannot look done.
func TestMariaDBMarkerLast(t *testing.T) {
	dt, err := mariadbFiles.ReadFile("files/mariadb/mariadb-entrypoint")
	require.NoError(t, err)
	text := string(dt)
	start := strings.Index(text, "initialise() {")
	require.Positive(t, start)
	body := text[start:]
	body = body[:strings.Index(body, "\n}\n")]
	steps := []string{"mariadb-install-db", "start_bootstrap", "run_sql", "stop_bootstrap", `>"$marker.tmp"`, `mv "$marker.tmp" "$marker"`}
	last := -1
	for _, s := range steps {
		i := strings.Index(body, s)
		require.GreaterOrEqual(t, i, 0, "initialise has %s", s)
		assert.Greater(t, i, last, "%s comes after the step before it", s)
		last = i
	}
	assert.Equal(t, 1, strings.Count(text, `>"$marker`), "the marker is written in one place only")
	assert.Equal(t, 1, strings.Count(text, `mv "$marker.tmp" "$marker"`), "the marker is written in one place only")
}

func TestMariaDBGolden(t *testing.T) {
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := MariaDB(WithDistro(tc.distro))
			require.NoError(t, err)
			g := marshalGraph(t, img)
			checkGolden(t, "mariadb-"+tc.name, g.summary("mariadb on "+tc.distro.Name()))
		})
	}
}
