package build

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/metadata"
)

// Target is one image to build: a marshalled graph, the image config to
// attach, and the name it is stored under.
type Target struct {
	Service    string          // the service name, for progress and paths
	Ref        string          // image name in the store, e.g. docker.io/library/nginx:bookworm
	Definition *llb.Definition // the marshalled graph
	Config     []byte          // image config JSON ("containerimage.config")

	// Frontend, when set, builds the image with a BuildKit frontend
	// instead of Definition, e.g. "dockerfile.v0" with FrontendAttrs and
	// the "context" and "dockerfile" LocalMounts: how pkg/bench builds the
	// Dockerfile variant of an image on the same engine. The frontend sets
	// the image config; Config, when set too, replaces it.
	Frontend      string
	FrontendAttrs map[string]string
	LocalMounts   map[string]fsutil.FS
}

// Solver is the part of the BuildKit client Builder uses.
type Solver interface {
	Build(ctx context.Context, opt client.SolveOpt, product string, buildFunc gateway.BuildFunc, statusChan chan *client.SolveStatus) (*client.SolveResponse, error)
}

var _ Solver = (*client.Client)(nil)

// Builder builds targets on one BuildKit daemon.
type Builder struct {
	solver Solver
	cfg    config
}

type config struct {
	progressOut  io.Writer
	progressMode progressui.DisplayMode
	outputs      []Output
	cacheTo      []Cache
	cacheFrom    []Cache
	noStore      bool
	store        ImageStore
	dockerConfig *configfile.ConfigFile
	resolver     remotes.Resolver
	hooks        []ResultHook
	epoch        *time.Time
	provenance   string
}

// Option configures a Builder.
type Option func(*config)

// WithProgress shows progress on w in mode auto, tty, plain, rawjson or quiet.
func WithProgress(w io.Writer, mode string) Option {
	return func(c *config) { c.progressOut, c.progressMode = w, progressui.DisplayMode(mode) }
}

// WithOutputs also exports every image as a tarball.
func WithOutputs(o ...Output) Option { return func(c *config) { c.outputs = append(c.outputs, o...) } }

// WithCacheTo exports the build cache.
func WithCacheTo(cs ...Cache) Option { return func(c *config) { c.cacheTo = append(c.cacheTo, cs...) } }

// WithCacheFrom imports a build cache.
func WithCacheFrom(cs ...Cache) Option {
	return func(c *config) { c.cacheFrom = append(c.cacheFrom, cs...) }
}

// WithDockerConfig gives BuildKit the registry credentials of the docker
// config directory dir (the one DOCKER_CONFIG names; "" means DOCKER_CONFIG,
// else ~/.docker), through BuildKit's auth provider: pushes, registry
// caches and base images pulled from a registry use them. Without it,
// Build reads the same default.
func WithDockerConfig(dir string) Option {
	return func(c *config) { c.dockerConfig = &configfile.ConfigFile{Filename: dir} }
}

// WithoutStore skips the export into the image store (graphs are still solved).
func WithoutStore() Option { return func(c *config) { c.noStore = true } }

// New returns a Builder.
//
//	b, err := build.New(bkClient, build.WithProgress(os.Stderr, "plain"))
func New(s Solver, opts ...Option) (*Builder, error) {
	c := config{progressOut: io.Discard, progressMode: progressui.QuietMode}
	for _, o := range opts {
		o(&c)
	}
	if err := CheckProgress(string(c.progressMode)); err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("no BuildKit client: start the engine with `inceptionctl engine start`")
	}
	dir := ""
	if c.dockerConfig != nil {
		dir = c.dockerConfig.Filename
	}
	if dir == "" {
		dir = dockerconfig.Dir()
	}
	cf, err := dockerconfig.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("registry credentials: read the docker config in %s: %w", dir, err)
	}
	c.dockerConfig = cf
	return &Builder{solver: s, cfg: c}, nil
}

// ImageReport is what one image's solve did.
type ImageReport struct {
	Service string `json:"service"`
	Ref     string `json:"ref"`
	Digest  string `json:"digest,omitempty"`
	// Pushed are the references pushed to a registry, comma-separated as
	// BuildKit's image.name; Descriptor is the pushed (or stored) manifest.
	Pushed     string              `json:"pushed,omitempty"`
	Descriptor *ocispec.Descriptor `json:"descriptor,omitempty"`
	// ConfigDigest is the digest of the image config.
	ConfigDigest string        `json:"config_digest,omitempty"`
	Vertices     int           `json:"vertices"` // graph vertices with inputs (the ones that can be cached)
	Cached       int           `json:"cached"`   // of which came from the cache
	Ran          []string      `json:"ran"`      // names of the vertices that ran
	Steps        []Step        `json:"steps,omitempty"`
	Duration     time.Duration `json:"duration"`
	// UpToDate: the image already held what the target would build (see
	// WithImageStore), so nothing was solved.
	UpToDate bool `json:"up_to_date,omitempty"`
}

// Step is one counted vertex of a solve, in the order it started: whether
// it came from the cache and how long it took, as the status stream says.
type Step struct {
	Name     string        `json:"name"`
	Cached   bool          `json:"cached"`
	Duration time.Duration `json:"duration"`
}

// AllCached reports whether no graph vertex ran.
func (r ImageReport) AllCached() bool { return r.Vertices > 0 && r.Cached == r.Vertices }

// Report is what a Build did.
type Report struct {
	Images   []ImageReport `json:"images"`
	Duration time.Duration `json:"duration"`
}

// CheckProgress says whether mode is a progress mode Builder knows.
func CheckProgress(mode string) error {
	switch progressui.DisplayMode(mode) {
	case progressui.AutoMode, progressui.TtyMode, progressui.PlainMode, progressui.RawJSONMode, progressui.QuietMode, progressui.DefaultMode:
		return nil
	}
	return fmt.Errorf("progress mode %q: use auto, tty, plain, rawjson or quiet", mode)
}

// Build solves every target in parallel under one progress display.
// Tarball outputs are written to a temporary name and renamed on success,
// so a failed build leaves no half-written file; the image store is only
// updated by BuildKit when a solve succeeds.
func (b *Builder) Build(ctx context.Context, targets []Target) (Report, error) {
	start := time.Now()
	storeCtx := ctx // the image store's calls keep the containerd namespace
	ctx = WithoutContainerdNamespace(ctx)
	if len(targets) == 0 {
		return Report{}, errors.New("nothing to build")
	}
	display, err := progressui.NewDisplay(b.cfg.progressOut, b.cfg.progressMode)
	if err != nil {
		return Report{}, fmt.Errorf("progress: %w", err)
	}
	merged := make(chan *client.SolveStatus)
	displayDone := make(chan struct{})
	go func() {
		defer close(displayDone)
		// The display reads until merged is closed; its error only says it
		// could not draw, which must not fail the build.
		_, _ = display.UpdateFrom(context.WithoutCancel(ctx), merged)
	}()

	reports := make([]ImageReport, len(targets))
	var fwd sync.WaitGroup
	eg, ectx := errgroup.WithContext(ctx)
	for i, t := range targets {
		eg.Go(func() error {
			r, err := b.buildOne(ectx, storeCtx, t, len(targets), merged, &fwd)
			reports[i] = r
			return err
		})
	}
	err = eg.Wait()
	fwd.Wait()
	close(merged)
	<-displayDone
	return Report{Images: reports, Duration: time.Since(start)}, err
}

func (b *Builder) buildOne(ctx, storeCtx context.Context, t Target, n int, merged chan<- *client.SolveStatus, fwd *sync.WaitGroup) (ImageReport, error) {
	rep := ImageReport{Service: t.Service, Ref: t.Ref}
	start := time.Now()
	key, err := b.buildKey(storeCtx, t)
	if err != nil {
		return rep, err
	}
	if img, ok, err := b.upToDate(storeCtx, t, key); err != nil {
		return rep, err
	} else if ok {
		rep, st := skipped(t, img, start)
		select {
		case merged <- st:
		case <-ctx.Done():
		}
		return rep, nil
	}
	opt, commit, err := b.solveOpt(t, n)
	if err != nil {
		return rep, err
	}
	defer func() { _ = commit(false) }()
	b.reproOpts(&opt)

	if t.Definition == nil && t.Frontend == "" {
		return rep, fmt.Errorf("build %s: target has no definition and no frontend", t.Service)
	}
	// A frontend makes its graph inside the daemon: every vertex the solve
	// reports is then the image's (inGraph stays nil).
	var inGraph map[digest.Digest]bool
	if t.Definition != nil {
		inGraph = make(map[digest.Digest]bool, len(t.Definition.Metadata))
		for d := range t.Definition.Metadata {
			inGraph[d] = true
		}
	}
	// In registry mode the key travels in the image config, where the
	// next build's check reads it back from the registry.
	cfg := t.Config
	if b.registryMode() {
		if cfg, err = withKeyLabel(t.Config, key); err != nil {
			return rep, fmt.Errorf("build %s: %w", t.Service, err)
		}
	}
	tap := newTap(inGraph)
	ch := make(chan *client.SolveStatus)
	drained := make(chan struct{})
	fwd.Add(1)
	go func() {
		defer fwd.Done()
		defer close(drained)
		for s := range ch {
			tap.add(s)
			merged <- s
		}
	}()

	resp, err := b.solver.Build(ctx, opt, "inception", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
		req := gateway.SolveRequest{Frontend: t.Frontend, FrontendOpt: t.FrontendAttrs}
		if t.Frontend == "" {
			req = gateway.SolveRequest{Definition: t.Definition.ToPB()}
		}
		// The solve's cache imports reach a frontend only; a graph solved
		// from here has to name them itself, or they are never read.
		for _, ci := range opt.CacheImports {
			req.CacheImports = append(req.CacheImports, gateway.CacheOptionsEntry{Type: ci.Type, Attrs: ci.Attrs})
		}
		res, err := c.Solve(ctx, req)
		if err != nil {
			return nil, err
		}
		if cfg != nil {
			res.AddMeta(exptypes.ExporterImageConfigKey, cfg)
			if base := baseConfig(ctx, c, cfg); base != nil {
				res.AddMeta(exptypes.ExporterImageBaseConfigKey, base)
			}
		}
		if err := b.runHooks(ctx, c, t, res); err != nil {
			return nil, err
		}
		return res, nil
	}, ch)
	rep.Duration = time.Since(start)
	// The solver closes ch on return (BuildKit's client does on every
	// path); the tap has every status once the forwarder has drained it.
	<-drained
	rep.Vertices, rep.Cached, rep.Ran, rep.Steps = tap.counts()
	if err != nil {
		if pushed := b.pushed(t.Service); pushed != "" && isPushError(err) {
			return rep, &PushError{Image: t.Service, Refs: pushed, Err: err}
		}
		if step, lines := tap.failed(); step != "" {
			return rep, &StepError{Image: t.Service, Step: step, Log: lines, Err: err}
		}
		return rep, fmt.Errorf("build %s: %w", t.Service, err)
	}
	if resp != nil {
		rep.Digest = resp.ExporterResponse[exptypes.ExporterImageDigestKey]
		rep.ConfigDigest = resp.ExporterResponse[exptypes.ExporterImageConfigDigestKey]
		rep.Descriptor = decodeDescriptor(resp.ExporterResponse[exptypes.ExporterImageDescriptorKey])
		rep.Pushed = b.pushed(t.Service)
	}
	if err := commit(true); err != nil {
		return rep, err
	}
	return rep, b.recordKey(storeCtx, t, key)
}

// baseConfig returns the config of the image cfg names as its base (the
// org.opencontainers.image.base.name label llbdefs sets), resolved as the
// graph resolves it (the image store first), or nil. Given to the exporter,
// it lets rewrite-timestamp leave the layers the image shares with its base
// as they are, as the Dockerfile frontend does: without it every image
// decompressed, rewrote and compressed the base layer again. A base that
// does not resolve costs that rewrite, nothing else.
func baseConfig(ctx context.Context, c gateway.Client, cfg []byte) []byte {
	var img struct {
		Config struct {
			Labels map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if json.Unmarshal(cfg, &img) != nil {
		return nil
	}
	ref := img.Config.Labels[ocispec.AnnotationBaseImageName]
	if ref == "" {
		return nil
	}
	_, _, dt, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}, ResolveMode: llb.ResolveModePreferLocal.String()},
	})
	if err != nil {
		return nil
	}
	return dt
}

// storeAttrs are the image exporter's attributes for the engine's image
// store. Its layers are kept uncompressed, as Podman and Buildah keep
// theirs: nothing downloads them, and compressing a layer, then
// decompressing it to rewrite its timestamps and compressing it again
// (rewrite-timestamp) took longer than building it (60-130 s per image on
// 2 cores). What leaves the machine (--output, --push, --cache-to) is
// compressed as usual.
func storeAttrs(ref string) map[string]string {
	return map[string]string{"name": ref, "compression": "uncompressed"}
}

// solveOpt returns the solve options for t and a commit function that, on
// success, renames staged tarballs into place and otherwise removes them.
func (b *Builder) solveOpt(t Target, n int) (client.SolveOpt, func(bool) error, error) {
	opt := client.SolveOpt{
		LocalMounts: t.LocalMounts,
		// Never nil: BuildKit's client copies the cache imports' frontend
		// attributes into a clone of this map, and a clone of nil is nil.
		FrontendAttrs: map[string]string{},
		Session: []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(b.cfg.dockerConfig),
		})},
	}
	if !b.cfg.noStore {
		opt.Exports = append(opt.Exports, client.ExportEntry{
			Type:  client.ExporterImage,
			Attrs: storeAttrs(t.Ref),
		})
	}
	type staged struct{ tmp, final string }
	var files []staged
	for _, o := range b.cfg.outputs {
		if o.Type == client.ExporterImage {
			attrs := maps.Clone(o.Attrs)
			attrs["name"] = o.names(t.Service)
			opt.Exports = append(opt.Exports, client.ExportEntry{Type: client.ExporterImage, Attrs: attrs})
			continue
		}
		final, err := o.path(t.Service, n)
		if err != nil {
			return opt, nil, err
		}
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return opt, nil, fmt.Errorf("%w: %w", ErrInvalidOutput, err)
		}
		tmp := final + ".partial"
		files = append(files, staged{tmp: tmp, final: final})
		opt.Exports = append(opt.Exports, client.ExportEntry{
			Type:  o.Type,
			Attrs: map[string]string{"name": t.Ref},
			Output: func(map[string]string) (io.WriteCloser, error) {
				return os.Create(tmp)
			},
		})
	}
	for _, c := range b.cfg.cacheTo {
		opt.CacheExports = append(opt.CacheExports, c.entry(t.Service))
	}
	for _, c := range b.cfg.cacheFrom {
		opt.CacheImports = append(opt.CacheImports, c.entry(t.Service))
	}
	done := false
	commit := func(ok bool) error {
		if done {
			return nil
		}
		done = true
		var errs []error
		for _, f := range files {
			if !ok {
				os.Remove(f.tmp)
				continue
			}
			if err := os.Rename(f.tmp, f.final); err != nil {
				errs = append(errs, fmt.Errorf("write %s: %w", f.final, err))
			}
		}
		return errors.Join(errs...)
	}
	return opt, commit, nil
}

// pushed is what service's image is pushed as ("" when nothing is pushed).
func (b *Builder) pushed(service string) string {
	var names []string
	for _, o := range b.cfg.outputs {
		if o.Push() {
			names = append(names, o.names(service))
		}
	}
	return strings.Join(names, ",")
}

// decodeDescriptor reads BuildKit's containerimage.descriptor: base64 of
// the descriptor's JSON.
func decodeDescriptor(s string) *ocispec.Descriptor {
	if s == "" {
		return nil
	}
	dt, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	var d ocispec.Descriptor
	if json.Unmarshal(dt, &d) != nil {
		return nil
	}
	return &d
}

// WithoutContainerdNamespace drops the containerd namespace header that
// namespaces.WithNamespace puts on outgoing gRPC calls. Sent to buildkitd,
// the header reaches its containerd worker as incoming metadata; containerd's
// client then believes the namespace is set and sends none, and containerd
// answers "namespace is required" when the image is named. Callers that
// share one context between containerd and BuildKit hit this easily.
func WithoutContainerdNamespace(ctx context.Context) context.Context {
	md, ok := metadata.FromOutgoingContext(ctx)
	if !ok || len(md.Get(namespaces.GRPCHeader)) == 0 {
		return ctx
	}
	md = md.Copy()
	md.Delete(namespaces.GRPCHeader)
	return metadata.NewOutgoingContext(ctx, md)
}

// tap follows one solve's status stream: which graph vertices ran or came
// from the cache, and the last log lines of each vertex for error messages.
type tap struct {
	mu      sync.Mutex
	inGraph map[digest.Digest]bool
	vertex  map[digest.Digest]*client.Vertex
	logs    map[digest.Digest][]string
}

func newTap(inGraph map[digest.Digest]bool) *tap {
	return &tap{inGraph: inGraph, vertex: map[digest.Digest]*client.Vertex{}, logs: map[digest.Digest][]string{}}
}

const logTail = 20

func (t *tap) add(s *client.SolveStatus) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, v := range s.Vertexes {
		t.vertex[v.Digest] = v
	}
	for _, l := range s.Logs {
		lines := append(t.logs[l.Vertex], strings.Split(strings.TrimRight(string(l.Data), "\n"), "\n")...)
		if len(lines) > logTail {
			lines = lines[len(lines)-logTail:]
		}
		t.logs[l.Vertex] = lines
	}
}

func (t *tap) counts() (total, cached int, ran []string, steps []Step) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var counted []*client.Vertex
	for d, v := range t.vertex {
		// Vertices with no inputs (image sources, files made on scratch)
		// are resolved, not cached: BuildKit reports them done, never
		// cached, and runs them only when a vertex that uses them misses
		// the cache, which then shows here as that vertex running.
		if t.inGraph != nil && !t.inGraph[d] || len(v.Inputs) == 0 {
			continue
		}
		counted = append(counted, v)
		total++
		if v.Cached {
			cached++
		} else {
			ran = append(ran, v.Name)
		}
	}
	sort.Strings(ran)
	sort.SliceStable(counted, func(i, j int) bool {
		a, b := counted[i].Started, counted[j].Started
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case !a.Equal(*b):
			return a.Before(*b)
		}
		return counted[i].Name < counted[j].Name
	})
	for _, v := range counted {
		s := Step{Name: v.Name, Cached: v.Cached}
		if v.Started != nil && v.Completed != nil {
			s.Duration = v.Completed.Sub(*v.Started)
		}
		steps = append(steps, s)
	}
	return total, cached, ran, steps
}

func (t *tap) failed() (string, []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var name string
	var lines []string
	for d, v := range t.vertex {
		if v.Error == "" || strings.Contains(v.Error, "context canceled") {
			continue
		}
		// Prefer a graph vertex (the step the user wrote) over exporters.
		if name == "" || t.inGraph[d] {
			name, lines = v.Name, t.logs[d]
		}
	}
	return name, lines
}

// Metadata is the --metadata-file of buildx for a Build, one entry per
// service: containerimage.digest, containerimage.config.digest,
// containerimage.descriptor and image.name, with the values BuildKit's
// image exporter answered. Images found up to date carry their digest.
func (r Report) Metadata() map[string]map[string]any {
	m := make(map[string]map[string]any, len(r.Images))
	for _, img := range r.Images {
		e := map[string]any{}
		if img.Digest != "" {
			e[exptypes.ExporterImageDigestKey] = img.Digest
		}
		if img.ConfigDigest != "" {
			e[exptypes.ExporterImageConfigDigestKey] = img.ConfigDigest
		}
		if img.Descriptor != nil {
			e[exptypes.ExporterImageDescriptorKey] = img.Descriptor
		}
		name := img.Ref
		if img.Pushed != "" {
			name = img.Pushed
		}
		e[exptypes.ExporterImageNameKey] = name
		m[img.Service] = e
	}
	return m
}

// WriteMetadata writes r.Metadata() as indented JSON to path, atomically.
func (r Report) WriteMetadata(path string) error {
	dt, err := json.MarshalIndent(r.Metadata(), "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".partial"
	if err := os.WriteFile(tmp, append(dt, '\n'), 0o644); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write metadata: %w", err)
	}
	return nil
}
