package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// distroFlag is --distro: which distribution the images are built on.
type distroFlag struct {
	name string
	// noBase: the command has no --base, so the error does not offer it.
	noBase bool
}

func (d *distroFlag) add(f *pflag.FlagSet) {
	f.StringVar(&d.name, "distro", "debian", "distribution of the images: debian (bookworm, the default) or alpine (3.23, needs a registry that serves docker.io/library/alpine)")
}

// option is the graph option for the flag, or a usage error.
func (d *distroFlag) option() (llbdefs.Option, error) {
	switch d.name {
	case "debian", "":
		return llbdefs.WithDistro(llbdefs.Debian()), nil
	case "alpine":
		return llbdefs.WithDistro(llbdefs.Alpine()), nil
	}
	return nil, usagef("--distro %q: use debian or alpine", d.name)
}

func (d *distroFlag) alpine() bool { return d.name == "alpine" }

// explain says, for an Alpine build whose base could not be fetched, why:
// the Alpine base comes from a registry, never from this machine.
func (d *distroFlag) explain(err error) error {
	if err == nil || !d.alpine() {
		return err
	}
	if strings.Contains(err.Error(), "alpine") {
		instead := "build with --distro debian, or from a mirror with --base REG/NS/alpine:3.23"
		if d.noBase {
			instead = "use --distro debian on a machine that reaches no registry"
		}
		return fmt.Errorf("the Alpine base image %s could not be pulled: Alpine images start from a registry (no local base is made for them) and this machine reaches none that serves it; %s: %w", llbdefs.AlpineRef, instead, err)
	}
	return err
}
