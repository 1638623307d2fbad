package llbdefs

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/moby/buildkit/solver/pb"
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
			name: "debian", distro: Debian(), wantRef: DebianRef, wantTini: "/usr/bin/tini",
			wantInstall: installWant{command: aptInstall, caches: aptCaches("adminer"),
				pkgs: []string{"adminer", "php8.2-fpm", "php8.2-mysql", "libfcgi-bin", "tini"}},
		},
		{
			name: "alpine", distro: Alpine(), wantRef: AlpineRef, wantTini: "/sbin/tini",
			wantInstall: installWant{command: apkInstall,
				pkgs: []string{"php84", "php84-fpm", "php84-session", "php84-mysqli", "php84-mbstring", "fcgi", "tini"}},
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
			checkVertexNames(t, g)
			checkBase(t, g, "adminer", tc.wantRef)

			installDgst, install := checkInstall(t, g, "adminer", tc.distro.Family(), tc.wantInstall)
			assert.NotContains(t, install.Meta.Args, "apache2")

			chainDgst, config := checkMergedConfigLayer(t, g, adminerMergeName, adminerConfigName, adminerInstallName)
			files := map[string]int32{
				"/etc/inception/php-fpm.conf": 0o644,
				"/usr/local/bin/php-fpm-ping": 0o755,
			}
			if tc.distro.Family() == FamilyDebian {
				// holder, as in wordpress: Perl, in every Debian image.
				files["/usr/local/bin/holder"] = 0o755
			}
			assert.Equal(t, files, layerFiles(t, g, config))

			// Adminer itself is a layer of its own, merged below the config
			// and independent of the package install.
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
			want := phpConfigWant(tc, "10") // no volumes: adminer keeps no data
			want.workDir = "/var/www/adminer"
			if tc.distro.Family() == FamilyDebian {
				// No entrypoint script: the Cmd runs php-fpm under
				// holder, holding php-fpm.conf's port.
				want.cmd = append([]string{"/usr/local/bin/holder", "--fpm-port", "9000"}, want.cmd...)
			}
			checkImageConfig(t, img, want)
		})
	}
}

// TestAdminerFileChangeRebuildsOnlyConfig: a php-fpm file change rebuilds
// the config layer and the last merge, nothing below.
func TestAdminerFileChangeRebuildsOnlyConfig(t *testing.T) {
	for _, tc := range adminerCases() {
		t.Run(tc.name, func(t *testing.T) {
			checkFileChanges(t, "adminer", tc.distro, withHolder(tc.distro, "php/php-fpm.conf", "php/php-fpm-ping"), adminerConfigName, adminerMergeName)
		})
	}
	t.Run("alpine: no holder, none of its changes", func(t *testing.T) {
		checkAlpineIgnoresHolder(t, "adminer", adminerConfigName)
	})
}

// TestAdminerHolderPort: the port adminer's Cmd has holder hold is the
// one php-fpm.conf listens on (see TestWordPressHolderPort).
func TestAdminerHolderPort(t *testing.T) {
	fsys, err := Files("adminer")
	require.NoError(t, err)
	conf, err := fs.ReadFile(fsys, "php/php-fpm.conf")
	require.NoError(t, err)
	listen := regexp.MustCompile(`(?m)^listen = ([0-9]+)$`).FindSubmatch(conf)
	require.NotNil(t, listen, "php-fpm.conf listens on a port of every address (listen = PORT)")
	img, err := Adminer(WithDistro(Debian()))
	require.NoError(t, err)
	cmd := img.Config.Config.Cmd
	require.GreaterOrEqual(t, len(cmd), 4, "adminer's Cmd runs holder --fpm-port PORT php-fpm ...: %v", cmd)
	assert.Equal(t, []string{"/usr/local/bin/holder", "--fpm-port", string(listen[1])}, cmd[:3])
}
