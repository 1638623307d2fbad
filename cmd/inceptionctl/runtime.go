package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/containerd/console"
	"github.com/containerd/errdefs"
	"github.com/moby/buildkit/client"
	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// runtimeOptions are the flags of the commands that run the stack.
// Empty data-dir, secrets-dir and host-ip mean: as the .env file says.
type runtimeOptions struct {
	envFile    string
	dataDir    string
	secretsDir string
	hostIP     string
	subnet     string
	tag        string

	cfg    *stack.Config // loaded by stack()
	loaded stack.Stack
}

func (o *runtimeOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.envFile, "env-file", envOr("INCEPTION_ENV_FILE", ".env"), "the stack's configuration (KEY=value lines; see .env.example)")
	f.StringVar(&o.dataDir, "data-dir", os.Getenv("INCEPTION_DATA_DIR"), "where named volumes live (default: DATA_DIR in the env file, else /home/<login>/data)")
	f.StringVar(&o.secretsDir, "secrets-dir", os.Getenv("INCEPTION_SECRETS_DIR"), "where secret files are (default: SECRETS_DIR in the env file, else ./secrets)")
	f.StringVar(&o.hostIP, "host-ip", os.Getenv("INCEPTION_HOST_IP"), "host address published ports bind to (default: HOST_IP in the env file, else 0.0.0.0)")
	f.StringVar(&o.subnet, "subnet", envOr("INCEPTION_SUBNET", runtime.DefaultSubnet), "IPv4 subnet of the stack network")
	f.StringVar(&o.tag, "tag", "bookworm", "image tag (never latest)")
}

// stack loads the env file once and returns the configured Inception stack.
// Flags given on the command line win over the file.
func (o *runtimeOptions) stack() (stack.Stack, error) {
	if o.cfg != nil {
		return o.loaded, nil
	}
	env, err := stack.ParseEnvFile(o.envFile)
	if err != nil {
		return stack.Stack{}, usagef("%w", err)
	}
	for key, v := range map[string]string{"DATA_DIR": o.dataDir, "SECRETS_DIR": o.secretsDir, "HOST_IP": o.hostIP} {
		if v != "" {
			env[key] = v
		}
	}
	cfg, err := stack.NewConfig(env)
	if err != nil {
		return stack.Stack{}, usagef("%w (edit %s, see .env.example)", err, o.envFile)
	}
	st, err := stack.Inception(cfg)
	if err != nil {
		return stack.Stack{}, err
	}
	o.cfg, o.loaded = &cfg, st
	o.dataDir, o.secretsDir, o.hostIP = cfg.DataDir, cfg.SecretsDir, cfg.HostIP
	return st, nil
}

// checkServices refuses unknown service names before any daemon is asked.
func checkServices(st stack.Stack, names []string) error {
	if _, err := st.Select(names); err != nil {
		return usagef("%w", err)
	}
	return nil
}

// check refuses bad flag values before any daemon is asked.
func (o *runtimeOptions) check() error {
	if _, err := o.stack(); err != nil {
		return err
	}
	if _, err := stack.ImageRef("x", o.tag); err != nil {
		return usagef("--tag: %w", err)
	}
	if ip := net.ParseIP(o.hostIP); ip == nil || ip.To4() == nil {
		return usagef("--host-ip %q: give an IPv4 address such as 127.0.0.1", o.hostIP)
	}
	if _, err := runtime.NewNetwork("check", runtime.WithSubnet(o.subnet)); err != nil {
		return usagef("--subnet: %w", err)
	}
	return nil
}

// openRuntime starts the engine when needed and returns a runtime on it.
func (g *globalOptions) openRuntime(ctx context.Context, o *runtimeOptions, log io.Writer) (context.Context, *session, *runtime.Runtime, error) {
	if err := o.check(); err != nil {
		return ctx, nil, nil, err
	}
	ctx, s, err := g.open(ctx)
	if err != nil {
		return ctx, nil, nil, err
	}
	e := s.engine
	rt, err := runtime.New(s.cd,
		runtime.WithRoot(e.Root()),
		runtime.WithRunDir(e.RunDir()),
		runtime.WithContainerd(e.ContainerdAddress(), e.Namespace()),
		runtime.WithDataDir(o.dataDir),
		runtime.WithSecretsDir(o.secretsDir),
		runtime.WithHostIP(o.hostIP),
		runtime.WithNetworkSubnet(o.subnet),
		runtime.WithTag(o.tag),
		runtime.WithProgress(log),
	)
	if err != nil {
		s.Close()
		if errdefs.IsInvalidArgument(err) {
			return ctx, nil, nil, usagef("%w", err)
		}
		return ctx, nil, nil, err
	}
	return ctx, s, rt, nil
}

// buildTargets makes the base image when missing, then builds targets on
// the engine's buildkitd: the one path build and up --build share.
func (s *session) buildTargets(ctx context.Context, log io.Writer, baseOpts []base.Option, targets []build.Target, opts ...build.Option) (build.Report, error) {
	if err := s.ensureBase(ctx, log, baseOpts...); err != nil {
		return build.Report{}, err
	}
	bk, err := client.New(ctx, s.engine.BuildkitAddress())
	if err != nil {
		return build.Report{}, fmt.Errorf("connect to buildkitd at %s: %w", s.engine.BuildkitAddress(), err)
	}
	defer bk.Close()
	// The image store first: an image already built from the same graph,
	// config and base is not solved again.
	// Every image is dated by the base image's epoch unless the caller says
	// otherwise: the same inputs give the same digest.
	b, err := build.New(bk, append([]build.Option{build.WithImageStore(s.cd.ImageService()),
		build.WithSourceDateEpoch(time.Unix(base.DefaultSourceDateEpoch, 0))}, opts...)...)
	if err != nil {
		return build.Report{}, usagef("%w", err)
	}
	return b.Build(ctx, targets)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := console.ConsoleFromFile(f)
	return err == nil
}
