package repro

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// File is one tar entry of a layer.
type File struct {
	Type     byte      `json:"type"`
	Size     int64     `json:"size"`
	Mode     int64     `json:"mode"`
	UID      int       `json:"uid"`
	GID      int       `json:"gid"`
	ModTime  time.Time `json:"mtime"`
	Linkname string    `json:"linkname,omitempty"`
	SHA256   string    `json:"sha256,omitempty"` // of the content of a regular file
}

// String is the file's attributes in one line.
func (f *File) String() string {
	if f == nil {
		return "(absent)"
	}
	s := fmt.Sprintf("type=%c size=%d mode=%o owner=%d:%d mtime=%s", f.Type, f.Size, f.Mode, f.UID, f.GID, f.ModTime.UTC().Format(time.RFC3339Nano))
	if f.Linkname != "" {
		s += " link=" + f.Linkname
	}
	if f.SHA256 != "" {
		s += " sha256=" + f.SHA256[:16]
	}
	return s
}

// FileDiff is a path whose entry differs between two layers; A or B is nil
// when the path is in one layer only.
type FileDiff struct {
	Path string `json:"path"`
	A    *File  `json:"a"`
	B    *File  `json:"b"`
}

// LayerDiff is a layer whose digest differs between two images.
type LayerDiff struct {
	Index int           `json:"index"` // 0 is the lowest layer
	A     digest.Digest `json:"a"`
	B     digest.Digest `json:"b"`
	Files []FileDiff    `json:"files"`
}

// Diff is how two images differ.
type Diff struct {
	Config []string    `json:"config,omitempty"` // the config fields that differ
	Layers []LayerDiff `json:"layers,omitempty"`
	Note   string      `json:"note,omitempty"` // e.g. a different number of layers
}

// ociTar is an OCI image layout in a tar file, read in place.
type ociTar struct {
	f     *os.File
	blobs map[string]*io.SectionReader // by path in the tar
}

// countReader counts the bytes read, to find where each entry's data is.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func openOCITar(path string) (*ociTar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	o := &ociTar{f: f, blobs: map[string]*io.SectionReader{}}
	cr := &countReader{r: f}
	tr := tar.NewReader(cr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return o, nil
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if h.Typeflag == tar.TypeReg {
			o.blobs[strings.TrimPrefix(h.Name, "./")] = io.NewSectionReader(f, cr.n, h.Size)
		}
	}
}

func (o *ociTar) Close() error { return o.f.Close() }

func (o *ociTar) blob(d digest.Digest) (*io.SectionReader, error) {
	r, ok := o.blobs["blobs/"+d.Algorithm().String()+"/"+d.Encoded()]
	if !ok {
		return nil, fmt.Errorf("blob %s is not in the tarball", d)
	}
	return io.NewSectionReader(r, 0, r.Size()), nil
}

func (o *ociTar) json(d digest.Digest, v any) error {
	r, err := o.blob(d)
	if err != nil {
		return err
	}
	return json.NewDecoder(r).Decode(v)
}

// manifest is the image manifest of the default platform.
func (o *ociTar) manifest() (ocispec.Manifest, digest.Digest, error) {
	var m ocispec.Manifest
	r, ok := o.blobs["index.json"]
	if !ok {
		return m, "", errors.New("no index.json: not an OCI tarball")
	}
	var idx ocispec.Index
	if err := json.NewDecoder(io.NewSectionReader(r, 0, r.Size())).Decode(&idx); err != nil {
		return m, "", fmt.Errorf("index.json: %w", err)
	}
	match := platforms.Default()
	for range 4 {
		var next *ocispec.Descriptor
		for i, d := range idx.Manifests {
			if d.Platform != nil && !match.Match(*d.Platform) {
				continue
			}
			next = &idx.Manifests[i]
			break
		}
		if next == nil {
			return m, "", errors.New("no manifest for this platform")
		}
		switch next.MediaType {
		case ocispec.MediaTypeImageManifest, "application/vnd.docker.distribution.manifest.v2+json":
			err := o.json(next.Digest, &m)
			return m, next.Digest, err
		}
		if err := o.json(next.Digest, &idx); err != nil {
			return m, "", err
		}
	}
	return m, "", errors.New("index nested too deep")
}

// CompareTarballs compares the images of two OCI tarballs: nil when their
// manifests are the same.
func CompareTarballs(a, b string) (*Diff, digest.Digest, digest.Digest, error) {
	ta, err := openOCITar(a)
	if err != nil {
		return nil, "", "", err
	}
	defer ta.Close()
	tb, err := openOCITar(b)
	if err != nil {
		return nil, "", "", err
	}
	defer tb.Close()
	ma, da, err := ta.manifest()
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", a, err)
	}
	mb, db, err := tb.manifest()
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", b, err)
	}
	if da == db {
		return nil, da, db, nil
	}
	d := &Diff{}
	if ma.Config.Digest != mb.Config.Digest {
		var ca, cb map[string]json.RawMessage
		if err := ta.json(ma.Config.Digest, &ca); err != nil {
			return nil, da, db, err
		}
		if err := tb.json(mb.Config.Digest, &cb); err != nil {
			return nil, da, db, err
		}
		d.Config = configDiff(ca, cb)
	}
	if len(ma.Layers) != len(mb.Layers) {
		d.Note = fmt.Sprintf("%d layers against %d", len(ma.Layers), len(mb.Layers))
	}
	for i := range min(len(ma.Layers), len(mb.Layers)) {
		la, lb := ma.Layers[i], mb.Layers[i]
		if la.Digest == lb.Digest {
			continue
		}
		fa, err := layerFiles(ta, la)
		if err != nil {
			return nil, da, db, fmt.Errorf("%s layer %d: %w", a, i, err)
		}
		fb, err := layerFiles(tb, lb)
		if err != nil {
			return nil, da, db, fmt.Errorf("%s layer %d: %w", b, i, err)
		}
		d.Layers = append(d.Layers, LayerDiff{Index: i, A: la.Digest, B: lb.Digest, Files: fileDiff(fa, fb)})
	}
	return d, da, db, nil
}

func configDiff(a, b map[string]json.RawMessage) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if string(a[k]) != string(b[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// layerFiles lists the entries of a layer blob.
func layerFiles(o *ociTar, l ocispec.Descriptor) (map[string]*File, error) {
	r, err := o.blob(l.Digest)
	if err != nil {
		return nil, err
	}
	dr, err := compression.DecompressStream(r)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	return tarFiles(dr)
}

func tarFiles(r io.Reader) (map[string]*File, error) {
	out := map[string]*File{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		f := &File{Type: h.Typeflag, Size: h.Size, Mode: h.Mode, UID: h.Uid, GID: h.Gid, ModTime: h.ModTime, Linkname: h.Linkname}
		if h.Typeflag == tar.TypeReg {
			s := sha256.New()
			if _, err := io.Copy(s, tr); err != nil {
				return nil, err
			}
			f.SHA256 = hex.EncodeToString(s.Sum(nil))
		}
		out["/"+strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")] = f
	}
}

func fileDiff(a, b map[string]*File) []FileDiff {
	var out []FileDiff
	for p, fa := range a {
		fb := b[p]
		if fb == nil || *fa != *fb {
			out = append(out, FileDiff{Path: p, A: fa, B: fb})
		}
	}
	for p, fb := range b {
		if a[p] == nil {
			out = append(out, FileDiff{Path: p, B: fb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Write prints d, one line per config field, layer and file.
func (d *Diff) Write(w io.Writer) {
	if d.Note != "" {
		fmt.Fprintf(w, "  %s\n", d.Note)
	}
	if len(d.Config) > 0 {
		fmt.Fprintf(w, "  image config differs in: %s\n", strings.Join(d.Config, ", "))
	}
	for _, l := range d.Layers {
		fmt.Fprintf(w, "  layer %d: %s against %s, %d files differ\n", l.Index, l.A, l.B, len(l.Files))
		for _, f := range l.Files {
			fmt.Fprintf(w, "    %s\n      1: %s\n      2: %s\n", f.Path, f.A, f.B)
		}
	}
}
