// Package llbdefs turns each service of the Inception stack into an Image: a
// BuildKit LLB graph of its root filesystem plus its OCI image config. It is
// pure graph code: no I/O, no clients. Callers marshal at the edge and hand
// the definition and the config to a solver (pkg/build).
//
// Every image starts from a Distro (Debian bookworm by default, Alpine 3.23
// as an option), installs its packages in one linear chain of layers, and
// gets its config files and scripts, embedded from files/, in a layer of
// their own joined with llb.Merge: changing a config file rebuilds that
// layer only, never the package install. Shared steps live in base.go, one
// image per file (nginx.go, ...).
//
// Usage:
//
//	img, err := llbdefs.Nginx() // or llbdefs.Nginx(llbdefs.WithDistro(llbdefs.Alpine()))
//	if err != nil {
//		return err
//	}
//	def, err := img.Marshal(ctx)
//	if err != nil {
//		return err
//	}
//	cfg, err := img.ConfigJSON() // res.AddMeta("containerimage.config", cfg) in a gateway build
//	if err != nil {
//		return err
//	}
//	res, err := gw.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
package llbdefs
