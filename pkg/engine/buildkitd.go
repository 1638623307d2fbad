package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/worker/label"
)

// Garbage collection of the embedded buildkitd's cache, in buildkit's
// DiskSpace syntax.
const (
	gcReservedSpace = "2GB"  // never collect below this
	gcMaxUsedSpace  = "20GB" // collect above this
	gcMinFreeSpace  = "10%"  // collect while the disk has less free
)

// buildkitdDaemon describes the embedded buildkitd. Its worker uses
// whichever containerd the engine uses, embedded or external.
func (e *Engine) buildkitdDaemon() *daemon {
	c := e.cfg
	sock := filepath.Join(c.runDir, "buildkitd.sock")
	addr := "unix://" + sock
	cfg := buildkitdConfig{
		Root:              filepath.Join(c.root, "buildkit"),
		Address:           addr,
		ContainerdAddress: e.ContainerdAddress(),
		Namespace:         c.namespace,
		GCReservedSpace:   gcReservedSpace,
		GCMaxUsedSpace:    gcMaxUsedSpace,
		GCMinFreeSpace:    gcMinFreeSpace,
	}
	config := func() ([]byte, error) {
		regs, err := registryDirs(e.CertsDir())
		if err != nil {
			return nil, err
		}
		cfg.Registries = regs
		return renderConfig("buildkitd.toml.tmpl", cfg)
	}
	return &daemon{
		name:       "buildkitd",
		binary:     c.buildkitdPath,
		hint:       "run `make deps` or pass --buildkitd",
		configPath: filepath.Join(c.root, "engine", "buildkitd.toml"),
		config:     config,
		dirs:       []string{c.root, filepath.Join(c.root, "engine"), filepath.Join(c.root, "logs"), cfg.Root, c.runDir},
		pidFile:    filepath.Join(c.runDir, "buildkitd.pid"),
		socket:     sock,
		sockets:    []string{sock},
		logPath:    filepath.Join(c.root, "logs", "buildkitd.log"),
		ready: func(ctx context.Context) (string, error) {
			return buildkitReady(ctx, addr, c.namespace)
		},
	}
}

// CertsDir is where registries' certificates live, one directory per
// registry host in Docker's certs.d layout: certs.d/HOST[:PORT]/ca.crt for a
// private CA, client.cert + client.key for a client certificate. The
// embedded buildkitd is configured with every directory present when it
// starts; image pushes and pulls made by inceptionctl itself read the same.
func (e *Engine) CertsDir() string { return filepath.Join(e.cfg.root, "certs.d") }

// BuildkitdBinary is the buildkitd binary the embedded engine runs (the
// one WithBuildkitdPath names, else next to the running executable, else
// on $PATH), for a caller that starts a builder of its own with the same
// version: `inceptionctl bench`'s fresh runners.
func (e *Engine) BuildkitdBinary() (string, error) {
	return findBinary("buildkitd", e.cfg.buildkitdPath)
}

// registryDirs lists the registry directories of certs.d, sorted.
func registryDirs(dir string) ([]registryConfig, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry certificates: %w", err)
	}
	var regs []registryConfig
	for _, ent := range ents {
		if ent.IsDir() {
			regs = append(regs, registryConfig{Host: ent.Name(), Dir: filepath.Join(dir, ent.Name())})
		}
	}
	return regs, nil
}

// buildkitReady is readiness for the embedded buildkitd: it answers and
// has its containerd worker, in our namespace. buildkitd answers Info before
// its workers are up, so Info alone is not enough.
func buildkitReady(ctx context.Context, address, namespace string) (string, error) {
	if err := socketExists(address); err != nil {
		return "", err
	}
	c, err := bkclient.New(ctx, address)
	if err != nil {
		return "", fmt.Errorf("connect to buildkitd: %w", err)
	}
	defer c.Close()
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return "", fmt.Errorf("list buildkit workers: %w", err)
	}
	if err := checkWorkers(workers, namespace); err != nil {
		return "", err
	}
	return infoVersion(ctx, c)
}

// checkWorkers accepts a worker list with a containerd worker in namespace.
func checkWorkers(workers []*bkclient.WorkerInfo, namespace string) error {
	var seen []string
	for _, w := range workers {
		exe := w.Labels[label.Executor]
		ns := w.Labels[label.ContainerdNamespace]
		if exe == "containerd" && ns == namespace {
			return nil
		}
		seen = append(seen, fmt.Sprintf("%s (executor %q, namespace %q)", w.ID, exe, ns))
	}
	slices.Sort(seen)
	return fmt.Errorf("no containerd worker in namespace %q among buildkit workers [%s]", namespace, strings.Join(seen, ", "))
}

func infoVersion(ctx context.Context, c *bkclient.Client) (string, error) {
	info, err := c.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("buildkitd info: %w", err)
	}
	return info.BuildkitVersion.Version, nil
}
