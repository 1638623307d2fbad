package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inceptionctl/inception/pkg/bench/report"
)

// ComposeUp measures the compose variant's first boot: `docker compose
// up -d` of the exported tree on the private dockerd, until the home page
// answers 200 over HTTPS with the site's title, from empty volumes (the
// project taken down with its volumes and the data directories emptied
// before each run). One untimed boot first, which also builds the images
// the build cases did not. HTTPS and FTP on free ports of 127.0.0.1. The
// project is taken down with its volumes at the end. The result is a
// run-time figure (scenario up) to set next to the engine's own.
//
//	res, err := b.ComposeUp(ctx, 3, 10*time.Minute)
func (b *BuildBench) ComposeUp(ctx context.Context, runs int, timeout time.Duration) (report.RuntimeResult, error) {
	res := report.RuntimeResult{Scenario: report.RuntimeUp, Figure: report.FigureComposeFirstBoot, Unit: "s", Runs: []report.RuntimeRun{}}
	p := b.r.peer
	switch {
	case p == nil:
		return res, fmt.Errorf("%w: the compose up figure needs the compose variant (bench.WithCompose)", ErrNoComposePeer)
	case runs < 1:
		return res, fmt.Errorf("compose up: %d runs: measure at least once", runs)
	}
	cfg, err := composeConfigOf(filepath.Join(filepath.Dir(p.dir), "data"))
	if err != nil {
		return res, err
	}
	ports, err := freeStackPorts()
	if err != nil {
		return res, err
	}
	// The environment wins over srcs/.env, as the docker-peer test gives it.
	env := []string{
		"HOST_IP=127.0.0.1",
		"HTTPS_PORT=" + strconv.Itoa(ports.https),
		"FTP_PORT=" + strconv.Itoa(ports.ftp),
		"FTP_PASV_MIN=" + strconv.Itoa(ports.pasvMin),
		"FTP_PASV_MAX=" + strconv.Itoa(ports.pasvMax),
		"DATA_DIR=" + cfg.DataDir,
	}
	probe := loadSpec{URL: fmt.Sprintf("https://%s:%d/", cfg.Domain, ports.https), Addr: "127.0.0.1:" + strconv.Itoa(ports.https), Concurrency: 1, Timeout: 10 * time.Second}
	if err := probe.check(); err != nil {
		return res, err
	}
	home := probe.client()
	defer home.CloseIdleConnections()
	compose := func(args ...string) error {
		_, _, err := p.d.Docker(ctx, env, append([]string{"compose", "-p", composeProject, "-f", p.file}, args...)...)
		return err
	}
	volumes, err := makefileVolumes(filepath.Join(p.dir, "Makefile"))
	if err != nil {
		return res, err
	}
	boot := func() (report.RuntimeRun, error) {
		if err := compose("down", "--volumes", "--remove-orphans"); err != nil {
			return report.RuntimeRun{}, err
		}
		if err := emptyDataDirs(cfg.DataDir, volumes); err != nil {
			return report.RuntimeRun{}, err
		}
		start := time.Now()
		if err := compose("up", "-d"); err != nil {
			return report.RuntimeRun{}, err
		}
		up := time.Since(start)
		if err := waitPage(ctx, home, probe.URL, cfg.Env["WP_TITLE"], timeout); err != nil {
			return report.RuntimeRun{}, fmt.Errorf("compose up: %w", err)
		}
		return report.RuntimeRun{Value: time.Since(start).Seconds(), UpSeconds: up.Seconds()}, nil
	}
	defer func() {
		if err := compose("down", "--volumes", "--remove-orphans"); err != nil {
			b.r.logf("compose up: take the project down: %v", err)
		}
	}()
	b.r.logf("compose up: building every image of the exported stack, untimed")
	if err := compose("build"); err != nil {
		return res, fmt.Errorf("compose up: %w", err)
	}
	run, err := boot()
	if err != nil {
		return res, fmt.Errorf("compose up: warm-up: %w", err)
	}
	b.r.logf("%-22s %-9s %7.2fs (up -d %.2fs)", res.Name(), "warm-up", run.Value, run.UpSeconds)
	for range runs {
		run, err := boot()
		if err != nil {
			return res, err
		}
		res.Runs = append(res.Runs, run)
		b.r.logf("%-22s run %-5d %7.2fs (up -d %.2fs)", res.Name(), len(res.Runs), run.Value, run.UpSeconds)
	}
	summariseRuntime(&res)
	return res, nil
}

// makefileVolumes reads the exported Makefile's VOLUMES: the data
// directories the named volumes are bound to.
func makefileVolumes(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exported Makefile: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VOLUMES := "); ok {
			return strings.Fields(v), nil
		}
	}
	return nil, fmt.Errorf("exported Makefile %s has no VOLUMES line", path)
}

// emptyDataDirs makes each volume's data directory anew, empty, as the
// Makefile's data target does (WordPress's owned by www-data).
func emptyDataDirs(dataDir string, volumes []string) error {
	for _, v := range volumes {
		dir := filepath.Join(dataDir, v)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if v == "wordpress" {
			if err := os.Chown(dir, 33, 33); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitPage polls u until it answers 200 with title in its page; any other
// answer (a 502 while php-fpm starts, a refused connection) means: not yet.
func waitPage(ctx context.Context, c *http.Client, u, title string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		body, err := getBody(ctx, c, u)
		if err == nil && !strings.Contains(body, title) {
			err = fmt.Errorf("200 without the site's title %q", title)
		}
		if err == nil {
			return nil
		}
		// A request cut by the deadline says nothing about the site: the
		// answer before it does.
		if ctx.Err() == nil || last == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the home page %s did not answer 200: %w (last: %w)", u, ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
