package sbom

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// mapFS is an FS of regular files and symlinked directories.
type mapFS struct {
	files map[string][]byte
	links map[string]string // directory symlinks at the root
	reads int
}

func (m *mapFS) ReadFile(_ context.Context, name string, off, n int) ([]byte, error) {
	m.reads++
	for from, to := range m.links {
		if rest, ok := strings.CutPrefix(name, from+"/"); ok {
			name = path.Join(to, rest)
		}
	}
	b, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
	}
	if n == 0 {
		return b, nil
	}
	return b[off:min(off+n, len(b))], nil
}

func (m *mapFS) ReadDir(_ context.Context, name string) ([]*fstypes.Stat, error) {
	var out []*fstypes.Stat
	seen := false
	if name == "" {
		for l := range m.links {
			out = append(out, &fstypes.Stat{Path: l, Mode: uint32(os.ModeSymlink | 0o777)})
		}
	}
	for p, b := range m.files {
		dir, base := path.Split(p)
		if strings.TrimSuffix(dir, "/") == name {
			seen = true
			out = append(out, &fstypes.Stat{Path: base, Mode: 0o755, Size: int64(len(b))})
		} else if strings.HasPrefix(p, name+"/") || name == "" {
			seen = true
		}
	}
	if !seen {
		return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
	}
	return out, nil
}

func TestScanFS(t *testing.T) {
	self, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	fsys := &mapFS{
		files: map[string][]byte{
			"usr/lib/os-release":                   []byte("ID=debian\nVERSION_ID=\"12\"\n"),
			"etc/os-release":                       []byte("ID=debian\nVERSION_ID=\"12\"\n"),
			"var/lib/dpkg/status":                  []byte(statusTop),
			"usr/share/doc/redis-server/copyright": []byte(copyrightDEP5),
			"usr/bin/server":                       self,
			"usr/bin/script":                       []byte("#!/bin/sh\n"),
			"static-server":                        self,
		},
		links: map[string]string{"bin": "usr/bin"},
	}
	inv, err := ScanFS(context.Background(), fsys)
	require.NoError(t, err)
	assert.Equal(t, "debian-12", inv.OS.Distro())
	require.Len(t, inv.Packages, 3)
	assert.Equal(t, "BSD-3-clause and Expat", inv.Packages[2].License)
	require.Len(t, inv.GoBinaries, 2, "bin is a symlink to usr/bin: its files are not listed twice")
	assert.Equal(t, "/static-server", inv.GoBinaries[0].Path)
	assert.Equal(t, "/usr/bin/server", inv.GoBinaries[1].Path)
	assert.Less(t, fsys.reads, 100, "the binaries are read piece by piece, not whole")

	// A scratch image: no dpkg database at all.
	inv, err = ScanFS(context.Background(), &mapFS{files: map[string][]byte{"static-server": self}})
	require.NoError(t, err)
	assert.Empty(t, inv.Packages)
	assert.Len(t, inv.GoBinaries, 1)
}
