// Command any-image runs a stack of two images through pkg/runtime: one
// named by reference and taken as it is from the engine's image store (the
// Debian base image, debian:bookworm, which `inceptionctl base` makes), and
// one of its own, built from a Go LLB recipe. The Debian service writes the
// time into a shared volume every second; the other serves it with busybox
// httpd on 127.0.0.1.
//
// The runtime runs this very program as the stack's supervisor and as the
// log shipper of its containers: main calls runtime.HelperMain first, which
// is all it takes.
//
//	go build -o /tmp/any-image ./examples/any-image
//	sudo /tmp/any-image            # then: curl http://127.0.0.1:18081/shared/now.txt
//	sudo /tmp/any-image -down
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

// webImage is this program's own image: busybox httpd serving /srv.
func webImage(...llbdefs.Option) (llbdefs.Image, error) {
	d := llbdefs.Debian()
	pkgs := llbdefs.Base(d, "any-web").With(d.Install("any-web", "busybox"))
	page := llb.Scratch().File(
		llb.Mkdir("/srv", 0o755).Mkfile("/srv/index.html", 0o644, []byte("<a href=shared/now.txt>now.txt</a>\n"),
			llb.WithCreatedTime(time.Unix(0, 0))),
		llb.WithCustomName("any-web: page"))
	cfg := llbdefs.NewConfig("any-web", d)
	cfg.Config.Cmd = []string{"busybox", "httpd", "-f", "-p", "8080", "-h", "/srv"}
	return llbdefs.Image{Name: "any-web", State: llb.Merge([]llb.State{pkgs, page}), Config: cfg}, nil
}

// recipes bind the recipe names the stack's services give to Go recipes.
var recipes = map[string]llbdefs.Recipe{"any-web": webImage}

func anyImage(project string, port int) stack.Stack {
	always := stack.RestartPolicy{Mode: stack.RestartAlways}
	shared := "any-image-shared"
	return stack.Stack{Name: project, Services: []stack.Service{
		{Name: "clock", Image: base.DefaultRef, Restart: always,
			Command: []string{"sh", "-c", "while :; do date -u > /out/now.txt; sleep 1; done"},
			Mounts:  []stack.Mount{{Kind: stack.MountVolume, Source: shared, Target: "/out"}}},
		{Name: "web", Image: "any-web:example", Build: &stack.Build{Recipe: "any-web"}, Restart: always,
			Mounts:    []stack.Mount{{Kind: stack.MountVolume, Source: shared, Target: "/srv/shared", ReadOnly: true}},
			DependsOn: map[string]stack.Condition{"clock": stack.ConditionStarted},
			Ports:     []stack.Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080, Protocol: stack.TCP}}},
	}}
}

func main() {
	// First: when the runtime started this program as its supervisor or
	// log shipper, that is all it does.
	runtime.HelperMain()

	project := flag.String("p", "any-image", "project name: names the containers, network and state")
	down := flag.Bool("down", false, "remove the stack (and its volume) instead of starting it")
	port := flag.Int("port", 18081, "host port of the web service on 127.0.0.1")
	data := flag.String("data", filepath.Join(os.TempDir(), "inception-any-image"), "where the named volume lives")
	root := flag.String("root", envOr("INCEPTION_ROOT", engine.DefaultRoot), "engine state directory")
	runDir := flag.String("run-dir", envOr("INCEPTION_RUN_DIR", engine.DefaultRunDir), "engine run directory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *root, *runDir, *data, anyImage(*project, *port), *down); err != nil {
		fmt.Fprintln(os.Stderr, "any-image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, root, runDir, data string, st stack.Stack, down bool) error {
	if err := stack.ValidateProjectName(st.Name); err != nil {
		return err
	}
	e, err := engine.New(engine.WithRoot(root), engine.WithRunDir(runDir))
	if err != nil {
		return err
	}
	if err := e.Ensure(ctx); err != nil {
		return err
	}
	cd, err := containerd.New(e.ContainerdAddress(), containerd.WithDefaultNamespace(e.Namespace()))
	if err != nil {
		return err
	}
	defer cd.Close()
	ctx = namespaces.WithNamespace(ctx, e.Namespace())
	rt, err := runtime.New(cd,
		runtime.WithRoot(e.Root()), runtime.WithRunDir(e.RunDir()),
		runtime.WithContainerd(e.ContainerdAddress(), e.Namespace()),
		runtime.WithDataDir(data), runtime.WithSecretsDir(data),
		runtime.WithHostIP("127.0.0.1"), runtime.WithNetworkSubnet("10.89.201.0/24"),
		runtime.WithProgress(os.Stderr))
	if err != nil {
		return err
	}
	if down {
		return rt.Down(ctx, st, runtime.DownOptions{Volumes: true})
	}
	// The base image is the image by reference; the web image is built
	// (cached after the first time) from its recipe.
	if _, err := base.Ensure(ctx, cd.ContentStore(), cd.ImageService(), base.WithTempDir(e.Root())); err != nil {
		return err
	}
	if err := buildOwn(ctx, e, st); err != nil {
		return err
	}
	if err := rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: 2 * time.Minute}); err != nil {
		return err
	}
	reps, err := rt.PS(ctx, st.Name)
	if err != nil {
		return err
	}
	for _, r := range reps {
		fmt.Printf("%-6s %-8s %s\n", r.Service, r.State, r.IP)
	}
	return nil
}

// buildOwn builds the images of the services that have a recipe.
func buildOwn(ctx context.Context, e *engine.Engine, st stack.Stack) error {
	var own []stack.Service
	for _, s := range st.Services {
		if s.Build != nil {
			own = append(own, s)
		}
	}
	targets, err := build.Targets(ctx, own, recipes)
	if err != nil {
		return err
	}
	bk, err := client.New(ctx, e.BuildkitAddress())
	if err != nil {
		return err
	}
	defer bk.Close()
	b, err := build.New(bk, build.WithProgress(os.Stderr, "quiet"))
	if err != nil {
		return err
	}
	_, err = b.Build(ctx, targets)
	return err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
