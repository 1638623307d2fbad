package base

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Defaults of the base image.
const (
	DefaultSuite = "bookworm"
	DefaultRef   = "docker.io/library/debian:bookworm"
	// DefaultSourceDateEpoch pins file and image timestamps (2024-01-01 UTC)
	// so the same mirror state gives the same digest.
	DefaultSourceDateEpoch = 1704067200
)

// Labels set on the image record.
const (
	LabelMirror = "io.inception.base.mirror"
	LabelSuite  = "io.inception.base.suite"
)

type config struct {
	suite      string
	mirror     string
	ref        string
	force      bool
	epoch      int64
	mmdebstrap string
	log        io.Writer
	tmpDir     string
}

// Option configures Ensure.
type Option func(*config)

// WithSuite sets the Debian suite (default bookworm).
func WithSuite(s string) Option { return func(c *config) { c.suite = s } }

// WithMirror sets the Debian mirror URL. Empty means the host's own apt mirror.
func WithMirror(url string) Option { return func(c *config) { c.mirror = url } }

// WithRef sets the image name the base is stored under.
func WithRef(ref string) Option { return func(c *config) { c.ref = ref } }

// WithForce rebuilds the base even when the image exists.
func WithForce(f bool) Option { return func(c *config) { c.force = f } }

// WithSourceDateEpoch sets the timestamp written into files and the image.
func WithSourceDateEpoch(sec int64) Option { return func(c *config) { c.epoch = sec } }

// WithLog receives mmdebstrap's progress output.
func WithLog(w io.Writer) Option { return func(c *config) { c.log = w } }

// WithTempDir sets where the compressed layer is staged before it is written
// into the content store.
func WithTempDir(dir string) Option { return func(c *config) { c.tmpDir = dir } }

// Result says what Ensure did.
type Result struct {
	Image   images.Image
	Created bool // false when an existing image was reused
}

// Ensure returns the base image, making it when it is missing or when
// WithForce is given. The image record is written last, so a failure leaves
// no half-made image behind (orphaned blobs are garbage collected).
//
//	res, err := base.Ensure(ctx, client.ContentStore(), client.ImageService())
func Ensure(ctx context.Context, cs content.Store, is images.Store, opts ...Option) (Result, error) {
	c := config{
		suite:      DefaultSuite,
		ref:        DefaultRef,
		epoch:      DefaultSourceDateEpoch,
		mmdebstrap: "mmdebstrap",
		log:        io.Discard,
		tmpDir:     os.TempDir(),
	}
	for _, o := range opts {
		o(&c)
	}
	if c.suite == "" || strings.ContainsAny(c.suite, " /") {
		return Result{}, fmt.Errorf("invalid suite %q: pass a Debian suite name such as bookworm", c.suite)
	}
	if !c.force {
		img, err := is.Get(ctx, c.ref)
		if err == nil {
			return Result{Image: img}, nil
		}
		if !errdefs.IsNotFound(err) {
			return Result{}, fmt.Errorf("look up base image %q: %w", c.ref, err)
		}
	}
	if c.mirror == "" {
		m, err := HostMirror(c.suite)
		if err != nil {
			return Result{}, err
		}
		c.mirror = m
	}
	if err := checkMirror(ctx, c.mirror, c.suite); err != nil {
		return Result{}, err
	}
	if _, err := exec.LookPath(c.mmdebstrap); err != nil {
		return Result{}, fmt.Errorf("%w: mmdebstrap not found: run `make deps` or apt-get install mmdebstrap", ErrBootstrap)
	}

	layer, err := bootstrap(ctx, c)
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(layer.path)

	img, err := store(ctx, cs, is, c, layer)
	if err != nil {
		return Result{}, err
	}
	return Result{Image: img, Created: true}, nil
}

type layerFile struct {
	path   string
	digest digest.Digest // of the gzip blob
	diffID digest.Digest // of the uncompressed tar
	size   int64
}

// aptConf is written into the base so that apt in any image made from it
// keeps no downloaded .deb files and installs no recommends. Image graphs
// that mount a cache on /var/cache/apt override the first setting.
const aptConf = `APT::Keep-Downloaded-Packages "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
`

// bootstrap runs mmdebstrap with its tarball on stdout and compresses it into
// a staged blob, hashing both forms on the way.
func bootstrap(ctx context.Context, c config) (layerFile, error) {
	args := []string{
		"--variant=minbase",
		"--mode=root",
		"--format=tar",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--dpkgopt=path-include=/usr/share/doc/*/copyright",
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/info/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-include=/usr/share/locale/locale.alias",
		"--customize-hook=printf '%s' '" + aptConf + "' > \"$1/etc/apt/apt.conf.d/90inception\"",
		"--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin \"$1\"/var/log/*.log \"$1\"/var/log/apt/*",
		c.suite,
		"-",
		fmt.Sprintf("deb %s %s main", c.mirror, c.suite),
		fmt.Sprintf("deb %s %s-updates main", c.mirror, c.suite),
	}
	cmd := exec.CommandContext(ctx, c.mmdebstrap, args...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(c.epoch, 10), "LC_ALL=C.UTF-8")
	var tail tailBuffer
	cmd.Stderr = io.MultiWriter(c.log, &tail)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return layerFile{}, fmt.Errorf("%w: %w", ErrBootstrap, err)
	}
	f, err := os.CreateTemp(c.tmpDir, "inception-base-*.tar.gz")
	if err != nil {
		return layerFile{}, fmt.Errorf("stage base layer: %w", err)
	}
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(f.Name())
		}
	}()
	if err := cmd.Start(); err != nil {
		return layerFile{}, fmt.Errorf("%w: start mmdebstrap: %w", ErrBootstrap, err)
	}
	diffH, blobH := sha256.New(), sha256.New()
	counter := &countWriter{w: io.MultiWriter(f, blobH)}
	gz, _ := gzip.NewWriterLevel(counter, gzip.BestSpeed)
	_, copyErr := io.Copy(io.MultiWriter(gz, diffH), stdout)
	closeErr := gz.Close()
	waitErr := cmd.Wait()
	if waitErr != nil {
		return layerFile{}, fmt.Errorf("%w: mmdebstrap %s: %w\n%s\ncheck the mirror (--apt-mirror) and the suite (--suite)", ErrBootstrap, c.suite, waitErr, tail.String())
	}
	if err := errors.Join(copyErr, closeErr); err != nil {
		return layerFile{}, fmt.Errorf("compress base layer: %w", err)
	}
	ok = true
	return layerFile{path: f.Name(), digest: sum(blobH), diffID: sum(diffH), size: counter.n}, nil
}

// store writes layer, config and manifest into the content store and the
// image record last.
func store(ctx context.Context, cs content.Store, is images.Store, c config, l layerFile) (images.Image, error) {
	created := time.Unix(c.epoch, 0).UTC()
	layerDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: l.digest, Size: l.size}
	f, err := os.Open(l.path)
	if err != nil {
		return images.Image{}, err
	}
	defer f.Close()
	if err := content.WriteBlob(ctx, cs, "inception-base-layer-"+l.digest.Encoded(), f, layerDesc,
		content.WithLabels(map[string]string{"containerd.io/uncompressed": l.diffID.String()})); err != nil {
		return images.Image{}, fmt.Errorf("write base layer: %w", err)
	}

	cfg := ocispec.Image{
		Created:  &created,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd: []string{"bash"},
		},
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{l.diffID}},
		History: []ocispec.History{{
			Created:   &created,
			CreatedBy: "mmdebstrap --variant=minbase " + c.suite,
			Comment:   "inception base",
		}},
	}
	cfgDesc, err := writeJSON(ctx, cs, ocispec.MediaTypeImageConfig, cfg, nil)
	if err != nil {
		return images.Image{}, fmt.Errorf("write base config: %w", err)
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	}
	mDesc, err := writeJSON(ctx, cs, ocispec.MediaTypeImageManifest, manifest, map[string]string{
		"containerd.io/gc.ref.content.config": cfgDesc.Digest.String(),
		"containerd.io/gc.ref.content.l.0":    layerDesc.Digest.String(),
	})
	if err != nil {
		return images.Image{}, fmt.Errorf("write base manifest: %w", err)
	}
	mDesc.Platform = &ocispec.Platform{Architecture: "amd64", OS: "linux"}

	img := images.Image{
		Name:   c.ref,
		Target: mDesc,
		Labels: map[string]string{LabelMirror: c.mirror, LabelSuite: c.suite},
	}
	got, err := is.Create(ctx, img)
	if errdefs.IsAlreadyExists(err) {
		got, err = is.Update(ctx, img, "target", "labels")
	}
	if err != nil {
		return images.Image{}, fmt.Errorf("store base image %q: %w", c.ref, err)
	}
	return got, nil
}

func writeJSON(ctx context.Context, cs content.Store, mediaType string, v any, labels map[string]string) (ocispec.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	var opts []content.Opt
	if labels != nil {
		opts = append(opts, content.WithLabels(labels))
	}
	if err := content.WriteBlob(ctx, cs, "inception-base-"+desc.Digest.Encoded(), bytes.NewReader(data), desc, opts...); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

func sum(h hash.Hash) digest.Digest {
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil)))
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// tailBuffer keeps the last lines written to it, for error messages.
type tailBuffer struct{ lines []string }

func (t *tailBuffer) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		t.lines = append(t.lines, l)
		if len(t.lines) > 15 {
			t.lines = t.lines[1:]
		}
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return strings.Join(t.lines, "\n") }
