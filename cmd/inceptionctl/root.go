package main

import (
	"fmt"
	"os"

	"github.com/containerd/errdefs"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/stack"
)

// globalOptions are the flags every command shares: where the engine lives
// and which daemons to talk to.
type globalOptions struct {
	root              string
	runDir            string
	containerdAddress string
	buildkitAddress   string
	namespace         string
	buildkitdPath     string
	buildkitTLS       engine.BuildkitTLS
	project           string // -p; see projectName
}

// usageError marks errors caused by how the command was called (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

func newRootCmd() *cobra.Command {
	g := &globalOptions{}
	cmd := &cobra.Command{
		Use:           "inceptionctl",
		Short:         "Build and run the Inception stack with BuildKit and containerd, no Dockerfile, no Docker",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&g.root, "root", envOr("INCEPTION_ROOT", engine.DefaultRoot), "engine state directory (env INCEPTION_ROOT)")
	f.StringVar(&g.runDir, "run-dir", envOr("INCEPTION_RUN_DIR", engine.DefaultRunDir), "engine sockets and pid files (env INCEPTION_RUN_DIR)")
	f.StringVar(&g.containerdAddress, "containerd-address", os.Getenv("CONTAINERD_ADDRESS"), "use this containerd instead of the embedded one (env CONTAINERD_ADDRESS)")
	f.StringVar(&g.buildkitAddress, "buildkit-addr", os.Getenv("BUILDKIT_HOST"), "use this buildkitd instead of the embedded one: unix:///path, tcp://host:port, docker-container://NAME or kube-pod://POD (env BUILDKIT_HOST)")
	f.StringVar(&g.buildkitTLS.ServerName, "tlsservername", "", "buildkitd server name for certificate validation (tcp://)")
	f.StringVar(&g.buildkitTLS.CACert, "tlscacert", "", "CA certificate the buildkitd's certificate is checked against (tcp://)")
	f.StringVar(&g.buildkitTLS.Cert, "tlscert", "", "client certificate for mutual TLS with buildkitd (tcp://)")
	f.StringVar(&g.buildkitTLS.Key, "tlskey", "", "client key for mutual TLS with buildkitd (tcp://)")
	f.StringVar(&g.buildkitTLS.Dir, "tlsdir", "", "directory with ca.pem, cert.pem and key.pem (or ca.crt, tls.crt and tls.key) for buildkitd (tcp://)")
	f.StringVar(&g.namespace, "namespace", envOr("CONTAINERD_NAMESPACE", engine.DefaultNamespace), "containerd namespace shared by builds and containers")
	f.StringVarP(&g.project, "project-name", "p", "", "project name: names the stack's containers, network and state, so projects never share them (env COMPOSE_PROJECT_NAME; default "+stack.DefaultProjectName+")")
	f.StringVar(&g.buildkitdPath, "buildkitd", os.Getenv("INCEPTION_BUILDKITD"), "buildkitd binary for the embedded engine (default: next to inceptionctl, then PATH)")

	cmd.AddCommand(
		newEngineCmd(g),
		newBaseCmd(g),
		newBuildCmd(g), newSbomCmd(g), newReproCmd(g),
		newDockerfileCmd(g), newExportCmd(g), newBenchCmd(g),
		newUpCmd(g), newDownCmd(g), newPsCmd(g), newLogsCmd(g), newExecCmd(g),
		newStopCmd(g), newStartCmd(g), newRestartCmd(g), newConfigCmd(g),
	)
	markUsageErrors(cmd)
	return cmd
}

// markUsageErrors makes argument-count errors of every command usage errors
// (exit code 2), like flag errors.
func markUsageErrors(cmd *cobra.Command) {
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &usageError{err: err}
			}
			return nil
		}
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	for _, sub := range cmd.Commands() {
		markUsageErrors(sub)
	}
}

// projectName is the stack's project name, as docker compose picks it:
// -p, else COMPOSE_PROJECT_NAME, else fromFile (a compose file's name:,
// "" when there is none), else the default.
func (g *globalOptions) projectName(fromFile string) (string, error) {
	name, from := g.project, "-p"
	for _, c := range []struct{ v, from string }{
		{os.Getenv("COMPOSE_PROJECT_NAME"), "COMPOSE_PROJECT_NAME"},
		{fromFile, "the compose file's name"},
		{stack.DefaultProjectName, ""},
	} {
		if name == "" {
			name, from = c.v, c.from
		}
	}
	if err := stack.ValidateProjectName(name); err != nil {
		return "", usagef("%s: %w", from, err)
	}
	return name, nil
}

// engine returns the engine the global flags describe.
func (g *globalOptions) engine() (*engine.Engine, error) {
	e, err := engine.New(
		engine.WithRoot(g.root),
		engine.WithRunDir(g.runDir),
		engine.WithNamespace(g.namespace),
		engine.WithContainerdAddress(g.containerdAddress),
		engine.WithBuildkitAddress(g.buildkitAddress),
		engine.WithBuildkitdPath(g.buildkitdPath),
		engine.WithBuildkitTLS(g.buildkitTLS),
	)
	if errdefs.IsInvalidArgument(err) {
		return nil, usagef("%w", err)
	}
	return e, err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
