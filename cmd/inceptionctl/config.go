package main

import (
	"github.com/spf13/cobra"
)

type configOptions struct {
	composeOptions
	format string
}

func newConfigCmd() *cobra.Command {
	o := &configOptions{}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the compose files' resolved model: merged, interpolated, paths made absolute",
		Long: `Loads the compose files (-f, repeatable, or COMPOSE_FILE) as up does, merged in order
and interpolated from the environment and the project's .env file, checks them
against what the runtime supports, and prints the resolved model, as docker
compose config does. A key the runtime does not support is an error.`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "yaml" && o.format != "json" {
				return usagef("--format %q: use yaml or json", o.format)
			}
			if !o.composeMode() {
				return usagef("config prints a compose file's model: name one with -f FILE or COMPOSE_FILE")
			}
			if _, err := o.loadCompose(cmd.Context()); err != nil {
				return err
			}
			var out []byte
			var err error
			if o.format == "json" {
				out, err = o.project.MarshalJSON()
			} else {
				out, err = o.project.MarshalYAML()
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f := cmd.Flags()
	o.addComposeFlags(f)
	f.StringVar(&o.envFile, "env-file", "", "read interpolated variables from this file instead of the project's .env")
	f.StringVar(&o.format, "format", "yaml", "output format: yaml or json")
	return cmd
}
