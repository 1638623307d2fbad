package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tonistiigi/fsutil"

	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/dockerfile"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// Image is one image bench can build: a stack service's name and its
// llbdefs constructor.
type Image struct {
	Name  string
	Build func(opts ...llbdefs.Option) (llbdefs.Image, error)
}

// The Dockerfile frontend built into buildkitd, and how it resolves the
// base image: from the engine's image store, as llbdefs does.
const (
	dockerfileFrontend = "dockerfile.v0"
	frontendResolve    = "image-resolve-mode"
)

// imageRef is where a variant's build of an image is stored: never the
// tag `inceptionctl build` uses.
func imageRef(image string, v report.Variant) string {
	return "docker.io/library/" + image + ":bench-" + string(v)
}

// targets marshals what one build of case c in variant v builds: the
// original images, or, when changed, with c's change made.
func (r *runner) targets(ctx context.Context, c report.Case, v report.Variant, changed bool) ([]build.Target, error) {
	out := make([]build.Target, 0, len(c.Images))
	for _, name := range c.Images {
		img, err := r.image(name, v, c.Scenario, changed && name == c.Changed)
		if err != nil {
			return nil, err
		}
		t := build.Target{Service: name, Ref: imageRef(name, v)}
		switch v {
		case report.VariantLLB, report.VariantLinear:
			def, err := img.Marshal(ctx)
			if err != nil {
				return nil, err
			}
			if v == report.VariantLinear {
				if def, err = linearize(def); err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
			}
			if t.Config, err = img.ConfigJSON(); err != nil {
				return nil, err
			}
			t.Definition = def
		case report.VariantDockerfile:
			res, err := dockerfile.FromImage(ctx, img)
			if err != nil {
				return nil, fmt.Errorf("%s as a Dockerfile: %w", name, err)
			}
			if changed && name == c.Changed {
				r.touchChanged(res, c.Scenario, name)
			}
			dir, err := r.contextDir(name, res)
			if err != nil {
				return nil, err
			}
			local, err := fsutil.NewFS(dir)
			if err != nil {
				return nil, fmt.Errorf("%s build context: %w", name, err)
			}
			t.Frontend = dockerfileFrontend
			t.FrontendAttrs = map[string]string{frontendResolve: "local"}
			t.LocalMounts = map[string]fsutil.FS{"context": local, "dockerfile": local}
		default:
			return nil, fmt.Errorf("%w %q", report.ErrUnknownVariant, v)
		}
		out = append(out, t)
	}
	return out, nil
}

// image builds the llbdefs image, changed or not. The llb variant adds a
// package in a step of its own; linear and dockerfile put it in the
// package list, as a Dockerfile author edits the apt-get line.
func (r *runner) image(name string, v report.Variant, sc report.Scenario, changed bool) (llbdefs.Image, error) {
	build, ok := r.images[name]
	if !ok {
		return llbdefs.Image{}, fmt.Errorf("%w %q", ErrUnknownImage, name)
	}
	opts := slices.Clone(r.llbOpts)
	if !changed {
		return build(opts...)
	}
	if sc == report.ScenarioPackage {
		if v == report.VariantLLB {
			opts = append(opts, llbdefs.WithExtraPackageStep(addedPackage))
		} else {
			opts = append(opts, llbdefs.WithExtraPackages(addedPackage))
		}
		return build(opts...)
	}
	ch, ok := r.change(name, sc)
	if !ok {
		return llbdefs.Image{}, fmt.Errorf("%s: no %s for this image", name, sc)
	}
	dir, err := r.changedFiles(name, ch)
	if err != nil {
		return llbdefs.Image{}, err
	}
	return llbdefs.FromFiles(name, os.DirFS(dir), opts...)
}

// change is the file change of scenario sc in image name, numbered
// with the current run.
func (r *runner) change(name string, sc report.Scenario) (fileChange, bool) {
	var ch fileChange
	var ok bool
	switch sc {
	case report.ScenarioConfig:
		ch, ok = configChange(name)
	case report.ScenarioSite:
		ch, ok = siteChange(name)
	}
	ch.line = ch.numbered(r.seq)
	return ch, ok
}

// touchChanged dates the changed file of a Dockerfile build context now,
// as an editor does. The context's files carry the graph's fixed time,
// and BuildKit sends a build context by differences of size and time:
// a change that keeps the size (the runs' numbers have as many digits)
// would not be sent, and the build would copy the previous run's file.
func (r *runner) touchChanged(res *dockerfile.Result, sc report.Scenario, name string) {
	ch, ok := r.change(name, sc)
	if !ok {
		return
	}
	now := time.Now()
	for i, f := range res.Context {
		if bytes.Contains(f.Data, []byte(ch.line)) {
			res.Context[i].ModTime = now
		}
	}
}

// changedFiles copies the image's files into the scratch directory, once,
// and appends ch.line to ch.file there. The embedded files, and the
// user's, are never touched.
func (r *runner) changedFiles(image string, ch fileChange) (string, error) {
	sum := sha256.Sum256([]byte(ch.file + "\x00" + ch.line))
	dir := filepath.Join(r.tmp, "files", image+"-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	fsys, err := llbdefs.Files(image)
	if err != nil {
		return "", err
	}
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return "", fmt.Errorf("scratch copy of %s: %w", image, err)
	}
	if err := os.CopyFS(tmp, fsys); err != nil {
		return "", fmt.Errorf("scratch copy of %s: %w", image, err)
	}
	p := filepath.Join(tmp, filepath.FromSlash(ch.file))
	dt, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("%s has no %s to change: %w", image, ch.file, err)
	}
	if len(dt) > 0 && dt[len(dt)-1] != '\n' {
		dt = append(dt, '\n')
	}
	dt = append(dt, ch.line+"\n"...)
	// CopyFS made the file read-only, as embedded files are.
	if err := os.Chmod(p, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(p, dt, 0o644); err != nil {
		return "", fmt.Errorf("change %s of %s: %w", ch.file, image, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("scratch copy of %s: %w", image, err)
	}
	return dir, nil
}

// contextDir writes a converted image's Dockerfile and build context into
// the scratch directory, once per content.
func (r *runner) contextDir(image string, res *dockerfile.Result) (string, error) {
	h := sha256.New()
	h.Write(res.Dockerfile)
	for _, f := range res.Context {
		fmt.Fprintf(h, "\x00%s\x00%o\x00%d\x00", f.Path, f.Mode, f.ModTime.UnixNano())
		h.Write(f.Data)
	}
	dir := filepath.Join(r.tmp, "contexts", image+"-"+hex.EncodeToString(h.Sum(nil)[:6]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := res.WriteContext(tmp); err != nil {
		return "", fmt.Errorf("%s build context: %w", image, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("%s build context: %w", image, err)
	}
	return dir, nil
}
