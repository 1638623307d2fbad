package repro

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type entry struct {
	name, body string
	mtime      int64
}

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.body)), ModTime: time.Unix(e.mtime, 0)}))
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return b.Bytes()
}

// writeOCI writes an OCI tarball of an image with the given layers and
// creation time and returns its path.
func writeOCI(t *testing.T, dir, name string, created time.Time, layers ...[]byte) string {
	t.Helper()
	blobs := map[digest.Digest][]byte{}
	add := func(b []byte) digest.Digest {
		d := digest.FromBytes(b)
		blobs[d] = b
		return d
	}
	p := platforms.DefaultSpec()
	cfg := ocispec.Image{Created: &created, Platform: p, RootFS: ocispec.RootFS{Type: "layers"}}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for _, l := range layers {
		d := add(l)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, d)
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: int64(len(l))})
	}
	cb, _ := json.Marshal(cfg)
	m.Config = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: add(cb), Size: int64(len(cb))}
	mb, _ := json.Marshal(m)
	md := add(mb)
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(mb)), Platform: &p}}}
	idx.SchemaVersion = 2
	ib, _ := json.Marshal(idx)

	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	write := func(name string, b []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}))
		_, err := tw.Write(b)
		require.NoError(t, err)
	}
	write("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`))
	for d, b := range blobs {
		write("blobs/sha256/"+d.Encoded(), b)
	}
	write("index.json", ib)
	require.NoError(t, tw.Close())
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o644))
	return path
}

func TestCompareTarballs(t *testing.T) {
	dir := t.TempDir()
	base := tarOf(t, entry{"etc/os-release", "ID=debian\n", 1704067200})
	created := time.Unix(1704067200, 0)
	a := writeOCI(t, dir, "a.tar", created, base, tarOf(t, entry{"app/stamp", "1733450000123456789\n", 1704067200}, entry{"app/same", "x", 1}))
	b := writeOCI(t, dir, "b.tar", created.Add(time.Second), base, tarOf(t, entry{"app/stamp", "1733450042987654321\n", 1704067200}, entry{"app/same", "x", 1}, entry{"app/new", "", 1}))
	same := writeOCI(t, dir, "same.tar", created, base, tarOf(t, entry{"app/stamp", "1733450000123456789\n", 1704067200}, entry{"app/same", "x", 1}))

	d, da, db, err := CompareTarballs(a, same)
	require.NoError(t, err)
	assert.Nil(t, d)
	assert.Equal(t, da, db)

	d, da, db, err = CompareTarballs(a, b)
	require.NoError(t, err)
	require.NotNil(t, d)
	assert.NotEqual(t, da, db)
	assert.Equal(t, []string{"created", "rootfs"}, d.Config, "the layers differ, so do their diff ids")
	require.Len(t, d.Layers, 1, "the base layer is the same")
	assert.Equal(t, 1, d.Layers[0].Index)
	require.Len(t, d.Layers[0].Files, 2)
	assert.Equal(t, "/app/new", d.Layers[0].Files[0].Path)
	assert.Nil(t, d.Layers[0].Files[0].A)
	stamp := d.Layers[0].Files[1]
	assert.Equal(t, "/app/stamp", stamp.Path)
	assert.NotEqual(t, stamp.A.SHA256, stamp.B.SHA256)

	var out bytes.Buffer
	d.Write(&out)
	assert.Contains(t, out.String(), "image config differs in: created, rootfs")
	assert.Contains(t, out.String(), "/app/stamp")

	_, _, _, err = CompareTarballs(a, filepath.Join(dir, "missing.tar"))
	require.Error(t, err)
	notOCI := filepath.Join(dir, "plain.tar")
	require.NoError(t, os.WriteFile(notOCI, tarOf(t, entry{"x", "y", 0}), 0o644))
	_, _, _, err = CompareTarballs(a, notOCI)
	require.ErrorContains(t, err, "not an OCI tarball")
}

func TestUncached(t *testing.T) {
	def, err := llb.Image("docker.io/library/debian:bookworm").Run(llb.Shlex("true")).Root().Marshal(context.Background())
	require.NoError(t, err)
	u := Uncached(def)
	for _, dt := range def.Def {
		assert.True(t, u.Metadata[digest.FromBytes(dt)].IgnoreCache)
		assert.False(t, def.Metadata[digest.FromBytes(dt)].IgnoreCache, "the original is left as it was")
	}
}
