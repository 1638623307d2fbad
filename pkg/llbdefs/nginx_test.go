package llbdefs

import (
	"encoding/json"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the nginx tests look for.
const (
	nginxInstallName = "nginx: install packages"
	nginxTidyName    = "nginx: drop default site, logs to stdout/stderr"
	nginxConfigName  = "nginx: config and entrypoint"
	nginxMergeName   = "nginx: add config layer"
)

type nginxCase struct {
	name        string
	distro      Distro
	wantRef     string
	wantTini    string
	wantConfDir string
	wantSite    string
	wantInstall string            // in the install exec's joined args
	wantCaches  map[string]string // cache mount dest -> id
}

func nginxCases() []nginxCase {
	return []nginxCase{
		{
			name:        "debian",
			distro:      Debian(),
			wantRef:     "docker.io/library/debian:bookworm",
			wantTini:    "/usr/bin/tini",
			wantConfDir: "/etc/nginx/conf.d",
			wantSite:    "/etc/nginx/sites-enabled/default",
			wantInstall: "apt-get update && apt-get install -y --no-install-recommends",
			wantCaches: map[string]string{
				"/var/cache/apt":     "inception-apt-cache-nginx",
				"/var/lib/apt/lists": "inception-apt-lists-nginx",
			},
		},
		{
			name:        "alpine",
			distro:      Alpine(),
			wantRef:     "docker.io/library/alpine:3.23",
			wantTini:    "/sbin/tini",
			wantConfDir: "/etc/nginx/http.d",
			wantSite:    "/etc/nginx/http.d/default.conf",
			wantInstall: "apk add --no-cache",
			wantCaches:  map[string]string{},
		},
	}
}

func TestNginxGraph(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "nginx", img.Name)
			g := marshalGraph(t, img)

			for _, d := range g.order {
				assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
			}

			_, src := g.named(t, "nginx: base "+tc.wantRef)
			require.NotNil(t, src.GetSource())
			assert.Equal(t, "docker-image://"+tc.wantRef, src.GetSource().Identifier)
			assert.Equal(t, pb.AttrImageResolveModePreferLocal, src.GetSource().Attrs[pb.AttrImageResolveMode])

			execs := g.execs()
			require.Len(t, execs, 1, "one exec: the package install")
			installDgst := execs[0]
			assert.Equal(t, nginxInstallName, g.names[installDgst])
			install := g.ops[installDgst].GetExec()
			args := strings.Join(install.Meta.Args, " ")
			assert.Contains(t, args, tc.wantInstall)
			for _, p := range []string{"nginx", "openssl", "tini", "curl"} {
				assert.Contains(t, install.Meta.Args, p)
			}
			caches := map[string]string{}
			for _, m := range install.Mounts {
				if m.MountType != pb.MountType_CACHE {
					continue
				}
				caches[m.Dest] = m.CacheOpt.ID
				assert.Contains(t, m.CacheOpt.ID, "nginx", "cache %s is per image", m.Dest)
				assert.Equal(t, pb.CacheSharingOpt_LOCKED, m.CacheOpt.Sharing, "apt locks %s", m.Dest)
			}
			assert.Equal(t, tc.wantCaches, caches)
			if tc.distro.Family() == FamilyDebian {
				assert.Contains(t, install.Meta.Env, "DEBIAN_FRONTEND=noninteractive")
			}

			// The result merges the package chain with a config layer that
			// does not depend on the install.
			require.Equal(t, nginxMergeName, g.names[g.result])
			merge := g.ops[g.result]
			require.NotNil(t, merge.GetMerge())
			require.Len(t, merge.Inputs, 2)
			lower, upper := digest.Digest(merge.Inputs[0].Digest), digest.Digest(merge.Inputs[1].Digest)
			assert.Equal(t, nginxTidyName, g.names[lower])
			assert.Equal(t, nginxConfigName, g.names[upper])
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
			assert.Equal(t, map[string]int32{
				"/usr/local/bin/nginx-entrypoint":            0o755,
				"/etc/nginx/inception/server.conf.template":  0o644,
				"/etc/nginx/inception/adminer.conf.template": 0o644,
				"/etc/nginx/inception/static.conf.template":  0o644,
				path.Join(tc.wantConfDir, "inception.conf"):  0o644,
			}, files)

			tidy := g.ops[lower].GetFile()
			require.NotNil(t, tidy)
			var removed []string
			for _, a := range tidy.Actions {
				if rm := a.GetRm(); rm != nil {
					removed = append(removed, rm.Path)
				}
			}
			assert.Contains(t, removed, tc.wantSite, "no port 80 server")
		})
	}
}

func TestNginxImageConfig(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(WithDistro(tc.distro))
			require.NoError(t, err)
			dt, err := img.ConfigJSON()
			require.NoError(t, err)

			var raw map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(dt, &raw))
			assert.JSONEq(t, `"linux"`, string(raw["os"]))
			assert.JSONEq(t, `"amd64"`, string(raw["architecture"]))
			assert.JSONEq(t, `{"type":"layers","diff_ids":[]}`, string(raw["rootfs"]))
			assert.NotContains(t, string(dt), "latest")

			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config
			assert.Equal(t, []string{tc.wantTini, "--", "/usr/local/bin/nginx-entrypoint"}, c.Entrypoint)
			assert.Equal(t, []string{"nginx", "-g", "daemon off;"}, c.Cmd)
			assert.Subset(t, c.Env, []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"DOMAIN_NAME=localhost",
				"WORDPRESS_UPSTREAM=wordpress:9000",
				"ADMINER_UPSTREAM=adminer:9000",
				"STATIC_UPSTREAM=static:8080",
			})
			assert.Equal(t, map[string]struct{}{"443/tcp": {}}, c.ExposedPorts)
			assert.Equal(t, map[string]struct{}{"/var/www/html": {}}, c.Volumes)
			assert.Equal(t, "SIGQUIT", c.StopSignal)
			assert.Equal(t, "nginx", c.Labels["org.opencontainers.image.title"])
			assert.Equal(t, SourceURL, c.Labels["org.opencontainers.image.source"])
			assert.Equal(t, tc.wantRef, c.Labels["org.opencontainers.image.base.name"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, dockerspec.HealthcheckConfig{
				Test:          []string{"CMD", "curl", "-kfsS", "-o", "/dev/null", "https://127.0.0.1/nginx-health"},
				Interval:      5 * time.Second,
				Timeout:       3 * time.Second,
				StartPeriod:   5 * time.Second,
				StartInterval: 200 * time.Millisecond,
				Retries:       3,
			}, *c.Healthcheck)
		})
	}
}

// TestNginxFileChangeRebuildsOnlyConfig changes one embedded file at a time:
// only the config layer and the merge on top may change, never the install.
func TestNginxFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(nginxFiles, "files/nginx")
	require.NoError(t, err)
	for _, tc := range nginxCases() {
		for _, changed := range []string{"nginx-entrypoint", "server.conf.template", "adminer.conf.template", "static.conf.template", "inception.conf"} {
			t.Run(tc.name+"/"+changed, func(t *testing.T) {
				modified := copyFS(t, embedded)
				modified[changed].Data = append(modified[changed].Data, "\n# changed\n"...)

				before := imageGraph(t, embedded, tc.distro)
				after := imageGraph(t, modified, tc.distro)

				wantChanged := map[string]bool{nginxConfigName: true, nginxMergeName: true}
				for _, d := range before.order {
					name := before.names[d]
					got, _ := after.named(t, name)
					if wantChanged[name] {
						assert.NotEqual(t, d, got, "%q must change with %s", name, changed)
					} else {
						assert.Equal(t, d, got, "%q must not change with %s", name, changed)
					}
				}
				installBefore, _ := before.named(t, nginxInstallName)
				installAfter, _ := after.named(t, nginxInstallName)
				assert.Equal(t, installBefore, installAfter, "install exec digest")
			})
		}
	}
}

func imageGraph(t *testing.T, fsys fs.FS, d Distro) graph {
	t.Helper()
	img, err := nginx(fsys, WithDistro(d))
	require.NoError(t, err)
	return marshalGraph(t, img)
}

// copyFS copies fsys into a MapFS that a test can change.
func copyFS(t *testing.T, fsys fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dt, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: dt, Mode: 0o644}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out)
	return out
}

func TestNginxMissingFile(t *testing.T) {
	embedded, err := fs.Sub(nginxFiles, "files/nginx")
	require.NoError(t, err)
	fsys := copyFS(t, embedded)
	delete(fsys, "server.conf.template")

	_, err = nginx(fsys)
	require.ErrorIs(t, err, ErrMissingFile)
	assert.Contains(t, err.Error(), "server.conf.template")
}

// TestNginxFiles checks the embedded files for what the image promises;
// nginx itself checks the rendered config at start (nginx -t).
func TestNginxFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
		deny []string
	}{
		{
			name: "server template",
			file: "server.conf.template",
			want: []string{
				"listen 443 ssl default_server;",
				"listen [::]:443 ssl default_server;",
				"server_name @DOMAIN_NAME@;",
				"ssl_protocols TLSv1.2 TLSv1.3;",
				"ssl_prefer_server_ciphers off;",
				"root /var/www/html;",
				"index index.php index.html;",
				`location ~ \.php$`,
				"include fastcgi_params;",
				"fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;",
				"fastcgi_param HTTP_HOST $http_host;",
				"fastcgi_pass @WORDPRESS_UPSTREAM@;",
				"location = /nginx-health",
				`return 200 "ok\n";`,
				"access_log /dev/stdout;",
				"error_log /dev/stderr;",
				"absolute_redirect off;",
				"client_max_body_size 32m;",
				"include /etc/nginx/inception/server.d/*.conf;",
				`location ~ /\.(?!well-known/)`,
				`location ~* ^/wp-content/uploads/.*\.php$`,
			},
			deny: []string{"listen 80", "TLSv1.1", "TLSv1 ", "ssl_prefer_server_ciphers on", "@ADMINER_UPSTREAM@"},
		},
		{
			name: "adminer location",
			file: "adminer.conf.template",
			want: []string{
				"location = /adminer {",
				"return 301 /adminer/;",
				"location ^~ /adminer/ {",
				"include fastcgi_params;",
				"fastcgi_param SCRIPT_FILENAME /var/www/adminer/index.php;",
				"fastcgi_param HTTP_HOST $http_host;",
				"fastcgi_pass @ADMINER_UPSTREAM@;",
			},
			deny: []string{"server {", "root "},
		},
		{
			name: "include",
			file: "inception.conf",
			want: []string{"include /etc/nginx/inception/server.conf;"},
		},
		{
			name: "entrypoint",
			file: "nginx-entrypoint",
			want: []string{
				"#!/bin/sh\n",
				"set -eu",
				"/run/secrets/tls_cert",
				"/run/secrets/tls_key",
				`-subj "/CN=$DOMAIN_NAME"`,
				"DNS:$DOMAIN_NAME,DNS:localhost,IP:127.0.0.1",
				"/etc/nginx/inception/server.conf.template",
				"/etc/nginx/inception/adminer.conf.template",
				"ADMINER_UPSTREAM=${ADMINER_UPSTREAM-adminer:9000}",
				`check_upstream ADMINER_UPSTREAM "$ADMINER_UPSTREAM"`,
				`rm -f "$server_d/adminer.conf"`,
				"nginx -t",
				"set -- nginx -g 'daemon off;'",
				`exec "$@"`,
			},
			deny: []string{"envsubst", "cat /run/secrets", "set -x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := nginxFiles.ReadFile("files/nginx/" + tc.file)
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

// TestNginxCiphers: forward secrecy and AEAD only for TLS 1.2.
func TestNginxCiphers(t *testing.T) {
	dt, err := nginxFiles.ReadFile("files/nginx/server.conf.template")
	require.NoError(t, err)
	var ciphers []string
	for line := range strings.Lines(string(dt)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ssl_ciphers "); ok {
			require.Nil(t, ciphers, "one ssl_ciphers line")
			ciphers = strings.Split(strings.TrimSuffix(v, ";"), ":")
		}
	}
	require.NotEmpty(t, ciphers)
	for _, c := range ciphers {
		assert.True(t, strings.HasPrefix(c, "ECDHE-"), "%s: no forward secrecy", c)
		assert.True(t, strings.Contains(c, "-GCM-") || strings.HasSuffix(c, "-CHACHA20-POLY1305"), "%s: not AEAD", c)
	}
}

func TestNginxGolden(t *testing.T) {
	for _, tc := range nginxCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(WithDistro(tc.distro))
			require.NoError(t, err)
			g := marshalGraph(t, img)
			checkGolden(t, "nginx-"+tc.name, g.summary("nginx on "+tc.distro.Name()))
		})
	}
}
