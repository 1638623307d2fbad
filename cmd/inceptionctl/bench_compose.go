package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/bench"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// The compose variant's private dockerd: its bridge and address pool
// (host-wide names: neither docker0, nor the docker-peer test's incdk0 and
// 10.213-214.x, nor the stacks' 10.89.0.0/16), and the host-wide lock that
// keeps a second bench off them.
const (
	benchDockerdBridge = "incbench0"
	benchDockerdBIP    = "10.215.0.1/24"
	benchDockerdPool   = "base=10.216.0.0/16,size=24"
	benchDockerdLock   = "/run/lock/inceptionctl-bench-compose.lock"
)

// defaultDockerConfig is the DOCKER_CONFIG with the compose plugin:
// INCEPTION_DOCKER_CONFIG, else docker-config next to inceptionctl
// (bin/docker-config, where `make docker-peer` puts it).
func defaultDockerConfig() string {
	if c := os.Getenv("INCEPTION_DOCKER_CONFIG"); c != "" {
		return c
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), "docker-config")
}

// checkComposePeer says, before anything runs, why the compose variant
// cannot be measured: docker.io or the compose plugin missing.
func (o *benchOptions) checkComposePeer(vs []report.Variant) error {
	if !slices.Contains(vs, report.VariantCompose) {
		return nil
	}
	if _, err := dockerpeer.Find(o.dockerConfig); err != nil {
		return fmt.Errorf("--variants compose: %w", err)
	}
	return nil
}

// openComposePeer starts the compose variant's private dockerd in
// <root>/bench-compose (kept between runs: its cache mounts and the base
// image make the next run's first build short) and loads the engine's
// base image into it. stop stops it and releases the lock.
func openComposePeer(ctx context.Context, cmd *cobra.Command, s *session, o *benchOptions) (_ bench.BuildOption, stop func(), err error) {
	tools, err := dockerpeer.Find(o.dockerConfig)
	if err != nil {
		return nil, nil, err
	}
	lock, err := os.OpenFile(benchDockerdLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("compose variant lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("another inceptionctl bench measures the compose variant on this host (%s is locked; its dockerd's bridge %s is host-wide): wait for it", benchDockerdLock, benchDockerdBridge)
		}
		return nil, nil, fmt.Errorf("compose variant lock %s: %w", benchDockerdLock, err)
	}
	dir := filepath.Join(s.engine.Root(), "bench-compose")
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: compose: starting a private dockerd in %s\n", dir)
	d, err := dockerpeer.Start(ctx, tools, dir, dockerpeer.WithBridge(benchDockerdBridge, benchDockerdBIP, benchDockerdPool))
	if err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("compose variant: %w", err)
	}
	stop = func() {
		if err := d.Stop(); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "bench: compose: %v\n", err)
		}
		lock.Close()
	}
	if err := d.LoadFromContainerd(ctx, s.cd, base.DefaultRef); err != nil {
		stop()
		return nil, nil, fmt.Errorf("compose variant: %w", err)
	}
	return bench.WithCompose(d, dir), stop, nil
}

// composeUpTimeout bounds one boot of the compose variant's stack.
const composeUpTimeout = 10 * time.Minute

// measureComposeUp measures the compose variant's up figure, when the
// plan has it and nothing failed before (perr).
func measureComposeUp(cmd *cobra.Command, bb *bench.BuildBench, p benchPlan, perr error) (*report.RuntimeResult, error) {
	if perr != nil || bb == nil || p.composeUp == 0 {
		return nil, nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "bench: compose: up -d of the exported stack to the home page, first boot, %d runs after a warm-up\n", p.composeUp)
	res, err := bb.ComposeUp(cmd.Context(), p.composeUp, composeUpTimeout)
	if err != nil {
		return nil, fmt.Errorf("compose up figure: %w", err)
	}
	return &res, nil
}

// withComposeUp puts the compose variant's up figure after the engine's
// up figures in rr.
func withComposeUp(rr *report.RuntimeReport, res *report.RuntimeResult) *report.RuntimeReport {
	if rr == nil || res == nil {
		return rr
	}
	at := len(rr.Results)
	for i, r := range rr.Results {
		if r.Scenario == report.RuntimeUp {
			at = i + 1
		}
	}
	rr.Results = slices.Insert(rr.Results, at, *res)
	return rr
}
