package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes the tree into dir, which must be missing or empty: files
// with their modes (and times, where the tree has them), directories,
// symlinks. A failure leaves what was written for the user to look at;
// dir was empty before.
//
//	err := tree.Write("/tmp/inception")
func (t *Tree) Write(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("export directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s: give a new or empty directory", ErrNotEmpty, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export directory: %w", err)
	}
	for _, f := range t.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		switch {
		case f.Mode.IsDir():
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("export %s: %w", f.Path, err)
			}
		case f.Mode&fs.ModeSymlink != 0:
			if err := os.Symlink(string(f.Data), p); err != nil {
				return fmt.Errorf("export %s: %w", f.Path, err)
			}
			continue
		default:
			if err := os.WriteFile(p, f.Data, 0o600); err != nil {
				return fmt.Errorf("export %s: %w", f.Path, err)
			}
		}
		// Chmod, not the umask'd create mode: the images get these bits.
		if err := os.Chmod(p, f.Mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("export %s: %w", f.Path, err)
		}
	}
	// Times last, deepest first: writing a child moves its directory's.
	for i := len(t.Files) - 1; i >= 0; i-- {
		f := t.Files[i]
		if f.ModTime.IsZero() || f.Mode&fs.ModeSymlink != 0 {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.Chtimes(p, f.ModTime, f.ModTime); err != nil {
			return fmt.Errorf("export %s: %w", f.Path, err)
		}
	}
	return nil
}
