package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/runtime"
)

// secretValues reads every secret file in dir: name -> value, trailing
// newlines cut as the entrypoints cut them. The values are never logged.
func secretValues(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		v := strings.TrimRight(string(data), "\n")
		// A value this short would be found by chance in any binary file;
		// the stack's generated secrets are 32 characters.
		require.GreaterOrEqual(t, len(v), 12, "secret %s is too short to scan for", e.Name())
		out[e.Name()] = v
	}
	require.NotEmpty(t, out, "no secret in %s", dir)
	return out
}

// secretsIn names the secrets data holds, sorted.
func secretsIn(data []byte, secrets map[string]string) []string {
	var found []string
	for name, v := range secrets {
		if bytes.Contains(data, []byte(v)) {
			found = append(found, name)
		}
	}
	sort.Strings(found)
	return found
}

// scanTree reads every regular file under root, never leaving root's
// filesystem (container root filesystems and network namespaces are mounted
// under the run dir) and never entering the paths in skip, and reports
// "<file>: <secret name>" for each secret a file holds. It returns the
// number of files read.
func scanTree(t *testing.T, root string, skip []string, secrets map[string]string) (int, []string) {
	t.Helper()
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(root, &st))
	dev := st.Dev
	files := 0
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walk: a temporary file
			}
			return err
		}
		if slices.Contains(skip, p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st.Dev != dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files++
		for _, name := range secretsIn(data, secrets) {
			found = append(found, p+": "+name)
		}
		return nil
	})
	require.NoError(t, err, "scan %s", root)
	return files, found
}

// procFile reads /proc/<pid>/<name>; ok is false when the process is gone.
func procFile(t *testing.T, pid uint32, name string) ([]byte, bool) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return nil, false
	}
	require.NoError(t, err)
	return data, true
}

// checkNoSecretInProcesses reads the environment and command line of every
// process of every container of the stack, from the host, and finds no
// secret value. It returns how many processes it read per service.
func (a *acceptance) checkNoSecretInProcesses(ctx context.Context, t *testing.T, secrets map[string]string) map[string]int {
	t.Helper()
	read := map[string]int{}
	for _, svc := range a.st.Names() {
		c, err := a.cd.LoadContainer(ctx, a.st.Name+"-"+svc)
		require.NoError(t, err, svc)
		task, err := c.Task(ctx, nil)
		require.NoError(t, err, svc)
		pids, err := task.Pids(ctx)
		require.NoError(t, err, svc)
		for _, p := range pids {
			environ, ok := procFile(t, p.Pid, "environ")
			if !ok {
				continue
			}
			cmdline, ok := procFile(t, p.Pid, "cmdline")
			if !ok {
				continue
			}
			comm := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
			if len(comm) > 60 {
				comm = comm[:60]
			}
			assert.Empty(t, secretsIn(environ, secrets), "%s: the environment of pid %d (%s) holds these secrets", svc, p.Pid, comm)
			assert.Empty(t, secretsIn(cmdline, secrets), "%s: the command line of pid %d (%s) holds these secrets", svc, p.Pid, comm)
			read[svc]++
		}
	}
	return read
}

// phpProbeParams are the FastCGI parameters phpWorkerEnv's request sends.
var phpProbeParams = []string{"SCRIPT_NAME", "SCRIPT_FILENAME", "REQUEST_METHOD"}

// phpWorkerEnv asks one of wordpress's php-fpm workers for its environment
// over FastCGI, as nginx reaches it, with a script on the container's /tmp.
func (a *acceptance) phpWorkerEnv(ctx context.Context, t *testing.T) map[string]string {
	t.Helper()
	const script = "/tmp/inception-env-probe.php"
	code, out := a.exec(ctx, t, "wordpress", "sh", "-c",
		`printf '%s' '<?php echo json_encode(getenv());' >`+script+` && chmod 0644 `+script+` && `+
			// phpProbeParams, and nothing else.
			`env -i SCRIPT_NAME=/probe.php SCRIPT_FILENAME=`+script+` REQUEST_METHOD=GET cgi-fcgi -bind -connect 127.0.0.1:9000; `+
			`rc=$?; rm -f `+script+`; exit $rc`)
	require.Equal(t, 0, code, "the FastCGI request failed")
	_, body, ok := strings.Cut(out, "\r\n\r\n")
	require.True(t, ok, "no FastCGI answer (%d bytes)", len(out))
	env := map[string]string{}
	require.NoError(t, json.Unmarshal([]byte(body), &env), "not a JSON environment (%d bytes)", len(body))
	return env
}

// checkNoSecretInImages reads every layer and the config of the images the
// stack runs, and what each container wrote over its image (its snapshot's
// upper directory), and finds no secret value.
func (a *acceptance) checkNoSecretInImages(ctx context.Context, t *testing.T, secrets map[string]string) {
	t.Helper()
	for _, svc := range a.st.Services {
		c, err := a.cd.LoadContainer(ctx, a.st.Name+"-"+svc.Name)
		require.NoError(t, err, svc.Name)
		info, err := c.Info(ctx)
		require.NoError(t, err, svc.Name)

		layers := 0
		cfg := imageFiles(ctx, t, a.env, info.Image, func(layer int, h *tar.Header, r io.Reader) {
			if h.Typeflag != tar.TypeReg {
				return
			}
			data, err := io.ReadAll(r)
			require.NoError(t, err)
			layers = max(layers, layer+1)
			assert.Empty(t, secretsIn(data, secrets), "%s: %s (layer %d) holds these secrets", info.Image, path.Clean("/"+h.Name), layer)
		})
		assert.Positive(t, layers, "%s: no layer read", info.Image)
		assert.Empty(t, secretsIn(cfg, secrets), "%s: the image config holds these secrets", info.Image)

		mounts, err := a.cd.SnapshotService(info.Snapshotter).Mounts(ctx, info.SnapshotKey)
		require.NoError(t, err, svc.Name)
		upper := ""
		for _, m := range mounts {
			for _, o := range m.Options {
				if v, ok := strings.CutPrefix(o, "upperdir="); ok {
					upper = v
				}
			}
		}
		require.NotEmpty(t, upper, "%s: no upper directory in the snapshot's mounts", svc.Name)
		_, found := scanTree(t, upper, nil, secrets)
		assert.Empty(t, found, "%s wrote secrets into its root filesystem", svc.Name)
	}
}

// checkNoSecretAtRest reads the logs, ps --format json and every state file
// of the engine and the runtime (the run dir and the engine root), and
// finds no secret value. Left out: the secret files the runtime installs
// for the containers (their place), the image store and build cache (the
// images are read layer by layer above), and the volumes' data.
func (a *acceptance) checkNoSecretAtRest(ctx context.Context, t *testing.T, secrets map[string]string) {
	t.Helper()
	var logs strings.Builder
	require.NoError(t, a.rt.Logs(ctx, a.st.Name, runtime.LogsOptions{Tail: -1}, &logs))
	require.NotEmpty(t, logs.String())
	assert.Empty(t, secretsIn([]byte(logs.String()), secrets), "the services' logs hold these secrets")

	reps, err := a.rt.PS(ctx, a.st.Name)
	require.NoError(t, err)
	psJSON, err := json.Marshal(reps)
	require.NoError(t, err)
	assert.Empty(t, secretsIn(psJSON, secrets), "ps --format json holds these secrets")

	run, root := a.engine.RunDir(), a.engine.Root()
	files, found := scanTree(t, run, []string{filepath.Join(run, "secrets")}, secrets)
	assert.Positive(t, files, "no file read under the run dir %s", run)
	assert.Empty(t, found, "state files under the run dir hold secrets")
	cd := filepath.Join(root, "containerd")
	files, found = scanTree(t, root, []string{
		filepath.Join(root, "buildkit"),
		filepath.Join(cd, "io.containerd.content.v1.content"),
		filepath.Join(cd, "io.containerd.snapshotter.v1.overlayfs"),
		filepath.Join(cd, "io.containerd.snapshotter.v1.native"),
		filepath.Join(cd, "tmpmounts"),
	}, secrets)
	assert.Positive(t, files, "no file read under the engine root %s", root)
	assert.Empty(t, found, "state files under the engine root hold secrets")
	_, err = os.Stat(filepath.Join(cd, "io.containerd.metadata.v1.bolt", "meta.db"))
	assert.NoError(t, err, "containerd's metadata (the containers' specs) is among the files read")
}
