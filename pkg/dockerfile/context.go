package dockerfile

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// contextDir puts every file of the context vertex d into the build
// context and returns its directory there.
func (c *converter) contextDir(d digest.Digest) (string, error) {
	if dir, ok := c.ctx[d]; ok && c.groups[d] > 0 {
		return dir, nil
	}
	return c.contextGroup(d, c.ops[d].GetFile().Actions)
}

// contextGroup puts the files that actions make into d's directory of the
// build context, at their paths in the image, and returns the directory.
// Every vertex has one directory, named after it.
func (c *converter) contextGroup(d digest.Digest, actions []*pb.FileAction) (string, error) {
	dir, ok := c.ctx[d]
	if !ok {
		name := c.names[d]
		if _, rest, found := strings.Cut(name, ": "); found {
			name = rest
		}
		base := cmpOr(slug(name), "files-"+shortDigest(d))
		name = base
		for i := 2; c.taken[name]; i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		c.taken[name] = true
		// Marked until render: the context layout may move it once all
		// its files are known.
		dir = ctxMark + name + ctxMark
		c.ctx[d] = dir
		c.addFile(File{Path: dir, Mode: fs.ModeDir | 0o755})
	}
	c.groups[d]++
	for _, a := range actions {
		switch x := a.Action.(type) {
		case *pb.FileAction_Mkdir:
			mode, err := fileMode(x.Mkdir.Mode)
			if err != nil {
				return "", c.unsupported(d, "mkdir %s: %v", x.Mkdir.Path, err)
			}
			c.addFile(File{Path: path.Join(dir, x.Mkdir.Path), Mode: fs.ModeDir | mode, ModTime: unixNano(x.Mkdir.Timestamp)})
		case *pb.FileAction_Mkfile:
			mode, err := fileMode(x.Mkfile.Mode)
			if err != nil {
				return "", c.unsupported(d, "mkfile %s: %v", x.Mkfile.Path, err)
			}
			c.addFile(File{Path: path.Join(dir, x.Mkfile.Path), Mode: mode, Data: x.Mkfile.Data, ModTime: unixNano(x.Mkfile.Timestamp)})
		case *pb.FileAction_Symlink:
			c.addFile(File{Path: path.Join(dir, x.Symlink.Newpath), Mode: fs.ModeSymlink | 0o777,
				Data: []byte(x.Symlink.Oldpath), ModTime: unixNano(x.Symlink.Timestamp)})
		default:
			return "", c.unsupported(d, "file action %T in the build context", a.Action)
		}
	}
	return dir, nil
}

// addFile records f and the directories above it that nothing made.
func (c *converter) addFile(f File) {
	for p := path.Dir(f.Path); p != "." && p != "/"; p = path.Dir(p) {
		if _, ok := c.files[p]; !ok {
			c.files[p] = File{Path: p, Mode: fs.ModeDir | 0o755}
		}
	}
	c.files[f.Path] = f
}

// ctxMark brackets a context directory's name in paths and instructions
// until render resolves it (see contextDirs).
const ctxMark = "\x01"

var ctxRef = regexp.MustCompile("\x01([^\x01]+)\x01")

// contextDirs maps every context directory to its final name: the
// layout's choice given its files, or the name itself.
func (c *converter) contextDirs() map[string]string {
	dirs := map[string]string{}
	byDir := map[string][]File{}
	for _, p := range slices.Sorted(maps.Keys(c.files)) {
		m := ctxRef.FindStringSubmatch(p)
		if m == nil {
			continue
		}
		f := c.files[p]
		f.Path = strings.TrimPrefix(strings.TrimPrefix(p, m[0]), "/")
		if f.Path != "" {
			byDir[m[1]] = append(byDir[m[1]], f)
		} else if _, ok := byDir[m[1]]; !ok {
			byDir[m[1]] = nil
		}
	}
	for name, files := range byDir {
		dirs[name] = name
		if c.opts.layout != nil {
			if to := path.Clean(c.opts.layout(name, files)); to != "." && !strings.HasPrefix(to, "..") && !path.IsAbs(to) {
				dirs[name] = to
			}
		}
	}
	return dirs
}

// resolve puts the final context directory names into s.
func resolve(s string, dirs map[string]string) string {
	return ctxRef.ReplaceAllStringFunc(s, func(m string) string { return dirs[strings.Trim(m, ctxMark)] })
}

func (c *converter) contextFiles(dirs map[string]string) []File {
	files := map[string]File{}
	for _, f := range c.files {
		f.Path = resolve(f.Path, dirs)
		files[f.Path] = f
		for p := path.Dir(f.Path); p != "." && p != "/"; p = path.Dir(p) {
			if _, ok := files[p]; !ok {
				files[p] = File{Path: p, Mode: fs.ModeDir | 0o755}
			}
		}
	}
	out := make([]File, 0, len(files))
	for _, p := range slices.Sorted(maps.Keys(files)) {
		out = append(out, files[p])
	}
	return out
}

func unixNano(ts int64) time.Time {
	if ts <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ts).UTC()
}

// fileMode turns LLB's permission bits, setuid, setgid and sticky
// included, into an fs.FileMode.
func fileMode(m int32) (fs.FileMode, error) {
	if m < 0 || m > 0o7777 {
		return 0, fmt.Errorf("mode %o", m)
	}
	mode := fs.FileMode(m) & fs.ModePerm
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode, nil
}

// WriteContext writes the Dockerfile and its build context into dir, which
// must be missing or empty: files with their modes and times, directories,
// symlinks.
//
//	err := res.WriteContext("/tmp/nginx-context")
func (r *Result) WriteContext(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("context directory: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s: give a new or empty directory", ErrContextDir, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("context directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), r.Dockerfile, 0o644); err != nil {
		return fmt.Errorf("write Dockerfile: %w", err)
	}
	for _, f := range r.Context {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		switch {
		case f.Mode.IsDir():
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("context %s: %w", f.Path, err)
			}
		case f.Mode&fs.ModeSymlink != 0:
			if err := os.Symlink(string(f.Data), p); err != nil {
				return fmt.Errorf("context %s: %w", f.Path, err)
			}
			continue
		default:
			if err := os.WriteFile(p, f.Data, 0o600); err != nil {
				return fmt.Errorf("context %s: %w", f.Path, err)
			}
		}
		// Chmod, not the umask'd create mode: the image gets these bits.
		if err := os.Chmod(p, f.Mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("context %s: %w", f.Path, err)
		}
	}
	// Times last, deepest first: writing a child moves its directory's.
	for i := len(r.Context) - 1; i >= 0; i-- {
		f := r.Context[i]
		if f.ModTime.IsZero() || f.Mode&fs.ModeSymlink != 0 {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.Chtimes(p, f.ModTime, f.ModTime); err != nil {
			return fmt.Errorf("context %s: %w", f.Path, err)
		}
	}
	return nil
}
