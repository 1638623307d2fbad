package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/compose"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// composeOptions are the flags that run compose files instead of the
// Inception stack: -f (repeatable) or COMPOSE_FILE. The project name is the
// global -p.
type composeOptions struct {
	files []string
	// envFile, when set by the user, replaces the project's .env for
	// interpolation (compose's --env-file).
	envFile string

	project *types.Project
	app     *compose.App
}

// addComposeFlags adds --file (-f unless the command uses -f already, as
// logs does for --follow).
func (c *composeOptions) addComposeFlags(f *pflag.FlagSet) {
	short := "f"
	if f.ShorthandLookup(short) != nil {
		short = ""
	}
	f.StringArrayVarP(&c.files, "file", short, nil, "run this compose file instead of the Inception stack (repeatable, merged in order; env COMPOSE_FILE)")
}

// composeMode reports whether the command runs compose files.
func (c *composeOptions) composeMode() bool {
	return len(c.files) > 0 || compose.Requested(os.Environ())
}

// loadCompose loads and converts the compose files once. The project name
// is project (-p), else COMPOSE_PROJECT_NAME, the files' name: or their
// directory, as compose-go picks it. Every problem with the files is a
// usage error: nothing is asked of a daemon.
func (c *composeOptions) loadCompose(ctx context.Context, project string) (*compose.App, error) {
	if c.app != nil {
		return c.app, nil
	}
	if project != "" {
		if err := stack.ValidateProjectName(project); err != nil {
			return nil, usagef("-p: %w", err)
		}
	}
	opts := []compose.Option{compose.WithFiles(c.files...), compose.WithProjectName(project)}
	if c.envFile != "" {
		opts = append(opts, compose.WithEnvFiles(c.envFile))
	}
	p, err := compose.Load(ctx, opts...)
	if err != nil {
		return nil, usagef("%w", err)
	}
	app, err := compose.Convert(p)
	if err != nil {
		return nil, usagef("%w", err)
	}
	if err := stack.ValidateProjectName(app.Stack.Name); err != nil {
		return nil, usagef("project name: %w", err)
	}
	c.project, c.app = p, &app
	return c.app, nil
}

// composeStack loads the compose files for a runtime command and sets the
// runtime's defaults that the files decide: the subnet (unless --subnet),
// the data dir and host address (unless given: not the Inception .env's).
func (o *runtimeOptions) composeStack(ctx context.Context, subnetSet bool) (stack.Stack, error) {
	app, err := o.loadCompose(ctx, o.g.project)
	if err != nil {
		return stack.Stack{}, err
	}
	if app.Subnet != "" && !subnetSet {
		o.subnet = app.Subnet
	}
	if o.dataDir == "" {
		o.dataDir = runtime.DefaultDataDir()
	}
	if o.hostIP == "" {
		o.hostIP = runtime.DefaultHostIP
	}
	if o.secretsDir == "" {
		o.secretsDir = "secrets" // compose secrets name their own files
	}
	return app.Stack, nil
}

// makeBindDirs creates the missing sources of short-syntax binds, as docker
// compose does.
func makeBindDirs(app *compose.App) error {
	for _, d := range app.BindDirs {
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("bind source %s: %w", d, err)
			}
		}
	}
	return nil
}

// buildTargetsOf returns the build targets of svcs: Go recipes for the
// services that name one, BuildKit's Dockerfile frontend for compose
// builds. Services without a build are left out.
func buildTargetsOf(ctx context.Context, svcs []stack.Service, graphOpts ...llbdefs.Option) ([]build.Target, error) {
	var recipes, dockerfiles []stack.Service
	for _, s := range svcs {
		switch {
		case s.Build == nil:
		case s.Build.Context != "":
			dockerfiles = append(dockerfiles, s)
		default:
			recipes = append(recipes, s)
		}
	}
	out, err := build.Targets(ctx, recipes, llbdefs.Recipes(), graphOpts...)
	if err != nil {
		return nil, err
	}
	df, err := compose.Targets(dockerfiles)
	if err != nil {
		return nil, err
	}
	return append(out, df...), nil
}
