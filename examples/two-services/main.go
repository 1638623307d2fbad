// Command two-services runs a two-service stack through pkg/runtime: the
// project's redis image and its static site, the site waiting for redis to
// be healthy, the site published on 127.0.0.1. It builds the images when
// they are missing, brings the stack up, prints what `inceptionctl ps`
// would, and with -down removes it again.
//
// The runtime runs this program itself as the stack's supervisor and log
// shipper: main calls runtime.HelperMain first. Build it once rather than
// `go run` it, so the supervisor's binary stays where the runtime saw it.
//
//	go build -o /tmp/two-services ./examples/two-services
//	sudo /tmp/two-services
//	curl http://127.0.0.1:18080/
//	sudo /tmp/two-services -down
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

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/engine"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/runtime"
	"github.com/inceptionctl/inception/pkg/stack"
)

func twoServices(port int) stack.Stack {
	always := stack.RestartPolicy{Mode: stack.RestartAlways}
	return stack.Stack{Name: "example", Services: []stack.Service{
		{Name: "redis", Image: "redis:bookworm", Build: &stack.Build{Recipe: "redis"}, Restart: always,
			Mounts: []stack.Mount{{Kind: stack.MountVolume, Source: "example-redis", Target: "/data"}}},
		{Name: "static", Image: "static:bookworm", Build: &stack.Build{Recipe: "static"}, Restart: always,
			DependsOn: map[string]stack.Condition{"redis": stack.ConditionHealthy},
			Ports:     []stack.Port{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 8080, Protocol: stack.TCP}}},
	}}
}

func main() {
	runtime.HelperMain() // the runtime's supervisor and log shipper end here
	down := flag.Bool("down", false, "remove the stack (and its volume) instead of starting it")
	port := flag.Int("port", 18080, "host port of the static site on 127.0.0.1")
	data := flag.String("data", filepath.Join(os.TempDir(), "inception-two-services"), "where the named volume lives")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *data, *down, *port); err != nil {
		fmt.Fprintln(os.Stderr, "two-services:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, data string, down bool, port int) error {
	e, err := engine.New()
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
		runtime.WithHostIP("127.0.0.1"), runtime.WithNetworkSubnet("10.89.200.0/24"),
		runtime.WithProgress(os.Stderr))
	if err != nil {
		return err
	}
	st := twoServices(port)
	if down {
		return rt.Down(ctx, st, runtime.DownOptions{Volumes: true})
	}
	if err := buildImages(ctx, e, cd, st); err != nil {
		return err
	}
	start := time.Now()
	if err := rt.Up(ctx, st, runtime.UpOptions{Wait: true, Timeout: 2 * time.Minute}); err != nil {
		return err
	}
	fmt.Printf("up and healthy in %v; site on http://127.0.0.1:%d/\n", time.Since(start).Round(time.Millisecond), port)
	reps, err := rt.PS(ctx, st.Name)
	if err != nil {
		return err
	}
	for _, r := range reps {
		fmt.Printf("%-8s %-8s %-8s %s\n", r.Service, r.State, r.Health, r.IP)
	}
	return nil
}

// buildImages builds the stack's images (all cached after the first time).
func buildImages(ctx context.Context, e *engine.Engine, cd *containerd.Client, st stack.Stack) error {
	if _, err := base.Ensure(ctx, cd.ContentStore(), cd.ImageService(), base.WithTempDir(e.Root())); err != nil {
		return err
	}
	targets, err := build.Targets(ctx, st.Services, llbdefs.Recipes())
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
