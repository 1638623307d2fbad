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
	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/registry"
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
	composeOptions

	g      *globalOptions    // the project name
	cfg    *stack.Config     // loaded by stack() for the Inception stack
	env    map[string]string // the env file's keys, loaded by stack() for the Inception stack
	loaded *stack.Stack
	flags  *pflag.FlagSet
}

func (o *runtimeOptions) addFlags(f *pflag.FlagSet, g *globalOptions) {
	o.g = g
	f.StringVar(&o.envFile, "env-file", envOr("INCEPTION_ENV_FILE", ".env"), "the stack's configuration (KEY=value lines; see .env.example)")
	f.StringVar(&o.dataDir, "data-dir", os.Getenv("INCEPTION_DATA_DIR"), "where named volumes live (default: DATA_DIR in the env file, else /home/<login>/data)")
	f.StringVar(&o.secretsDir, "secrets-dir", os.Getenv("INCEPTION_SECRETS_DIR"), "where secret files are (default: SECRETS_DIR in the env file, else ./secrets)")
	f.StringVar(&o.hostIP, "host-ip", os.Getenv("INCEPTION_HOST_IP"), "host address published ports bind to (default: HOST_IP in the env file, else 0.0.0.0)")
	f.StringVar(&o.subnet, "subnet", os.Getenv("INCEPTION_SUBNET"), "IPv4 subnet of the stack network (default: "+runtime.DefaultSubnet+" for the project inception, a /24 of 10.90.0.0/16 drawn from any other project name)")
	f.StringVar(&o.tag, "tag", "bookworm", "image tag (never latest)")
	o.addComposeFlags(f)
	o.flags = f
}

// stack loads the env file once and returns the configured Inception stack,
// or the compose files' stack with -f or COMPOSE_FILE. Flags given on the
// command line win over the files.
func (o *runtimeOptions) stack() (stack.Stack, error) {
	if o.loaded != nil {
		return *o.loaded, nil
	}
	if o.composeMode() {
		if o.flags != nil && o.flags.Changed("env-file") {
			o.composeOptions.envFile = o.envFile
		}
		if o.flags != nil && o.flags.Changed("tag") {
			return stack.Stack{}, usagef("--tag names the Inception stack's images: a compose file names its own (image:)")
		}
		// compose-go uses the context for remote files only, which are
		// not enabled here.
		st, err := o.composeStack(context.Background(), o.flags != nil && o.flags.Changed("subnet"))
		if err != nil {
			return stack.Stack{}, err
		}
		o.loaded = &st
		return st, nil
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
	if st, err = st.Retag(o.tag); err != nil {
		return stack.Stack{}, usagef("--tag: %w", err)
	}
	if st.Name, err = o.g.projectName(""); err != nil {
		return stack.Stack{}, err
	}
	o.cfg, o.loaded, o.env = &cfg, &st, env
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
	if o.subnet != "" {
		if _, err := runtime.NewNetwork("check", runtime.WithSubnet(o.subnet)); err != nil {
			return usagef("--subnet: %w", err)
		}
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
//
// A nil baseOpts means the graphs start from a base in a registry (build
// --base): no local base is made. A builder that does not share the
// engine's image store (an OCI worker, a pod) builds for a registry only:
// the store export is left out, and pushing is then required.
func (s *session) buildTargets(ctx context.Context, log io.Writer, baseOpts []base.Option, targets []build.Target, opts ...build.Option) (build.Report, error) {
	bk, err := s.engine.BuildkitClient(ctx)
	if err != nil {
		return build.Report{}, err
	}
	defer bk.Close()
	shares, err := s.engine.SharesStore(ctx, bk)
	if err != nil {
		return build.Report{}, err
	}
	if baseOpts != nil && !shares {
		return build.Report{}, fmt.Errorf("the buildkitd at %s does not share this engine's image store, so it cannot see the local base image nor store what it builds: build from a base in a registry with `build --base REF` (see `base --push REF`) and push with --push or -o type=registry", s.engine.BuildkitAddress())
	}
	if baseOpts != nil {
		if err := s.ensureBase(ctx, log, baseOpts...); err != nil {
			return build.Report{}, err
		}
	}
	// The image store first: an image already built from the same graph,
	// config and base is not solved again.
	// Every image is dated by the base image's epoch unless the caller says
	// otherwise: the same inputs give the same digest.
	first := []build.Option{build.WithImageStore(s.cd.ImageService())}
	if !shares {
		// Up to date then means: the registry holds images built from the
		// same graph, config and base.
		r, err := registry.NewResolver(registry.WithCertsDir(s.engine.CertsDir()))
		if err != nil {
			return build.Report{}, err
		}
		first = []build.Option{build.WithoutStore(), build.WithRegistryCheck(r)}
	}
	first = append(first, build.WithSourceDateEpoch(time.Unix(base.DefaultSourceDateEpoch, 0)))
	b, err := build.New(bk, append(first, opts...)...)
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
