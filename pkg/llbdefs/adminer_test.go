package llbdefs

import (
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the adminer tests look for.
const (
	adminerInstallName  = "adminer: install packages"
	adminerConfigName   = "adminer: php-fpm config"
	adminerMergeName    = "adminer: add config layer"
	adminerAppMergeName = "adminer: add Adminer layer"
)

func adminerCases() []phpImageCase {
	return []phpImageCase{
		{
			name: "debian", distro: Debian(), wantTini: "/usr/bin/tini",
			wantPkgs: []string{"adminer", "php8.2-fpm", "php8.2-mysql", "libfcgi-bin", "tini"},
		},
		{
			name: "alpine", distro: Alpine(), wantTini: "/sbin/tini",
			wantPkgs: []string{"php84-fpm", "php84-session", "php84-mysqli", "fcgi", "tini"},
		},
	}
}

func TestAdminerGraph(t *testing.T) {
	for _, tc := range adminerCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Adminer(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "adminer", img.Name)
			g := marshalGraph(t, img)
			for _, d := range g.order {
				assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
			}

			installDgst, install := g.named(t, adminerInstallName)
			for _, p := range tc.wantPkgs {
				assert.Contains(t, install.GetExec().Meta.Args, p)
			}
			assert.NotContains(t, install.GetExec().Meta.Args, "apache2")

			config := checkMergedConfigLayer(t, g, adminerMergeName, adminerConfigName, adminerInstallName)
			assert.Equal(t, map[string]int32{
				"/etc/inception/php-fpm.conf": 0o644,
				"/usr/local/bin/php-fpm-ping": 0o755,
			}, layerFiles(t, g, config))

			// Adminer itself is a layer of its own, merged below the config
			// and independent of the package install.
			chainDgst := digest.Digest(g.ops[g.result].Inputs[0].Digest)
			require.Equal(t, adminerAppMergeName, g.names[chainDgst])
			app := g.ops[chainDgst]
			require.NotNil(t, app.GetMerge())
			require.Len(t, app.Inputs, 2)
			appLayer := digest.Digest(app.Inputs[1].Digest)
			assert.False(t, g.ancestors(appLayer)[installDgst], "Adminer layer must not depend on the install")
			fop := g.ops[appLayer].GetFile()
			require.NotNil(t, fop)
			var script *pb.FileAction
			for _, a := range fop.Actions {
				if a.GetSymlink() != nil || a.GetCopy() != nil {
					script = a
				}
			}
			require.NotNil(t, script, "the layer puts Adminer at %s", adminerScript)
			switch tc.distro.Family() {
			case FamilyDebian:
				l := script.GetSymlink()
				require.NotNil(t, l)
				assert.Equal(t, "/var/www/adminer/index.php", l.Newpath)
				assert.Equal(t, "/etc/adminer/conf.php", l.Oldpath, "Debian's entry point, plugins and all")
			case FamilyAlpine:
				c := script.GetCopy()
				require.NotNil(t, c)
				assert.Equal(t, "/var/www/adminer/index.php", c.Dest)
				_, src := g.named(t, "adminer: download "+adminerAlpineURL)
				assert.Equal(t, string(adminerAlpineSHA256), src.GetSource().Attrs[pb.AttrHTTPChecksum], "the download is pinned")
			}
		})
	}
}

func TestAdminerImageConfig(t *testing.T) {
	for _, tc := range adminerCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Adminer(WithDistro(tc.distro))
			require.NoError(t, err)
			dt, err := img.ConfigJSON()
			require.NoError(t, err)
			var got dockerspec.DockerOCIImage
			require.NoError(t, json.Unmarshal(dt, &got))
			assert.Equal(t, img.Config, got, "config round-trips")
			c := got.Config
			assert.Equal(t, []string{tc.wantTini, "--"}, c.Entrypoint)
			assert.Equal(t, []string{"/usr/local/sbin/php-fpm", "--nodaemonize", "--force-stderr", "--fpm-config", "/etc/inception/php-fpm.conf"}, c.Cmd)
			assert.Equal(t, map[string]struct{}{"9000/tcp": {}}, c.ExposedPorts)
			assert.Empty(t, c.Volumes, "adminer keeps no data")
			assert.Equal(t, "/var/www/adminer", c.WorkingDir)
			assert.Equal(t, "adminer", c.Labels["org.opencontainers.image.title"])
			require.NotNil(t, c.Healthcheck)
			assert.Equal(t, []string{"CMD", "/usr/local/bin/php-fpm-ping"}, c.Healthcheck.Test)
		})
	}
}

// TestAdminerFileChangeRebuildsOnlyConfig: a php-fpm file change rebuilds
// the config layer and the last merge, nothing below.
func TestAdminerFileChangeRebuildsOnlyConfig(t *testing.T) {
	embedded, err := fs.Sub(adminerFiles, "files")
	require.NoError(t, err)
	build := func(fsys fs.FS, d Distro) graph {
		img, err := adminer(fsys, WithDistro(d))
		require.NoError(t, err)
		return marshalGraph(t, img)
	}
	for _, tc := range adminerCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkOnlyConfigChanges(t, build, embedded, tc.distro, []string{"php/php-fpm.conf", "php/php-fpm-ping"},
				adminerConfigName, adminerMergeName)
		})
	}
}

func TestAdminerMissingFile(t *testing.T) {
	embedded, err := fs.Sub(adminerFiles, "files")
	require.NoError(t, err)
	fsys := copyFS(t, embedded)
	delete(fsys, "php/php-fpm-ping")
	_, err = adminer(fsys)
	require.ErrorIs(t, err, ErrMissingFile)
	assert.Contains(t, err.Error(), "php-fpm-ping")
}

func TestAdminerGolden(t *testing.T) {
	for _, tc := range adminerCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Adminer(WithDistro(tc.distro))
			require.NoError(t, err)
			g := marshalGraph(t, img)
			checkGolden(t, "adminer-"+tc.name, g.summary("adminer on "+tc.distro.Name()))
		})
	}
}
