package sbom

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/archive/compression"
	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxBinary is the largest executable read for Go module information.
const maxBinary = 256 << 20

// maxText is the largest text file (dpkg status, copyright) kept.
const maxText = 64 << 20

// entry is one file of the merged image filesystem the scan keeps.
type entry struct {
	layer int
	link  string // symlink target, when a symlink
	data  []byte // content of a text file of interest
	gobin *buildinfo.BuildInfo
}

// Scanner merges layer tar streams, lower layers first, keeping only the
// files that describe packages.
type Scanner struct {
	layer int
	files map[string]*entry // clean absolute paths without the leading slash
}

// NewScanner returns an empty Scanner.
func NewScanner() *Scanner { return &Scanner{files: map[string]*entry{}} }

// ScanImage reads the layers of the image whose index or manifest is
// target, for the default platform, from cs.
func ScanImage(ctx context.Context, cs content.Provider, target ocispec.Descriptor) (*Inventory, error) {
	m, err := images.Manifest(ctx, cs, target, platforms.Default())
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	s := NewScanner()
	for i, l := range m.Layers {
		if err := s.addBlob(ctx, cs, l); err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.Digest, err)
		}
	}
	return s.Inventory()
}

func (s *Scanner) addBlob(ctx context.Context, cs content.Provider, l ocispec.Descriptor) error {
	ra, err := cs.ReaderAt(ctx, l)
	if err != nil {
		return err
	}
	defer ra.Close()
	r, err := compression.DecompressStream(content.NewReader(ra))
	if err != nil {
		return err
	}
	defer r.Close()
	return s.AddLayer(r)
}

// AddLayer merges one uncompressed layer tar stream over the layers before.
func (s *Scanner) AddLayer(r io.Reader) error {
	s.layer++
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.add(h, tr); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

func clean(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (s *Scanner) add(h *tar.Header, r io.Reader) error {
	name := clean(h.Name)
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	switch {
	case base == ".wh..wh..opq":
		s.remove(dir, true)
		return nil
	case strings.HasPrefix(base, ".wh."):
		s.remove(path.Join(dir, strings.TrimPrefix(base, ".wh.")), false)
		return nil
	}
	// A new entry hides whatever the lower layers had at that path; a
	// directory merges with a lower directory (its files stay).
	if h.Typeflag == tar.TypeDir {
		if e, ok := s.files[name]; ok && e.layer != s.layer {
			delete(s.files, name)
		}
	} else {
		s.remove(name, false)
	}
	switch h.Typeflag {
	case tar.TypeSymlink:
		if interesting(name) || isDocDir(name) {
			s.files[name] = &entry{layer: s.layer, link: h.Linkname}
		}
	case tar.TypeLink:
		if e, ok := s.files[clean(h.Linkname)]; ok {
			c := *e
			c.layer = s.layer
			s.files[name] = &c
		}
	case tar.TypeReg:
		switch {
		case interesting(name):
			if h.Size > maxText {
				return fmt.Errorf("%d bytes: larger than %d", h.Size, maxText)
			}
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			s.files[name] = &entry{layer: s.layer, data: b}
		case h.Mode&0o111 != 0 && h.Size > 4 && h.Size <= maxBinary:
			b, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			if !bytes.HasPrefix(b, []byte("\x7fELF")) {
				return nil
			}
			// Not a Go binary (or one without module data): nothing to keep.
			if bi, err := buildinfo.Read(bytes.NewReader(b)); err == nil {
				s.files[name] = &entry{layer: s.layer, gobin: bi}
			}
		}
	}
	return nil
}

// remove drops what lower layers had at p and below it; with children
// only, p itself stays (an opaque directory).
func (s *Scanner) remove(p string, childrenOnly bool) {
	for k, e := range s.files {
		if e.layer == s.layer {
			continue
		}
		if (!childrenOnly && k == p) || strings.HasPrefix(k, p+"/") || p == "" {
			delete(s.files, k)
		}
	}
}

// interesting says whether the text file at p is kept.
func interesting(p string) bool {
	switch p {
	case dpkgStatus, "etc/os-release", "usr/lib/os-release":
		return true
	}
	if d, f := path.Split(p); d == dpkgStatusD+"/" && !strings.HasPrefix(f, ".") && !strings.HasSuffix(f, ".md5sums") {
		return true
	}
	if strings.HasPrefix(p, docDir+"/") && path.Base(p) == "copyright" && strings.Count(p, "/") == 4 {
		return true
	}
	return false
}

// isDocDir says whether p is a package's documentation directory, which
// Debian often makes a symlink to another package's.
func isDocDir(p string) bool {
	return strings.HasPrefix(p, docDir+"/") && strings.Count(p, "/") == 3
}

const (
	dpkgStatus  = "var/lib/dpkg/status"
	dpkgStatusD = "var/lib/dpkg/status.d"
	docDir      = "usr/share/doc"
)

// read returns the content of the kept file at p, following symlinks.
func (s *Scanner) read(p string) ([]byte, bool) {
	for range 16 {
		// A symlinked directory on the way (usr/share/doc/PKG -> OTHER).
		if e, ok := s.files[p]; ok {
			if e.link == "" {
				return e.data, e.data != nil
			}
			p = resolve(p, e.link)
			continue
		}
		dir, base := path.Split(p)
		e, ok := s.files[strings.TrimSuffix(dir, "/")]
		if !ok || e.link == "" {
			return nil, false
		}
		p = path.Join(resolve(strings.TrimSuffix(dir, "/"), e.link), base)
	}
	return nil, false
}

func resolve(from, link string) string {
	if path.IsAbs(link) {
		return clean(link)
	}
	return clean(path.Join(path.Dir(from), link))
}

// Inventory is what the merged layers hold.
func (s *Scanner) Inventory() (*Inventory, error) {
	inv := &Inventory{}
	if b, ok := s.read("etc/os-release"); ok {
		inv.OS = parseOSRelease(b)
	} else if b, ok := s.read("usr/lib/os-release"); ok {
		inv.OS = parseOSRelease(b)
	}
	var status [][]byte
	if b, ok := s.read(dpkgStatus); ok {
		status = append(status, b)
	}
	var extra []string
	for k := range s.files {
		if path.Dir(k) == dpkgStatusD {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		if b, ok := s.read(k); ok {
			status = append(status, b)
		}
	}
	for _, b := range status {
		pkgs, err := parseStatus(b)
		if err != nil {
			return nil, err
		}
		inv.Packages = append(inv.Packages, pkgs...)
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if b, ok := s.read(path.Join(docDir, p.Name, "copyright")); ok {
			p.License = copyrightLicense(b)
		}
	}
	sort.Slice(inv.Packages, func(i, j int) bool {
		a, b := inv.Packages[i], inv.Packages[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Architecture < b.Architecture
	})
	for k, e := range s.files {
		if e.gobin != nil {
			inv.GoBinaries = append(inv.GoBinaries, goBinary("/"+k, e.gobin))
		}
	}
	sort.Slice(inv.GoBinaries, func(i, j int) bool { return inv.GoBinaries[i].Path < inv.GoBinaries[j].Path })
	return inv, nil
}
