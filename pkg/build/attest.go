package build

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
)

// ResultHook runs in the build function once a target's graph is solved
// and its image config set, before the result goes to the exporters: it
// may add metadata or attestations (an SBOM) to res.
type ResultHook func(ctx context.Context, c gateway.Client, t Target, res *gateway.Result) error

// WithResultHook runs h on every target's result.
func WithResultHook(h ResultHook) Option {
	return func(c *config) { c.hooks = append(c.hooks, h) }
}

// WithSourceDateEpoch makes every export reproducible at time t: the image
// config's and layers' timestamps become t at the latest (BuildKit's
// rewrite-timestamp), and the frontend sees SOURCE_DATE_EPOCH.
func WithSourceDateEpoch(t time.Time) Option {
	return func(c *config) { c.epoch = &t }
}

// WithProvenance attaches BuildKit's SLSA provenance attestation in the
// given mode ("min" or "max") to every export.
func WithProvenance(mode string) Option {
	return func(c *config) { c.provenance = mode }
}

// reproOpts adds the epoch and the provenance request to opt.
func (b *Builder) reproOpts(opt *client.SolveOpt) {
	if b.cfg.epoch == nil && b.cfg.provenance == "" {
		return
	}
	if opt.FrontendAttrs == nil {
		opt.FrontendAttrs = map[string]string{}
	}
	if b.cfg.provenance != "" {
		opt.FrontendAttrs["attest:provenance"] = "mode=" + b.cfg.provenance
	}
	if b.cfg.epoch == nil {
		return
	}
	sec := strconv.FormatInt(b.cfg.epoch.Unix(), 10)
	opt.FrontendAttrs["build-arg:SOURCE_DATE_EPOCH"] = sec
	for i, e := range opt.Exports {
		attrs := make(map[string]string, len(e.Attrs)+2)
		for k, v := range e.Attrs {
			attrs[k] = v
		}
		attrs["source-date-epoch"] = sec
		attrs["rewrite-timestamp"] = "true"
		opt.Exports[i].Attrs = attrs
	}
}

// runHooks runs the result hooks on res.
func (b *Builder) runHooks(ctx context.Context, c gateway.Client, t Target, res *gateway.Result) error {
	for _, h := range b.cfg.hooks {
		if err := h(ctx, c, t, res); err != nil {
			return err
		}
	}
	return nil
}

// reproKey is what the epoch, provenance and hooks add to a build key:
// nothing when none is set, so keys stay as they were.
func (b *Builder) reproKey() string {
	if b.cfg.epoch == nil && b.cfg.provenance == "" && len(b.cfg.hooks) == 0 {
		return ""
	}
	var sec int64 = -1
	if b.cfg.epoch != nil {
		sec = b.cfg.epoch.Unix()
	}
	return fmt.Sprintf("epoch=%d provenance=%s hooks=%d", sec, b.cfg.provenance, len(b.cfg.hooks))
}

// Path is where the tarball of image service goes when n images are built.
func (o Output) Path(service string, n int) (string, error) { return o.path(service, n) }
