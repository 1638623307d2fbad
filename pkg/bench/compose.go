package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/export"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// WithCompose measures the compose variant on d, the stack exported into
// dir (made anew at the start) and built there with docker compose.
// The caller starts d and loads the base image into it (the Dockerfiles
// start FROM it, and there is no registry to pull it from).
//
//	b, err := bench.NewBuildBench(ctx, bk, imgs, cases, bench.WithVariants(bench.VariantLLB, bench.VariantCompose), bench.WithCompose(d, dir))
func WithCompose(d *dockerpeer.Daemon, dir string) BuildOption {
	return buildOption(func(c *config) { c.compose = composeConfig{daemon: d, dir: dir} })
}

type composeConfig struct {
	daemon *dockerpeer.Daemon
	dir    string
}

// composeProject is the compose project name the bench builds under.
const composeProject = "incbench"

// composeTag is the tag of the images the compose variant builds.
const composeTag = "bench-compose"

// composePeer is the compose variant of one bench: the exported tree and
// the changes made in it.
type composePeer struct {
	d        *dockerpeer.Daemon
	dir      string // the exported tree
	file     string // its srcs/docker-compose.yml
	packaged map[string][]byte
	prepared bool
	images   []string // every image the cases build
}

// newComposePeer exports the stack into dir/tree, with random secrets, and
// the Dockerfiles with addedPackage of the images the package scenario
// changes.
func newComposePeer(ctx context.Context, c composeConfig, cases []report.Case) (*composePeer, error) {
	if c.daemon == nil {
		return nil, fmt.Errorf("%w: start the private dockerd first (bench.WithCompose; `inceptionctl bench` does it, after `make docker-peer`)", ErrNoComposePeer)
	}
	if c.dir == "" {
		return nil, fmt.Errorf("%w: no directory for the exported tree", ErrNoComposePeer)
	}
	p := &composePeer{d: c.daemon, dir: filepath.Join(c.dir, "tree"), packaged: map[string][]byte{}}
	p.file = filepath.Join(p.dir, "srcs", "docker-compose.yml")
	cfg, err := composeConfigOf(filepath.Join(c.dir, "data"))
	if err != nil {
		return nil, err
	}
	tree, err := export.Compose(ctx, cfg, export.WithTag(composeTag))
	if err != nil {
		return nil, fmt.Errorf("export the stack for docker compose: %w", err)
	}
	if err := os.RemoveAll(p.dir); err != nil {
		return nil, fmt.Errorf("exported tree: %w", err)
	}
	if err := tree.Write(p.dir); err != nil {
		return nil, err
	}
	if err := writeSecrets(filepath.Join(p.dir, "secrets")); err != nil {
		return nil, err
	}
	for _, cs := range cases {
		for _, img := range cs.Images {
			if !slices.Contains(p.images, img) {
				p.images = append(p.images, img)
			}
		}
		if cs.Scenario != report.ScenarioPackage || p.packaged[cs.Changed] != nil {
			continue
		}
		df, err := packagedDockerfile(ctx, cfg, tree, cs.Changed)
		if err != nil {
			return nil, err
		}
		p.packaged[cs.Changed] = df
	}
	return p, nil
}

// composeConfigOf is the stack the compose variant exports: the default
// settings, data under dataDir (used by up only).
func composeConfigOf(dataDir string) (stack.Config, error) {
	cfg, err := stack.NewConfig(map[string]string{"LOGIN": "bench", "HOST_IP": "127.0.0.1", "DATA_DIR": dataDir})
	if err != nil {
		return stack.Config{}, fmt.Errorf("the compose variant's stack: %w", err)
	}
	return cfg, nil
}

// packagedDockerfile is image's exported Dockerfile with addedPackage in
// its install line, as a Dockerfile author adds a package; it must differ
// from tree's.
func packagedDockerfile(ctx context.Context, cfg stack.Config, tree *export.Tree, image string) ([]byte, error) {
	changed, err := export.Compose(ctx, cfg, export.WithTag(composeTag), export.WithImageOptions(image, llbdefs.WithExtraPackages(addedPackage)))
	if err != nil {
		return nil, fmt.Errorf("export %s with %s added: %w", image, addedPackage, err)
	}
	p := dockerfilePath(image)
	orig, df := tree.File(p), changed.File(p)
	switch {
	case orig == nil || df == nil:
		return nil, fmt.Errorf("%w %q: the exported stack has no %s", ErrUnknownImage, image, p)
	case bytes.Equal(orig.Data, df.Data):
		return nil, fmt.Errorf("%s with %s added: the Dockerfile did not change", image, addedPackage)
	}
	return df.Data, nil
}

func dockerfilePath(image string) string { return "srcs/requirements/" + image + "/Dockerfile" }

// writeSecrets writes the secret files the exported Makefile would make:
// random, never printed.
func writeSecrets(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secrets of the exported tree: %w", err)
	}
	for _, name := range []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP} {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name+".txt"), []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			return fmt.Errorf("secrets of the exported tree: %w", err)
		}
	}
	return nil
}

// composeBuild builds the case's images with docker compose once and
// times it, with the case's change made in the exported tree when changed
// (undone after the build). The first build of a bench builds every image
// the cases build, untimed: the dockerd's cache mounts are then filled
// before a cold case prunes the rest.
func (r *runner) composeBuild(ctx context.Context, cs report.Case, changed bool) (report.Measurement, error) {
	p := r.peer
	if !p.prepared {
		r.logf("compose: building %s once on the private dockerd", strings.Join(p.images, ","))
		if _, err := p.build(ctx, p.images); err != nil {
			return report.Measurement{}, fmt.Errorf("compose: first build: %w", err)
		}
		p.prepared = true
	}
	if changed {
		undo, err := r.composeChange(cs)
		if err != nil {
			return report.Measurement{}, err
		}
		defer undo()
	}
	return p.build(ctx, cs.Images)
}

// build runs docker compose build for images and reads its plain progress.
func (p *composePeer) build(ctx context.Context, images []string) (report.Measurement, error) {
	args := append([]string{"compose", "-p", composeProject, "-f", p.file, "--progress", "plain", "build"}, images...)
	start := time.Now()
	stdout, stderr, err := p.d.Docker(ctx, nil, args...)
	wall := time.Since(start)
	if err != nil {
		return report.Measurement{}, err
	}
	run := report.Measurement{Seconds: wall.Seconds()}
	out := stdout + "\n" + stderr
	stages, err := p.stages(images)
	if err != nil {
		return report.Measurement{}, err
	}
	steps := parsePlainProgress(out, images, stages)
	if len(steps) == 0 {
		return report.Measurement{}, fmt.Errorf("compose: docker compose build printed no Dockerfile step of %s; its output ends:\n%s", strings.Join(images, ","), dockerpeer.LastLines(out, 20))
	}
	for _, img := range append(slices.Clone(images), report.ScopeStack) {
		ss, ok := steps[img]
		if !ok {
			continue
		}
		// One command builds every image: each image's seconds are the
		// command's.
		ir := report.ImageRun{Image: img, Seconds: wall.Seconds(), Vertices: len(ss), Ran: []build.Step{}}
		for _, s := range ss {
			if s.Cached {
				ir.Cached++
			} else {
				ir.Ran = append(ir.Ran, s)
			}
		}
		run.Images = append(run.Images, ir)
	}
	return run, nil
}

// stages maps the stage names of the images' exported Dockerfiles to
// their image, where only one of images has a stage of that name.
func (p *composePeer) stages(images []string) (map[string]string, error) {
	owner := map[string]string{}
	for _, img := range images {
		data, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(dockerfilePath(img))))
		if err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 4 && f[0] == "FROM" && strings.EqualFold(f[2], "AS") {
				if o, ok := owner[f[3]]; ok && o != img {
					owner[f[3]] = ""
				} else {
					owner[f[3]] = img
				}
			}
		}
	}
	return owner, nil
}

// composeChange makes the case's change in the exported tree and returns
// what undoes it: a line appended to the config or site file the other
// variants change (found in the image's conf/ or tools/ by its name and
// content), or the Dockerfile with the package added.
func (r *runner) composeChange(cs report.Case) (undo func(), err error) {
	p := r.peer
	img := cs.Changed
	var file string
	var data []byte
	switch cs.Scenario {
	case report.ScenarioPackage:
		df, ok := p.packaged[img]
		if !ok {
			return nil, fmt.Errorf("compose: no Dockerfile of %s with %s added", img, addedPackage)
		}
		file, data = filepath.Join(p.dir, filepath.FromSlash(dockerfilePath(img))), df
	case report.ScenarioConfig, report.ScenarioSite:
		ch, ok := r.change(img, cs.Scenario)
		if !ok {
			return nil, fmt.Errorf("%s: no %s for this image", img, cs.Scenario)
		}
		if file, err = exportedFile(p.dir, img, ch.file); err != nil {
			return nil, err
		}
		orig, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		data = appendLine(orig, ch.line)
	default:
		return nil, fmt.Errorf("compose: %s makes no change", cs.Scenario)
	}
	return replaceFile(file, data)
}

// exportedFile is where the export put file of image's files
// (llbdefs.Files): the file under srcs/requirements/<image> with its
// content, which has the path the image installs it at (90-inception.cnf
// for inception.cnf): one must match, or one of those with its name.
func exportedFile(tree, image, file string) (string, error) {
	fsys, err := llbdefs.Files(image)
	if err != nil {
		return "", err
	}
	want, err := fs.ReadFile(fsys, file)
	if err != nil {
		return "", fmt.Errorf("%s has no %s to change: %w", image, file, err)
	}
	root := filepath.Join(tree, "srcs", "requirements", image)
	var found []string
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		if got, err := os.ReadFile(p); err == nil && bytes.Equal(got, want) {
			found = append(found, p)
		}
		return nil
	})
	if named := slices.DeleteFunc(slices.Clone(found), func(p string) bool { return filepath.Base(p) != path.Base(file) }); len(found) > 1 && len(named) > 0 {
		found = named
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("exported tree of %s: %w", image, err)
	case len(found) != 1:
		return "", fmt.Errorf("compose: %d files of the exported %s are %s (%s): want one to change", len(found), image, file, strings.Join(found, ", "))
	}
	return found[0], nil
}

// appendLine is data with line appended, on a line of its own.
func appendLine(data []byte, line string) []byte {
	out := slices.Clone(data)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, line+"\n"...)
}

// replaceFile writes data into file, dated now, and returns what writes
// the original back, dated now too: docker sends a build context by
// differences of size and time, and a change that keeps the size (the
// runs' numbers have as many digits) would not be sent with the old time.
func replaceFile(file string, data []byte) (undo func(), err error) {
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	write := func(dt []byte) error {
		if err := os.WriteFile(file, dt, fi.Mode().Perm()); err != nil {
			return fmt.Errorf("compose: change %s: %w", file, err)
		}
		now := time.Now()
		return os.Chtimes(file, now, now)
	}
	if err := write(data); err != nil {
		return nil, err
	}
	return func() { _ = write(orig) }, nil
}

// composeCold prunes the private dockerd's build cache, its cache mounts
// (apt's lists and .deb files) too unless the bench keeps them
// (WithColdKeepingPackages, as for the other variants), checks that the base image is still in dockerd's image store, and times
// a build.
func (r *runner) composeCold(ctx context.Context, cs report.Case) (report.Measurement, error) {
	p := r.peer
	recs, err := p.d.BuildCache(ctx)
	if err != nil {
		return report.Measurement{}, err
	}
	var types []string
	for _, rec := range recs {
		if (rec.Type != dockerpeer.CacheMountType || !r.coldKeeps) && !slices.Contains(types, rec.Type) {
			types = append(types, rec.Type)
		}
	}
	// dockerd takes one value per filter key: one prune per type.
	for _, t := range types {
		if err := p.d.PruneBuildCache(ctx, "type", t); err != nil {
			return report.Measurement{}, err
		}
	}
	if _, err := p.d.ImageID(ctx, r.baseRef); err != nil {
		return report.Measurement{}, fmt.Errorf("%w: %s in the private dockerd: %w", ErrBaseMissing, r.baseRef, err)
	}
	return p.build(ctx, cs.Images)
}

// composeRestore prunes the dockerd's cache records made since and
// rebuilds the original images, which must come from its cache.
func (r *runner) composeRestore(ctx context.Context, cs report.Case, since time.Time) error {
	if err := r.peer.pruneSince(ctx, since); err != nil {
		return err
	}
	run, err := r.peer.build(ctx, cs.Images)
	if err != nil {
		return fmt.Errorf("rebuild the original: %w", err)
	}
	return restored(run, "compose: ")
}

// pruneSince prunes the dockerd's build cache records made since t, cache
// mounts and build contexts aside, as runner.pruneSince does the engine's:
// one id at a time (dockerd takes one value per filter key), listed again
// until none is left, since a record still used by a newer one is only
// pruned once that one is.
func (p *composePeer) pruneSince(ctx context.Context, since time.Time) error {
	deadline := time.Now().Add(restoreTimeout)
	for {
		recs, err := p.d.BuildCache(ctx)
		if err != nil {
			return err
		}
		var ids []string
		for _, rec := range recs {
			if rec.CreatedAt.Before(since) || rec.Type == dockerpeer.CacheMountType || rec.Type == "source.local" {
				continue
			}
			ids = append(ids, rec.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: compose: %d cache records of the changed build are still in use after %s", ErrNotRestored, len(ids), restoreTimeout)
		}
		for _, id := range ids {
			if err := p.d.PruneBuildCache(ctx, "id", id); err != nil {
				return err
			}
		}
	}
}

// plainVertex is the first line of a vertex in BuildKit's plain progress:
// "#7 [nginx 3/5] RUN ...".
var plainVertex = regexp.MustCompile(`^#(\d+) (.+)$`)

// stepRe is the bracket of a Dockerfile step: "[3/5]", "[stage 3/5]", and
// with docker compose's service prefix, "[nginx stage 3/5]".
var stepRe = regexp.MustCompile(`^\[([^\]]*?)\s*(\d+/\d+)\] (.+)$`)

// parsePlainProgress reads the plain progress of one docker compose build
// of images into each image's Dockerfile steps, FROM left out (a source:
// resolved, never cached, as the engine's counts leave sources out), in
// the order they started, with whether each came from the cache and how
// long it took. Steps of a build of several images are told apart by the
// service name that starts their bracket (compose's prefix, or the stage
// named after the image), else by their stage's name where one image
// alone has it (stages); the others go to report.ScopeStack.
func parsePlainProgress(out string, images []string, stages map[string]string) map[string][]build.Step {
	type vertex struct {
		image string
		step  build.Step
	}
	var order []string
	vs := map[string]*vertex{}
	skip := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		m := plainVertex.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		id, text := m[1], m[2]
		if skip[id] {
			continue
		}
		v, seen := vs[id]
		if !seen {
			sm := stepRe.FindStringSubmatch(text)
			if sm == nil || strings.HasPrefix(sm[3], "FROM ") {
				skip[id] = true
				continue
			}
			fields := strings.Fields(sm[1])
			img := report.ScopeStack
			switch {
			case len(images) == 1:
				img = images[0]
			case len(fields) > 0 && slices.Contains(images, fields[0]):
				img = fields[0]
			case len(fields) == 1 && stages[fields[0]] != "":
				img = stages[fields[0]]
			}
			vs[id] = &vertex{image: img, step: build.Step{Name: text}}
			order = append(order, id)
			continue
		}
		switch {
		case text == "CACHED":
			v.step.Cached = true
		case strings.HasPrefix(text, "DONE "):
			if secs, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(text, "DONE "), "s"), 64); err == nil {
				v.step.Duration = time.Duration(secs * float64(time.Second))
			}
		}
	}
	steps := map[string][]build.Step{}
	for _, id := range order {
		v := vs[id]
		steps[v.image] = append(steps[v.image], v.step)
	}
	return steps
}
