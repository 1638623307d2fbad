package main

import (
	"context"
	"fmt"
	"io"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/engine"
)

// session is a started engine with a containerd client in its namespace.
type session struct {
	engine *engine.Engine
	cd     *containerd.Client
}

// open starts the engine when needed and connects to its containerd.
// The returned context carries the engine's namespace.
func (g *globalOptions) open(ctx context.Context) (context.Context, *session, error) {
	return g.openWith(ctx, (*engine.Engine).Ensure)
}

// openContainerd is open for commands that need containerd only: buildkitd
// is neither started nor required.
func (g *globalOptions) openContainerd(ctx context.Context) (context.Context, *session, error) {
	return g.openWith(ctx, (*engine.Engine).EnsureContainerd)
}

func (g *globalOptions) openWith(ctx context.Context, ensure func(*engine.Engine, context.Context) error) (context.Context, *session, error) {
	e, err := g.engine()
	if err != nil {
		return ctx, nil, err
	}
	if err := ensure(e, ctx); err != nil {
		return ctx, nil, err
	}
	cd, err := containerd.New(e.ContainerdAddress(), containerd.WithDefaultNamespace(e.Namespace()))
	if err != nil {
		return ctx, nil, fmt.Errorf("connect to containerd at %s: %w", e.ContainerdAddress(), err)
	}
	return namespaces.WithNamespace(ctx, e.Namespace()), &session{engine: e, cd: cd}, nil
}

func (s *session) Close() error { return s.cd.Close() }

// ensureBase makes the Debian base image in the engine's store when missing.
func (s *session) ensureBase(ctx context.Context, log io.Writer, opts ...base.Option) error {
	opts = append([]base.Option{base.WithLog(log), base.WithTempDir(s.engine.Root())}, opts...)
	res, err := base.Ensure(ctx, s.cd.ContentStore(), s.cd.ImageService(), opts...)
	if err != nil {
		return fmt.Errorf("base image: %w", err)
	}
	if res.Created {
		fmt.Fprintf(log, "base image %s: %s\n", res.Image.Name, res.Image.Target.Digest)
	}
	return nil
}
