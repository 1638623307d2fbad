package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
)

// containerdDaemon describes the embedded containerd.
func (e *Engine) containerdDaemon() *daemon {
	c := e.cfg
	sock := filepath.Join(c.runDir, "containerd.sock")
	cfg := containerdConfig{
		Root:         filepath.Join(c.root, "containerd"),
		State:        filepath.Join(c.runDir, "containerd"),
		Address:      sock,
		TTRPCAddress: sock + ".ttrpc",
		OptDir:       filepath.Join(c.root, "containerd", "opt"),
	}
	return &daemon{
		name:       "containerd",
		binary:     c.containerdPath,
		hint:       "install containerd (apt-get install containerd) or pass --containerd-address",
		configPath: filepath.Join(c.root, "engine", "containerd.toml"),
		config:     func() ([]byte, error) { return renderConfig("containerd.toml.tmpl", cfg) },
		dirs:       []string{c.root, filepath.Join(c.root, "engine"), filepath.Join(c.root, "logs"), cfg.Root, c.runDir},
		pidFile:    filepath.Join(c.runDir, "containerd.pid"),
		socket:     sock,
		sockets:    []string{sock, cfg.TTRPCAddress},
		logPath:    filepath.Join(c.root, "logs", "containerd.log"),
		ready:      func(ctx context.Context) (string, error) { return containerdVersion(ctx, sock) },
	}
}

// containerdVersion asks the containerd at address (a socket path) for its
// version: the cheapest call that proves the gRPC server is up.
func containerdVersion(ctx context.Context, address string) (string, error) {
	if err := socketExists(address); err != nil {
		return "", err
	}
	c, err := containerd.New(address, containerd.WithTimeout(probeTimeout))
	if err != nil {
		return "", fmt.Errorf("connect to containerd: %w", err)
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("containerd version: %w", err)
	}
	return v.Version, nil
}

// socketExists turns "no such file" into an error that names the socket,
// before gRPC buries it under connection retries. Other addresses (tcp) are
// left to the client.
func socketExists(address string) error {
	path, ok := unixPath(address)
	if !ok {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no socket at %s: %w", path, fs.ErrNotExist)
	} else if err != nil {
		return err
	}
	return nil
}

// unixPath returns the socket path of a unix address: a bare absolute path
// or unix://path.
func unixPath(address string) (string, bool) {
	if p, ok := strings.CutPrefix(address, "unix://"); ok {
		return p, true
	}
	if strings.HasPrefix(address, "/") {
		return address, true
	}
	return "", false
}
