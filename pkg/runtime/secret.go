package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/inceptionctl/inception/pkg/stack"
)

// secretName is what a secret may be called: a file name in the secrets
// directory and under /run/secrets.
var secretName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// secretDigest checks that a secret's file exists and returns the digest of
// its content, which goes into the config hash so a changed secret
// recreates the container. The content itself is never logged nor returned.
func secretDigest(p, name string) (string, error) {
	if !secretName.MatchString(name) {
		return "", fmt.Errorf("%w: secret name %q: use letters, digits, '.', '-' and '_'", stack.ErrInvalid, name)
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%w: %w: secret %q: %s is missing or not a regular file; create it (see the README's secrets section)",
			stack.ErrInvalid, ErrSecretMissing, name, p)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("%w: secret %q: %s cannot be read: %w", ErrSecretMissing, name, p, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// installSecrets copies a service's secret files (host files by name) into dst (under the run
// dir, a tmpfs: secrets never land on the host's disk in another place),
// mode 0400, owned by uid:gid, the service's user.
func installSecrets(files map[string]string, dst string, names []string, uid, gid uint32) error {
	if len(names) == 0 {
		return nil
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return fmt.Errorf("secrets dir: %w", err)
	}
	for _, n := range names {
		data, err := os.ReadFile(files[n])
		if err != nil {
			return fmt.Errorf("%w: secret %q: %w", ErrSecretMissing, n, err)
		}
		p := filepath.Join(dst, n)
		// Replace rather than rewrite: the old file may be 0400 and owned by
		// another user. A running task keeps the old inode until it restarts,
		// which the config hash forces when the content changed.
		if err := writeFileAtomic(p, data, 0o400); err != nil {
			return fmt.Errorf("install secret %q: %w", n, err)
		}
		if err := os.Chown(p, int(uid), int(gid)); err != nil {
			return fmt.Errorf("install secret %q: %w", n, err)
		}
	}
	return nil
}
