package llbdefs

import (
	"encoding/json"
	"io/fs"
	"maps"
	"regexp"
	"slices"
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

// The checks every image test shares. Each image's _test.go file says what
// it expects as data (package lists, files, config); these functions hold
// the checks, so a check changes in one place for every image.

// Installer command lines, as an install exec's joined arguments hold them.
const (
	aptInstall = "apt-get install -y --no-install-recommends"
	apkInstall = "apk add --no-cache"
)

// aptCaches are the cache mounts of image's package install on Debian, one
// per image (the package lists are a mount of a vertex every image shares:
// TestAptListsShared). Alpine's installs have none.
func aptCaches(image string) map[string]string {
	return map[string]string{"/var/cache/apt": "inception-apt-cache-" + image}
}

// testDistro is a distro every image is tested on, named as the golden
// files name it.
type testDistro struct {
	name   string
	distro Distro
}

func testDistros() []testDistro {
	return []testDistro{{"debian", Debian()}, {"alpine", Alpine()}}
}

// testImage is an image of the package with its exported constructor.
type testImage struct {
	name  string
	build func(...Option) (Image, error)
}

func testImages() []testImage {
	return []testImage{
		{"nginx", Nginx}, {"wordpress", WordPress}, {"adminer", Adminer}, {"mariadb", MariaDB},
		{"redis", Redis}, {"vsftpd", Vsftpd}, {"static", Static},
	}
}

// checkVertexNames: every vertex has an llb.customname, so that progress
// output reads well.
func checkVertexNames(t *testing.T, g graph) {
	t.Helper()
	for _, d := range g.order {
		assert.NotEmpty(t, g.names[d], "%s vertex %s has no llb.customname", kind(g.ops[d]), d)
	}
}

// checkBase checks the vertex "<image>: base <ref>": the distro's image,
// taken from the local image store when it is there.
func checkBase(t *testing.T, g graph, image, ref string) {
	t.Helper()
	_, src := g.named(t, image+": base "+ref)
	require.NotNil(t, src.GetSource())
	assert.Equal(t, "docker-image://"+ref, src.GetSource().Identifier)
	assert.Equal(t, pb.AttrImageResolveModePreferLocal, src.GetSource().Attrs[pb.AttrImageResolveMode])
}

// installWant is what an image's package install exec must look like.
type installWant struct {
	command string            // in the joined arguments: aptInstall or apkInstall
	pkgs    []string          // the last arguments, in this order
	caches  map[string]string // cache mount destination -> id; none on Alpine
}

// checkInstall checks the vertex "<image>: install packages" against want:
// the installer, the packages as arguments, per-image caches that the
// package manager locks, no questions asked on Debian. It returns the
// vertex's digest and exec.
func checkInstall(t *testing.T, g graph, image string, family Family, want installWant) (digest.Digest, *pb.ExecOp) {
	t.Helper()
	d, op := g.named(t, image+": install packages")
	install := op.GetExec()
	require.NotNil(t, install, "the install is an exec")
	args := install.Meta.Args
	assert.Contains(t, strings.Join(args, " "), want.command)
	require.GreaterOrEqual(t, len(args), len(want.pkgs))
	assert.Equal(t, want.pkgs, args[len(args)-len(want.pkgs):], "packages, as arguments")
	caches := map[string]string{}
	for _, m := range install.Mounts {
		if m.MountType != pb.MountType_CACHE {
			continue
		}
		caches[m.Dest] = m.CacheOpt.ID
		assert.Contains(t, m.CacheOpt.ID, image, "cache %s is per image", m.Dest)
		assert.Equal(t, pb.CacheSharingOpt_LOCKED, m.CacheOpt.Sharing, "the package manager locks %s", m.Dest)
	}
	if len(want.caches) == 0 {
		assert.Empty(t, caches, "cache mounts")
	} else {
		assert.Equal(t, want.caches, caches, "per-image cache ids")
	}
	if family == FamilyDebian {
		assert.Contains(t, install.Meta.Env, "DEBIAN_FRONTEND=noninteractive")
	}
	return d, install
}

// checkMergedConfigLayer checks that the image's result merges the package
// chain (lower, holding the install) with a config layer (upper) built from
// scratch that does not depend on the install, and returns both.
func checkMergedConfigLayer(t *testing.T, g graph, mergeName, configName, installName string) (lower, upper digest.Digest) {
	t.Helper()
	require.Equal(t, mergeName, g.names[g.result])
	merge := g.ops[g.result]
	require.NotNil(t, merge.GetMerge())
	require.Len(t, merge.Inputs, 2)
	lower, upper = digest.Digest(merge.Inputs[0].Digest), digest.Digest(merge.Inputs[1].Digest)
	install, _ := g.named(t, installName)
	assert.Equal(t, configName, g.names[upper])
	assert.True(t, g.ancestors(lower)[install], "package chain holds the install")
	assert.False(t, g.ancestors(upper)[install], "config layer must not depend on the install")
	assert.Empty(t, g.ops[upper].Inputs, "config layer starts from scratch")
	return lower, upper
}

// layerFiles returns path -> mode of the files that the file op d writes,
// and fails the test on any action that is not a mkdir or mkfile owned by
// root and dated fileEpoch.
func layerFiles(t *testing.T, g graph, d digest.Digest) map[string]int32 {
	t.Helper()
	fop := g.ops[d].GetFile()
	require.NotNil(t, fop, "%q is a file op", g.names[d])
	files := map[string]int32{}
	for _, a := range fop.Actions {
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
			t.Errorf("unexpected action %T in %q", x, g.names[d])
			continue
		}
		assert.Equal(t, "0:0", ownerString(owner))
		assert.Equal(t, int64(fileEpoch)*int64(time.Second), ts)
	}
	return files
}

// layeredWant is an image built like nginx: one exec (the package install)
// on the base, a package chain ending in lowerName, and a config layer from
// scratch merged on top of it.
type layeredWant struct {
	image      string
	ref        string // the base image
	install    installWant
	lowerName  string // the end of the package chain: the merge's lower input
	configName string
	mergeName  string
	files      map[string]int32 // config layer: path -> mode
	// execs are the package chain's execs after the install, by name.
	execs []string
}

// checkLayeredGraph checks g against want and returns the end of the
// package chain, for the caller's own checks.
func checkLayeredGraph(t *testing.T, g graph, family Family, want layeredWant) digest.Digest {
	t.Helper()
	checkVertexNames(t, g)
	checkBase(t, g, want.image, want.ref)
	require.Len(t, g.execs(), 1+len(want.execs), "one exec for the package install, and %v", want.execs)
	installD, _ := checkInstall(t, g, want.image, family, want.install)
	lower, upper := checkMergedConfigLayer(t, g, want.mergeName, want.configName, want.image+": install packages")
	for _, name := range want.execs {
		d, op := g.named(t, name)
		require.NotNil(t, op.GetExec(), "%q is an exec", name)
		assert.True(t, g.ancestors(d)[installD], "%q comes after the install", name)
		assert.True(t, g.ancestors(lower)[d] || lower == d, "%q is in the package chain", name)
	}
	assert.Equal(t, want.lowerName, g.names[lower])
	assert.Equal(t, want.files, layerFiles(t, g, upper))
	return lower
}

// pathEnv is the PATH every image sets: LLB carries no image config, so
// nothing is inherited from the base image.
const pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// serviceHealth is the health check timing most of the stack's services
// share: a check every 30 s, every 200 ms during the start period so that
// a service is found healthy soon after it starts, unhealthy after 3
// failures in a row.
func serviceHealth(timeout, startPeriod time.Duration, test ...string) dockerspec.HealthcheckConfig {
	return dockerspec.HealthcheckConfig{
		Test:          test,
		Interval:      30 * time.Second,
		Timeout:       timeout,
		StartPeriod:   startPeriod,
		StartInterval: 200 * time.Millisecond,
		Retries:       3,
	}
}

// slowStartHealth is serviceHealth for the services whose start takes
// seconds (MariaDB's first start, WordPress's set-up) and PHP's: a check
// every second during the start period.
func slowStartHealth(timeout, startPeriod time.Duration, test ...string) dockerspec.HealthcheckConfig {
	h := serviceHealth(timeout, startPeriod, test...)
	h.StartInterval = time.Second
	return h
}

// configWant is an image's config as a test expects it. Every field is
// checked: a zero value means the config must not set it.
type configWant struct {
	entrypoint []string
	cmd        []string
	env        []string // a subset of the config's environment, besides pathEnv
	ports      []string // exactly the exposed ports, "443/tcp"
	volumes    []string // exactly the volumes
	workDir    string
	user       string
	stopSignal string
	baseRef    string // the org.opencontainers.image.base.name label
	health     dockerspec.HealthcheckConfig
}

// checkImageConfig checks img's config as the exporter gets it: the JSON
// shape BuildKit expects, a lossless round trip, the labels every image
// carries, no password in the environment, and want. It returns the
// decoded config and the JSON for the caller's own checks.
func checkImageConfig(t *testing.T, img Image, want configWant) (dockerspec.DockerOCIImageConfig, []byte) {
	t.Helper()
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
	assert.Equal(t, want.entrypoint, c.Entrypoint)
	assert.Equal(t, want.cmd, c.Cmd)
	assert.Contains(t, c.Env, pathEnv)
	assert.Subset(t, c.Env, want.env)
	for _, e := range c.Env {
		assert.NotContains(t, strings.ToLower(e), "password", "no password in the image config")
	}
	assert.Equal(t, set(want.ports), set(slices.Collect(maps.Keys(c.ExposedPorts))), "exposed ports")
	assert.Equal(t, set(want.volumes), set(slices.Collect(maps.Keys(c.Volumes))), "volumes")
	assert.Equal(t, want.workDir, c.WorkingDir)
	assert.Equal(t, want.user, c.User)
	assert.Equal(t, want.stopSignal, c.StopSignal)
	assert.Equal(t, img.Name, c.Labels["org.opencontainers.image.title"])
	assert.Equal(t, SourceURL, c.Labels["org.opencontainers.image.source"])
	assert.Equal(t, want.baseRef, c.Labels["org.opencontainers.image.base.name"])
	assert.NotEmpty(t, c.Labels["org.opencontainers.image.description"])
	require.NotNil(t, c.Healthcheck)
	assert.Equal(t, want.health, *c.Healthcheck)
	return c, dt
}

// set makes comparisons of string sets ignore order; empty and nil are
// the same set.
func set(xs []string) map[string]bool {
	out := map[string]bool{}
	for _, x := range xs {
		out[x] = true
	}
	return out
}

// checkConfigNoSecret: nothing in an image config may look like a
// credential; secrets only exist at run time under /run/secrets.
func checkConfigNoSecret(t *testing.T, dt []byte) {
	t.Helper()
	lower := strings.ToLower(string(dt))
	for _, w := range []string{"password", "passwd", "pwd", "secret", "-p"} {
		assert.NotContains(t, lower, w)
	}
}

// graphFromFiles builds image from fsys (laid out as Files has it) for d.
func graphFromFiles(t *testing.T, image string, fsys fs.FS, d Distro) graph {
	t.Helper()
	img, err := FromFiles(image, fsys, WithDistro(d))
	require.NoError(t, err)
	return marshalGraph(t, img)
}

// checkFileChanges appends a line to each of image's files in turn, in a
// copy of its embedded files, and checks that exactly the vertices named in
// changes get a new digest: a change to a config file never re-runs an
// install.
func checkFileChanges(t *testing.T, image string, d Distro, files []string, changes ...string) {
	t.Helper()
	embedded, err := Files(image)
	require.NoError(t, err)
	before := graphFromFiles(t, image, embedded, d)
	for _, name := range changes {
		before.named(t, name) // each vertex that must change is there, once
	}
	for _, changed := range files {
		t.Run(changed, func(t *testing.T) {
			modified := copyFS(t, embedded)
			require.Contains(t, modified, changed)
			modified[changed].Data = append(modified[changed].Data, "\n# changed\n"...)
			after := graphFromFiles(t, image, modified, d)
			for _, v := range before.order {
				name := before.names[v]
				got, _ := after.named(t, name)
				if slices.Contains(changes, name) {
					assert.NotEqual(t, v, got, "%q must change with %s", name, changed)
				} else {
					assert.Equal(t, v, got, "%q must not change with %s", name, changed)
				}
			}
		})
	}
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

// fileWant is what one embedded file must and must not say.
type fileWant struct {
	name   string
	file   string           // path in the image's files (Files)
	want   []string         // substrings it must have
	deny   []string         // substrings it must not have
	denyRe []*regexp.Regexp // patterns it must not match
}

// checkFileTexts checks image's embedded files for what the image promises;
// the integration tests run them.
func checkFileTexts(t *testing.T, image string, tests []fileWant) {
	t.Helper()
	fsys, err := Files(image)
	require.NoError(t, err)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dt, err := fs.ReadFile(fsys, tc.file)
			require.NoError(t, err)
			text := string(dt)
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			for _, d := range tc.deny {
				assert.NotContains(t, text, d)
			}
			for _, re := range tc.denyRe {
				assert.NotRegexp(t, re, text)
			}
		})
	}
}

// TestMissingFile: an image whose files lack one it needs is an error that
// names the file, never an image without it.
func TestMissingFile(t *testing.T) {
	tests := []struct {
		image   string
		missing []string
	}{
		{"nginx", []string{"server.conf.template"}},
		{"wordpress", []string{"wordpress/wp-config.php", "php/php-fpm.conf", "wordpress/standins.control"}},
		{"adminer", []string{"php/php-fpm-ping"}},
		{"mariadb", []string{"mariadb/mariadb-healthcheck", "holder/holder"}},
		{"redis", []string{"redis/redis.conf", "holder/holder"}},
		{"vsftpd", []string{"tls.conf"}},
		{"static", []string{"main.go", "passwd", "site/style.css"}},
	}
	for _, tc := range tests {
		for _, missing := range tc.missing {
			t.Run(tc.image+"/"+missing, func(t *testing.T) {
				embedded, err := Files(tc.image)
				require.NoError(t, err)
				fsys := copyFS(t, embedded)
				require.Contains(t, fsys, missing)
				delete(fsys, missing)
				_, err = FromFiles(tc.image, fsys)
				require.ErrorIs(t, err, ErrMissingFile)
				assert.Contains(t, err.Error(), missing)
			})
		}
	}
}

// TestZeroDistro: the zero Distro is refused, not taken for a default.
func TestZeroDistro(t *testing.T) {
	for _, img := range testImages() {
		t.Run(img.name, func(t *testing.T) {
			_, err := img.build(WithDistro(Distro{}))
			require.ErrorIs(t, err, ErrNoDistro)
		})
	}
}

// TestGolden compares every image's graph on every distro with its summary
// in testdata/llbdefs/<image>-<distro>.golden.
func TestGolden(t *testing.T) {
	for _, img := range testImages() {
		for _, d := range testDistros() {
			t.Run(img.name+"-"+d.name, func(t *testing.T) {
				built, err := img.build(WithDistro(d.distro))
				require.NoError(t, err)
				checkGolden(t, img.name+"-"+d.name, marshalGraph(t, built).summary(img.name+" on "+d.distro.Name()))
			})
		}
	}
}

// withHolder is files plus holder/holder where d's images carry holder
// (Debian's).
func withHolder(d Distro, files ...string) []string {
	if d.Family() != FamilyDebian {
		return files
	}
	return append(slices.Clone(files), "holder/holder")
}

// checkAlpineIgnoresHolder checks that a change to holder changes
// nothing in image's Alpine graph, which has no Perl and no holder: the
// vertex named configName is the same before and after.
func checkAlpineIgnoresHolder(t *testing.T, image, configName string) {
	t.Helper()
	embedded, err := Files(image)
	require.NoError(t, err)
	modified := copyFS(t, embedded)
	modified["holder/holder"].Data = append(modified["holder/holder"].Data, "\n# changed\n"...)
	b, _ := graphFromFiles(t, image, embedded, Alpine()).named(t, configName)
	a, _ := graphFromFiles(t, image, modified, Alpine()).named(t, configName)
	assert.Equal(t, b, a)
}
