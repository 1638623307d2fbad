package compose

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// EnvFile is the variable that names compose files when no file is given,
// separated by ':' (COMPOSE_PATH_SEPARATOR changes it), as docker compose
// reads it.
const EnvFile = "COMPOSE_FILE"

type config struct {
	files    []string
	name     string
	workDir  string
	env      []string
	envFiles []string
}

// Option configures Load.
type Option func(*config)

// WithFiles names the compose files, merged in order as docker compose
// merges them (-f a.yaml -f b.yaml). Without files, COMPOSE_FILE is read.
func WithFiles(files ...string) Option {
	return func(c *config) { c.files = append(c.files, files...) }
}

// WithProjectName sets the project name (-p), which wins over
// COMPOSE_PROJECT_NAME, the files' name: and the directory name.
func WithProjectName(name string) Option { return func(c *config) { c.name = name } }

// WithProjectDirectory sets the directory relative paths, .env and the
// default project name are taken from; by default the first file's.
func WithProjectDirectory(dir string) Option { return func(c *config) { c.workDir = dir } }

// WithEnvironment replaces the process environment (KEY=value strings) as
// the source of interpolated variables, COMPOSE_FILE and
// COMPOSE_PROJECT_NAME. Tests use it; the CLI keeps os.Environ.
func WithEnvironment(env []string) Option { return func(c *config) { c.env = env } }

// WithEnvFiles replaces the project directory's .env file as the source of
// interpolated variables (--env-file).
func WithEnvFiles(files ...string) Option {
	return func(c *config) { c.envFiles = append(c.envFiles, files...) }
}

// Requested reports whether the environment names compose files, so that a
// command without -f runs them instead of the Inception stack.
func Requested(env []string) bool {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == EnvFile && v != "" {
			return true
		}
	}
	return false
}

// Load reads, merges and interpolates the compose files into a project,
// checks it against the compose schema and then against what the runtime
// supports: every key it cannot honour is reported at once, by service.
//
//	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml", "compose.prod.yaml"))
func Load(ctx context.Context, opts ...Option) (*types.Project, error) {
	c := config{env: os.Environ()}
	for _, o := range opts {
		o(&c)
	}
	po, err := cli.NewProjectOptions(c.files,
		cli.WithWorkingDirectory(c.workDir),
		cli.WithEnv(c.env),
		cli.WithConfigFileEnv,
		cli.WithEnvFiles(c.envFiles...),
		cli.WithDotEnv,
		cli.WithName(c.name),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(po.ConfigPaths) == 0 {
		return nil, fmt.Errorf("%w: name one with -f FILE (repeatable) or COMPOSE_FILE", ErrNoFile)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if err := CheckSupported(p); err != nil {
		return nil, err
	}
	return p, nil
}
