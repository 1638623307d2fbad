package llbdefs

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtraPackages(t *testing.T) {
	plain := marshalGraph(t, mustImage(Nginx()))
	installD, install := plain.named(t, "nginx: install packages")

	t.Run("in the package list", func(t *testing.T) {
		g := marshalGraph(t, mustImage(Nginx(WithExtraPackages("less"))))
		_, op := g.named(t, "nginx: install packages")
		args := op.GetExec().Meta.Args
		assert.Equal(t, "less", args[len(args)-1])
		assert.Equal(t, append(slices.Clone(install.GetExec().Meta.Args), "less"), args)
		assert.Len(t, g.execs(), len(plain.execs()), "no step added")
	})
	t.Run("in a step of its own", func(t *testing.T) {
		g := marshalGraph(t, mustImage(Nginx(WithExtraPackageStep("less", "file"))))
		d, _ := g.named(t, "nginx: install packages")
		assert.Equal(t, installD, d, "the image's install is the same vertex: it stays cached")
		extraD, extra := g.named(t, "nginx: install extra packages")
		args := extra.GetExec().Meta.Args
		assert.Equal(t, []string{"less", "file"}, args[len(args)-2:])
		assert.True(t, g.ancestors(extraD)[installD], "on top of the install")
		assert.Equal(t, "inception-apt-cache-nginx", cacheIDs(extra)[0], "the image's apt cache")
	})
	t.Run("alpine", func(t *testing.T) {
		g := marshalGraph(t, mustImage(Redis(WithDistro(Alpine()), WithExtraPackageStep("less"))))
		_, extra := g.named(t, "redis: install extra packages")
		assert.Equal(t, []string{"apk", "add", "--no-cache", "less"}, extra.GetExec().Meta.Args)
	})
	t.Run("empty", func(t *testing.T) {
		_, err := Nginx(WithExtraPackages())
		require.ErrorIs(t, err, ErrNoExtraPackages)
		_, err = Nginx(WithExtraPackageStep())
		require.ErrorIs(t, err, ErrNoExtraPackages)
	})
}

func cacheIDs(op *pb.Op) []string {
	var ids []string
	for _, m := range op.GetExec().GetMounts() {
		if m.MountType == pb.MountType_CACHE {
			ids = append(ids, m.CacheOpt.GetID())
		}
	}
	return ids
}

func TestFromFiles(t *testing.T) {
	for _, name := range []string{"nginx", "wordpress", "adminer", "mariadb", "redis", "vsftpd", "static"} {
		t.Run(name, func(t *testing.T) {
			fsys, err := Files(name)
			require.NoError(t, err)
			img, err := FromFiles(name, fsys)
			require.NoError(t, err)
			assert.Equal(t, name, img.Name)

			// A copy with one file changed changes no exec: only file
			// vertices (and the merges and copies above them).
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, fsys))
			var first string
			require.NoError(t, fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && first == "" && filepath.Base(p) != "standins.control" &&
					filepath.Ext(p) != ".go" {
					first = p
				}
				return err
			}))
			require.NotEmpty(t, first)
			p := filepath.Join(dir, first)
			require.NoError(t, os.Chmod(p, 0o644))
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteString("\n# changed\n")
			require.NoError(t, err)
			require.NoError(t, f.Close())

			changed, err := FromFiles(name, os.DirFS(dir))
			require.NoError(t, err)
			a, b := marshalGraph(t, img), marshalGraph(t, changed)
			assert.NotEqual(t, a.result, b.result, "changing %s changes the image", first)
			for _, d := range a.execs() {
				_, ok := b.ops[d]
				assert.True(t, ok, "exec %q is unchanged", a.names[d])
			}
		})
	}
	_, err := Files("apache")
	require.ErrorIs(t, err, ErrUnknownImage)
	_, err = FromFiles("apache", os.DirFS(t.TempDir()))
	require.ErrorIs(t, err, ErrUnknownImage)
}

func mustImage(img Image, err error) Image {
	if err != nil {
		panic(err)
	}
	return img
}
