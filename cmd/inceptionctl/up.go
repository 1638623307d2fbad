package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/registry"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

type upOptions struct {
	runtimeOptions
	detach      bool
	build       bool
	wait        bool
	waitTimeout time.Duration
	progress    string
	hosts       string
	registry    string
	distro      distroFlag
}

func newUpCmd(g *globalOptions) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up [SERVICE...]",
		Short: "Create and start the stack (or the named services and their dependencies)",
		Long: `Builds the images that are missing (all of them with --build), then creates and
starts the services in dependency order, waiting on each dependency's condition.
Running services whose configuration is unchanged are left alone; changed ones are
recreated, each new container checked first (created, never started) while the old
one runs: a new configuration that cannot start fails up and leaves the old one
running. Without -d, it then prints the services' logs until Ctrl-C, which stops
them.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUp(cmd, g, o, args)
		},
	}
	f := cmd.Flags()
	o.addFlags(f, g)
	f.BoolVarP(&o.detach, "detach", "d", false, "start in the background and return")
	f.BoolVar(&o.build, "build", false, "build the images before starting, even when they exist")
	f.BoolVar(&o.wait, "wait", false, "wait until the services are healthy (running, without a health check; a job others wait to complete: exited 0)")
	f.DurationVar(&o.waitTimeout, "wait-timeout", 0, "give up waiting after this long (0: no limit)")
	f.StringVar(&o.progress, "progress", "auto", "build progress output: auto, tty, plain, rawjson or quiet")
	f.StringVar(&o.registry, "registry", "", "run the images of this registry and namespace (REGISTRY/{service}:TAG), pulled first, instead of building (default: IMAGE_REGISTRY in the env file)")
	o.distro.add(f)
	f.StringVar(&o.hosts, "hosts", "", "also write the site's line into this hosts file (e.g. /etc/hosts), replacing an older line for the domain")
	return cmd
}

func runUp(cmd *cobra.Command, g *globalOptions, o *upOptions, args []string) error {
	st, err := o.stack()
	if err != nil {
		return err
	}
	if err := checkServices(st, args); err != nil {
		return err
	}
	if err := build.CheckProgress(o.progress); err != nil {
		return usagef("--progress: %w", err)
	}
	dopt, err := o.distro.option()
	if err != nil {
		return err
	}
	if o.waitTimeout < 0 {
		return usagef("--wait-timeout %v is negative", o.waitTimeout)
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.app != nil && o.hosts != "" {
		return usagef("--hosts writes the Inception site's line: not for a compose file")
	}
	if o.app != nil && o.registry != "" {
		return usagef("--registry runs the Inception stack's images from a registry: a compose file names its own (image:)")
	}
	reg := o.registry
	if reg == "" && o.app == nil {
		reg = o.env["IMAGE_REGISTRY"]
	}
	if reg != "" {
		if st, err = fromRegistry(st, reg, o.tag); err != nil {
			return err
		}
	}
	if o.app != nil {
		if err := makeBindDirs(o.app); err != nil {
			return err
		}
	} else {
		// Missing secrets are made once every input is known good, before
		// anything starts; values are never printed, only where they are.
		srep, err := o.cfg.EnsureSecrets()
		if err != nil {
			return err
		}
		if made := append(srep.Generated, srep.FromEnv...); len(made) > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "secrets: made %s in %s (mode 0600; random unless set in %s)\n",
				strings.Join(made, ", "), srep.Dir, o.envFile)
		}
	}
	ctx, s, rt, err := g.openRuntime(cmd.Context(), &o.runtimeOptions, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer s.Close()
	if reg != "" {
		// Every image is pulled before anything starts: a missing image
		// or an unreachable registry leaves nothing half-started.
		if err := pullImages(ctx, cmd, s, st); err != nil {
			return err
		}
	} else if err := buildMissing(ctx, cmd, s, rt, st, args, o, dopt); err != nil {
		return o.distro.explain(err)
	}
	start := time.Now()
	if err := rt.Up(ctx, st, runtime.UpOptions{Services: args, Wait: o.wait, Timeout: o.waitTimeout}); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: up in %v\n", st.Name, time.Since(start).Round(time.Millisecond))
	if o.cfg != nil {
		if err := announceSite(cmd, *o.cfg, o.hosts); err != nil {
			return err
		}
	}
	if o.detach {
		return nil
	}
	// Attached, like docker compose up: logs until Ctrl-C, then stop. A
	// log stream that fails is said at once; the services keep running
	// until Ctrl-C all the same, and the command then fails with it.
	lerr := rt.Logs(ctx, st.Name, runtime.LogsOptions{Services: args, Follow: true, Tail: 0,
		Color: isTerminal(stdoutFile(cmd)), Notices: cmd.ErrOrStderr()}, cmd.OutOrStdout())
	switch {
	case lerr == nil:
	case ctx.Err() != nil:
		lerr = nil // Ctrl-C while the stored lines were read
	default:
		lerr = fmt.Errorf("logs: %w (the services run on: see them with `inceptionctl logs -f`, stop them with Ctrl-C or `inceptionctl stop`)", lerr)
		fmt.Fprintln(cmd.ErrOrStderr(), lerr)
		<-ctx.Done()
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "stopping...")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	return errors.Join(lerr, rt.Stop(sctx, st.Name, args))
}

// fromRegistry is st with every service running REGISTRY/<service>:TAG,
// never built here.
func fromRegistry(st stack.Stack, reg, tag string) (stack.Stack, error) {
	svcs := make([]stack.Service, len(st.Services))
	for i, svc := range st.Services {
		ref, err := registry.CheckRef(strings.TrimSuffix(reg, "/") + "/" + svc.Name + ":" + tag)
		if err != nil {
			return st, usagef("--registry / IMAGE_REGISTRY %q: %w", reg, err)
		}
		svc.Image, svc.Build = ref, nil
		svcs[i] = svc
	}
	st.Services = svcs
	return st, nil
}

// pullImages pulls the image of every service of the stack (the runtime
// checks the whole stack before it starts any part of it), all before
// anything starts, so a missing image or an unreachable registry leaves
// nothing half-started.
func pullImages(ctx context.Context, cmd *cobra.Command, s *session, st stack.Stack) error {
	r, err := registry.NewResolver(registry.WithCertsDir(s.engine.CertsDir()))
	if err != nil {
		return err
	}
	for _, svc := range st.Services {
		img, err := registry.Pull(ctx, s.cd, r, svc.Image, "", cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s %s\n", svc.Name, img.Name, img.Target.Digest)
	}
	return nil
}

// buildMissing builds the images of the services up will start (with their
// dependencies) that are not in the store; all of them with --build.
func buildMissing(ctx context.Context, cmd *cobra.Command, s *session, rt *runtime.Runtime, st stack.Stack, args []string, o *upOptions, dopt llbdefs.Option) error {
	names, err := rt.Services(st, args)
	if err != nil {
		return err
	}
	var svcs []stack.Service
	for _, n := range names {
		sel, err := st.Select([]string{n})
		if err != nil {
			return err
		}
		svc := sel[0]
		if svc.Build == nil {
			continue // an image by reference only: the runtime says when it is missing
		}
		ref, err := stack.NormalizeImage(svc.Image)
		if err != nil {
			return usagef("%w", err)
		}
		if !o.build {
			if _, err := s.cd.GetImage(ctx, ref); err == nil {
				continue
			} else if !errdefs.IsNotFound(err) {
				return err
			}
		}
		svcs = append(svcs, svc)
	}
	if len(svcs) == 0 {
		return nil
	}
	targets, err := buildTargetsOf(ctx, svcs, dopt)
	if err != nil {
		return err
	}
	baseOpts := []base.Option{}
	if o.distro.alpine() {
		baseOpts = nil // from a registry, never made here
	}
	_, err = s.buildTargets(ctx, cmd.ErrOrStderr(), baseOpts, targets, build.WithProgress(cmd.ErrOrStderr(), o.progress))
	return err
}
