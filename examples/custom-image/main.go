// Command custom-image composes an image from pkg/llbdefs building blocks:
// the project's Debian base, a package install, and a file layer joined with
// llb.Merge so editing the page never re-runs apt. It writes the marshalled
// LLB definition to stdout (the format `buildctl build` and `buildctl debug
// dump-llb` read), or, with -build, builds it on the embedded engine as
// docker.io/library/hello:example.
//
//	go run ./examples/custom-image > hello.llb
//	sudo go run ./examples/custom-image -build
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

const page = "<h1>hello from a Go-emitted graph</h1>\n"

func image() llbdefs.Image {
	d := llbdefs.Debian()
	pkgs := llbdefs.Base(d, "hello").With(d.Install("hello", "busybox", "tini"))
	site := llb.Scratch().File(
		llb.Mkdir("/srv", 0o755).Mkfile("/srv/index.html", 0o644, []byte(page),
			llb.WithCreatedTime(time.Unix(0, 0))),
		llb.WithCustomName("hello: site"))
	st := llb.Merge([]llb.State{pkgs, site}, llb.WithCustomName("hello: add site layer"))

	cfg := llbdefs.NewConfig("hello", d)
	cfg.Config.Entrypoint = []string{"/usr/bin/tini", "--"}
	cfg.Config.Cmd = []string{"busybox", "httpd", "-f", "-p", "8080", "-h", "/srv"}
	cfg.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	return llbdefs.Image{Name: "hello", State: st, Config: cfg}
}

func main() {
	doBuild := flag.Bool("build", false, "build the image on the embedded engine instead of printing the graph")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *doBuild); err != nil {
		fmt.Fprintln(os.Stderr, "custom-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, doBuild bool) error {
	img := image()
	def, err := img.Marshal(ctx)
	if err != nil {
		return err
	}
	if !doBuild {
		return llb.WriteTo(def, os.Stdout)
	}
	cfg, err := img.ConfigJSON()
	if err != nil {
		return err
	}
	e, err := engine.New()
	if err != nil {
		return err
	}
	if err := e.Ensure(ctx); err != nil {
		return err
	}
	bk, err := client.New(ctx, e.BuildkitAddress())
	if err != nil {
		return err
	}
	defer bk.Close()
	b, err := build.New(bk, build.WithProgress(os.Stderr, "plain"))
	if err != nil {
		return err
	}
	rep, err := b.Build(ctx, []build.Target{{Service: "hello", Ref: "docker.io/library/hello:example", Definition: def, Config: cfg}})
	if err != nil {
		return err
	}
	fmt.Printf("%s %s (%d/%d vertices cached)\n", rep.Images[0].Ref, rep.Images[0].Digest, rep.Images[0].Cached, rep.Images[0].Vertices)
	return nil
}
