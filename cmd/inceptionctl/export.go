package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/export"
	"github.com/inceptionctl/inception/pkg/stack"
)

type exportOptions struct {
	envFile string
	dataDir string
	tag     string
}

// newExportCmd is `inceptionctl export`: the stack in other tools' forms.
func newExportCmd(_ *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the stack in other tools' forms (compose)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usagef("export: name a form: inceptionctl export compose DIR")
		},
	}
	cmd.AddCommand(newExportComposeCmd())
	return cmd
}

// newExportComposeCmd is `inceptionctl export compose DIR`.
func newExportComposeCmd() *cobra.Command {
	o := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "compose DIR",
		Short: "Write the Inception subject's layout: Makefile, srcs/docker-compose.yml, srcs/.env, Dockerfiles",
		Long: `Writes into DIR (new or empty) the layout the Inception subject asks for, from
the same Go definitions inceptionctl builds and runs:

  DIR/Makefile                       make: secrets, data directories, docker compose up
  DIR/srcs/docker-compose.yml        services, secrets, volumes, ports, network
  DIR/srcs/.env                      the settings of the env file, no password
  DIR/srcs/requirements/<service>/   Dockerfile, conf/, tools/

The Dockerfiles are in the dialect Debian 12's docker.io (Docker 20.10, with
BuildKit) builds. Passwords are never written: the compose file names secret
files in DIR/secrets, which the Makefile fills with random values when
missing. Run it with: cd DIR && make (or docker compose -f srcs/docker-compose.yml
up -d --build). Needs no engine.`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := stack.ParseEnvFile(o.envFile)
			if err != nil {
				return usagef("%w", err)
			}
			if o.dataDir != "" {
				env["DATA_DIR"] = o.dataDir
			}
			cfg, err := stack.NewConfig(env)
			if err != nil {
				return usagef("%w (edit %s, see .env.example)", err, o.envFile)
			}
			tree, err := export.Compose(cmd.Context(), cfg, export.WithTag(o.tag))
			if errors.Is(err, export.ErrTag) {
				return usagef("%w", err)
			}
			if err != nil {
				return err
			}
			if err := tree.Write(args[0]); err != nil {
				if errors.Is(err, export.ErrNotEmpty) {
					return usagef("%w", err)
				}
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: run it with `make -C %s` (docker compose v2)\n", args[0], args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.envFile, "env-file", envOr("INCEPTION_ENV_FILE", ".env"), "the stack's configuration (KEY=value lines; see .env.example)")
	f.StringVar(&o.dataDir, "data-dir", os.Getenv("INCEPTION_DATA_DIR"), "where named volumes live (default: DATA_DIR in the env file, else /home/<login>/data)")
	f.StringVar(&o.tag, "tag", export.DefaultImageTag, "image tag of the services (never latest)")
	return cmd
}
