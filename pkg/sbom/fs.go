package sbom

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"io"
	"os"
	"path"
	"strings"

	fstypes "github.com/tonistiigi/fsutil/types"
)

// FS is a read-only image filesystem that is not in layers, e.g. a
// BuildKit gateway reference of a solved graph. Paths are relative to the
// root and symlinks in them are followed within the root.
type FS interface {
	ReadFile(ctx context.Context, name string, off, n int) ([]byte, error) // n 0: the whole file
	ReadDir(ctx context.Context, name string) ([]*fstypes.Stat, error)
}

// ErrNotExist is what an FS returns, wrapped, for a missing path.
var ErrNotExist = os.ErrNotExist

// binDirs are where ScanFS looks for Go binaries: unlike a layer walk, it
// does not read every file of the image.
var binDirs = []string{"", "bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"}

// ScanFS reads the inventory of a filesystem: the same packages as
// ScanImage, and the Go binaries at the root and in the bin and sbin
// directories.
func ScanFS(ctx context.Context, fsys FS) (*Inventory, error) {
	s := NewScanner()
	read := func(p string) error {
		b, err := fsys.ReadFile(ctx, p, 0, 0)
		if errors.Is(err, ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		s.files[p] = &entry{data: b}
		return nil
	}
	for _, p := range []string{"etc/os-release", "usr/lib/os-release", dpkgStatus} {
		if err := read(p); err != nil {
			return nil, err
		}
	}
	ents, err := readDir(ctx, fsys, dpkgStatusD)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if p := path.Join(dpkgStatusD, path.Base(e.Path)); interesting(p) {
			if err := read(p); err != nil {
				return nil, err
			}
		}
	}
	// The copyright files of the packages the database lists.
	inv, err := s.Inventory()
	if err != nil {
		return nil, err
	}
	for _, p := range inv.Packages {
		if err := read(path.Join(docDir, p.Name, "copyright")); err != nil {
			return nil, err
		}
	}
	root, err := readDir(ctx, fsys, "")
	if err != nil {
		return nil, err
	}
	linked := map[string]bool{}
	for _, e := range root {
		if os.FileMode(e.Mode)&os.ModeSymlink != 0 {
			linked[path.Base(e.Path)] = true
		}
	}
	for _, dir := range binDirs {
		if linked[dir] {
			continue // bin -> usr/bin: listed there
		}
		ents := root
		if dir != "" {
			if ents, err = readDir(ctx, fsys, dir); err != nil {
				return nil, err
			}
		}
		for _, e := range ents {
			m := os.FileMode(e.Mode)
			if !m.IsRegular() || m&0o111 == 0 || e.Size <= 4 || e.Size > maxBinary {
				continue
			}
			p := path.Join(dir, path.Base(e.Path))
			ra := &fsReaderAt{ctx: ctx, fs: fsys, name: p, size: e.Size}
			magic := make([]byte, 4)
			if _, err := ra.ReadAt(magic, 0); err != nil {
				return nil, err
			}
			if !bytes.Equal(magic, []byte("\x7fELF")) {
				continue
			}
			if bi, err := buildinfo.Read(ra); err == nil {
				s.files[p] = &entry{gobin: bi}
			} else if ra.err != nil {
				return nil, ra.err
			}
		}
	}
	return s.Inventory()
}

func readDir(ctx context.Context, fsys FS, name string) ([]*fstypes.Stat, error) {
	ents, err := fsys.ReadDir(ctx, name)
	if errors.Is(err, ErrNotExist) {
		return nil, nil
	}
	return ents, err
}

// fsReaderAt reads a file of an FS piece by piece, as debug/elf asks.
type fsReaderAt struct {
	ctx  context.Context
	fs   FS
	name string
	size int64
	err  error // the FS's error, as opposed to "not a Go binary"
}

func (r *fsReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := len(p)
	if rest := r.size - off; int64(n) > rest {
		n = int(rest)
	}
	b, err := r.fs.ReadFile(r.ctx, r.name, int(off), n)
	if err != nil {
		r.err = err
		return 0, err
	}
	c := copy(p, b)
	if c < len(p) {
		return c, io.EOF
	}
	return c, nil
}

// notExist turns an error message that says a path is missing into
// ErrNotExist: errors that crossed gRPC keep only their text.
func notExist(err error) error {
	if err != nil && strings.Contains(err.Error(), "no such file or directory") {
		return errors.Join(ErrNotExist, err)
	}
	return err
}
