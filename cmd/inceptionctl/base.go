package main

import (
	"fmt"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/registry"
)

type baseOptions struct {
	mirror string
	suite  string
	force  bool
	push   string
}

func newBaseCmd(g *globalOptions) *cobra.Command {
	o := &baseOptions{}
	cmd := &cobra.Command{
		Use:   "base",
		Short: "Make the debian:bookworm base image with mmdebstrap and import it into the engine",
		Long: `Bootstraps a minimal Debian root filesystem with mmdebstrap from a Debian mirror
(default: the mirror the host's apt uses), turns it into a one-layer OCI image and
stores it as docker.io/library/debian:<suite> in the engine's containerd namespace,
where builds find it without a registry. An existing base is reused unless --force.
Only the engine's containerd is started: the base needs no buildkitd.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			push := ""
			if o.push != "" {
				ref, err := registry.CheckRef(o.push)
				if err != nil {
					return usagef("--push: %w", err)
				}
				push = ref
			}
			ctx, s, err := g.openContainerd(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := base.Ensure(ctx, s.cd.ContentStore(), s.cd.ImageService(),
				base.WithMirror(o.mirror), base.WithSuite(o.suite), base.WithForce(o.force),
				base.WithRef("docker.io/library/debian:"+o.suite),
				base.WithLog(cmd.ErrOrStderr()), base.WithTempDir(s.engine.Root()))
			if err != nil {
				return err
			}
			state := "reused"
			if res.Created {
				state = "created"
			}
			cmd.Printf("%s %s %s\n", res.Image.Name, res.Image.Target.Digest, state)
			if push == "" {
				return nil
			}
			r, err := registry.NewResolver(registry.WithCertsDir(s.engine.CertsDir()))
			if err != nil {
				return err
			}
			if err := s.cd.Push(ctx, push, res.Image.Target, containerd.WithResolver(r)); err != nil {
				return fmt.Errorf("push the base image to %s: %w (check the registry's address, the credentials in the docker config and, for a private CA, %s/HOST/ca.crt)",
					push, err, s.engine.CertsDir())
			}
			cmd.Printf("%s %s pushed\n", push, res.Image.Target.Digest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.mirror, "apt-mirror", "", "Debian mirror URL (default: the host's apt mirror for the suite)")
	f.StringVar(&o.suite, "suite", base.DefaultSuite, "Debian suite")
	f.BoolVar(&o.force, "force", false, "rebuild the base even when it exists")
	f.StringVar(&o.push, "push", "", "also push the base to this reference in a registry, e.g. registry.example.com/inception/debian:bookworm (then `build --base REF`)")
	return cmd
}
