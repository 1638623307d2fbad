package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// volumeName is what a named volume may be called: it becomes a directory
// name under the data dir.
var volumeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// ensureVolume creates a named volume's directory on first use, owned by
// uid:gid so a service that runs as its own user can write to it. An
// existing directory is left as it is: its data and owner are the
// service's business.
func ensureVolume(dir string, uid, gid int) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("volume %s: %w", dir, err)
	}
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		fi, serr := os.Stat(dir)
		if serr != nil || !fi.IsDir() {
			return fmt.Errorf("volume %s exists and is not a directory", dir)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("volume %s: %w", dir, err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("volume %s: %w", dir, err)
	}
	return nil
}
