package llbdefs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type mariadbCase struct {
	name     string
	distro   Distro
	wantRef  string
	wantTini string
	want     layeredWant
}

const (
	mariadbTidyName   = "mariadb: empty datadir owned by mysql"
	mariadbConfigName = "mariadb: config, entrypoint and health check"
	mariadbMergeName  = "mariadb: add config layer"
)

func mariadbCases() []mariadbCase {
	lw := func(ref, conf string, install installWant) layeredWant {
		w := layeredWant{
			image: "mariadb", ref: ref, install: install,
			lowerName: mariadbTidyName, configName: mariadbConfigName, mergeName: mariadbMergeName,
			files: map[string]int32{
				"/usr/local/bin/mariadb-entrypoint":  0o755,
				"/usr/local/bin/mariadb-healthcheck": 0o755,
				conf:                                 0o644,
			},
		}
		// holder, as in wordpress: Perl, in every Debian image.
		if ref == DebianRef {
			w.files["/usr/local/bin/holder"] = 0o755
		}
		return w
	}
	return []mariadbCase{
		{
			name:     "debian",
			distro:   Debian(),
			wantRef:  DebianRef,
			wantTini: "/usr/bin/tini",
			want: lw(DebianRef, "/etc/mysql/mariadb.conf.d/90-inception.cnf", installWant{
				command: aptInstall, pkgs: []string{"mariadb-server", "tini"}, caches: aptCaches("mariadb"),
			}),
		},
		{
			name:     "alpine",
			distro:   Alpine(),
			wantRef:  AlpineRef,
			wantTini: "/sbin/tini",
			want: lw(AlpineRef, "/etc/my.cnf.d/zz-inception.cnf", installWant{
				command: apkInstall, pkgs: []string{"mariadb", "mariadb-client", "coreutils", "tini"},
			}),
		},
	}
}

func TestMariaDBGraph(t *testing.T) {
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := MariaDB(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "mariadb", img.Name)
			g := marshalGraph(t, img)
			tidy := g.ops[checkLayeredGraph(t, g, tc.distro.Family(), tc.want)].GetFile()
			require.NotNil(t, tidy)

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
			_, dt := checkImageConfig(t, img, configWant{
				entrypoint: []string{tc.wantTini, "--", "/usr/local/bin/mariadb-entrypoint"},
				cmd:        []string{"mariadbd"},
				env: []string{
					"MYSQL_DATABASE=wordpress",
					"MYSQL_USER=wpuser",
				},
				ports:      []string{"3306/tcp"},
				volumes:    []string{"/var/lib/mysql"},
				workDir:    "/",
				stopSignal: "SIGTERM",
				baseRef:    tc.wantRef,
				health:     slowStartHealth(5*time.Second, 60*time.Second, "CMD", "/usr/local/bin/mariadb-healthcheck"),
			})
			checkConfigNoSecret(t, dt)
		})
	}
}

func TestMariaDBFileChangeRebuildsOnlyConfig(t *testing.T) {
	for _, tc := range mariadbCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "mariadb", tc.distro, withHolder(tc.distro, "mariadb/mariadb-entrypoint", "mariadb/mariadb-healthcheck", "mariadb/inception.cnf"), mariadbConfigName, mariadbMergeName)
		})
	}
	t.Run("alpine: no holder, none of its changes", func(t *testing.T) {
		checkAlpineIgnoresHolder(t, "mariadb", mariadbConfigName)
	})
}

// TestMariaDBFiles checks the embedded files for what the image promises;
// the integration tests check that mariadbd agrees.
func TestMariaDBFiles(t *testing.T) {
	checkFileTexts(t, "mariadb", []fileWant{
		{
			name: "server config",
			file: "mariadb/inception.cnf",
			want: []string{
				"[mysqld]",
				"user     = mysql",
				"datadir  = /var/lib/mysql",
				"bind-address    = 0.0.0.0",
				"skip-networking = OFF",
				"skip-name-resolve",
				"socket = /run/mysqld/mysqld.sock",
				"port   = 3306",
				// Small caches for the engines WordPress does not use:
				// a faster start after a crash.
				"key_buffer_size            = 8M",
				"aria_pagecache_buffer_size = 8M",
			},
			// Unset: mariadbd logs to stderr.
			deny: []string{"\nlog_error", "\nlog-error", "\nbind-address = 127", "password"},
		},
		{
			name: "entrypoint",
			file: "mariadb/mariadb-entrypoint",
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
				"kill -TERM \"$boot\"", "wait \"$boot\"",
				"scratch=/tmp/mariadb-init", `--datadir="$scratch"`, `--extra-file="$init_sql"`,
				`(umask 077 && cat >"$init_sql")`, `rm -f "$init_sql" "$log"`, `sed -e "s/ near '.*//" -e '/IDENTIFIED\|PASSWORD(/d' "$log" >&2`, `cp -a --sparse=always "$scratch/." "$datadir/"`, `find "$datadir" -exec sync {} +`,
				`mv "$marker.tmp" "$marker"`,
				"has files but no",
				// mariadbd under holder where there is Perl (Debian).
				"if [ -x /usr/local/bin/holder ]; then",
				`set -- /usr/local/bin/holder "$@"`,
				`exec "$@"`,
			},
			// No password on a command line, no tracing, no wrapper, and
			// nothing removed but the scratch directory on /tmp.
			deny: []string{"mysqld_safe", "set -x", "--password", "-p$", "MYSQL_PWD", "echo \"$root", `rm -rf "$datadir`, "rm -rf /var"},
		},
		{
			name: "health check",
			file: "mariadb/mariadb-healthcheck",
			want: []string{"#!/bin/sh\n", "set -eu", "--user=root", "/run/mysqld/mysqld.sock", "ping status"},
			deny: []string{"--password", "secrets", "MYSQL_PWD"},
		},
	})
}

// TestMariaDBMarkerLast: the marker is written after install-db's bootstrap
// (with the set-up SQL) has finished and its result is in the volume and
// on disk, never before, so a half-finished init cannot look done.
func TestMariaDBMarkerLast(t *testing.T) {
	dt, err := mariadbFiles.ReadFile("files/mariadb/mariadb-entrypoint")
	require.NoError(t, err)
	text := string(dt)
	start := strings.Index(text, "initialise() {")
	require.Positive(t, start)
	body := text[start:]
	body = body[:strings.Index(body, "\n}\n")]
	steps := []string{`cat >"$init_sql"`, "mariadb-install-db", `--extra-file="$init_sql"`, `die "mariadb-install-db failed"`,
		`cp -a --sparse=always "$scratch/." "$datadir/"`, `find "$datadir" -exec sync {} +`, `>"$marker.tmp"`, `mv "$marker.tmp" "$marker"`}
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

// TestMariaDBEntrypointRemovesOnlyScratch: the only directory the entrypoint
// ever removes is its scratch copy on /tmp, never data.
func TestMariaDBEntrypointRemovesOnlyScratch(t *testing.T) {
	dt, err := mariadbFiles.ReadFile("files/mariadb/mariadb-entrypoint")
	require.NoError(t, err)
	text := string(dt)
	require.Contains(t, text, `rm -rf "$scratch"`)
	assert.Equal(t, strings.Count(text, "rm -r"), strings.Count(text, `rm -rf "$scratch"`), "an rm -r of something else than the scratch directory")
}
