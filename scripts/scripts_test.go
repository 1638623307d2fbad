// Package scripts holds the tests of the shell scripts the make targets run.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gitRepo makes a repository in a temporary directory with files, all added.
func gitRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return dir
}

func checkTracked(t *testing.T, dir string) (string, error) {
	t.Helper()
	script, err := filepath.Abs("check-tracked.sh")
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd := exec.Command(script, dir)
	cmd.Stderr = &stderr
	err = cmd.Run()
	return stderr.String(), err
}

func TestCheckTracked(t *testing.T) {
	source := map[string][]byte{
		"main.go":          []byte("package main\n"),
		"scripts/x.sh":     []byte("#!/bin/sh\necho MZ\n"),
		"docs/chart.svg":   bytes.Repeat([]byte("<g/>"), 1000),
		"testdata/empty":   nil,
		"testdata/exactly": bytes.Repeat([]byte("a"), 1<<20),
	}
	out, err := checkTracked(t, gitRepo(t, source))
	require.NoError(t, err, "sources only: %s", out)
	assert.Empty(t, out)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"an ELF binary", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 64)...), "depsprobe is an executable binary (ELF)"},
		{"a PE binary", append([]byte("MZ\x90\x00"), make([]byte, 64)...), "depsprobe is an executable binary (PE)"},
		{"a Mach-O binary", append([]byte("\xcf\xfa\xed\xfe"), make([]byte, 64)...), "depsprobe is an executable binary (Mach-O)"},
		{"more than 1 MiB", bytes.Repeat([]byte("a"), 1<<20+1), "depsprobe is 1048577 bytes (more than 1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"depsprobe": tc.data}
			for k, v := range source {
				files[k] = v
			}
			out, err := checkTracked(t, gitRepo(t, files))
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "output: %s", out)
			assert.Equal(t, 1, exit.ExitCode())
			assert.Contains(t, out, tc.want)
			assert.NotContains(t, out, "main.go")
		})
	}
}

// fakeSteps replaces setup.sh's steps: each writes "start <step>" and
// "end <step>" lines into $ORDER, waits up to 60 s for the line
// STEP_<name>_AWAIT names, sleeps as long as STEP_<name>_SLEEP says (0.2 s
// by default) and fails when STEP_<name>_FAIL is set.
const fakeSteps = `
fake() {
  local v i
  echo "start $step" >>"$ORDER"
  v=STEP_${step}_AWAIT
  if [ -n "${!v:-}" ]; then
    for ((i = 0; i < 600; i++)); do grep -qx "${!v}" "$ORDER" && break; sleep 0.1; done
  fi
  v=STEP_${step}_SLEEP; sleep "${!v:-0.2}"
  v=STEP_${step}_FRESH; [ -z "${!v:-}" ] || fresh
  echo "end $step" >>"$ORDER"
  v=STEP_${step}_FAIL; if [ -n "${!v:-}" ]; then echo "$step broke"; return 1; fi
}
step_packages() { fake; }
step_buildkitd() { note "one-time, about 4 min"; fake; }
step_inceptionctl() { fake; }
step_base() { fake; }
step_images() { fake; }
step_up() { fake; echo "site: https://jdoe.42.fr/" >"$STATE/up.out"; }
`

type setupRun struct {
	out    string
	order  []string
	err    error
	logDir string
}

func runSetup(t *testing.T, target string, env ...string) setupRun {
	t.Helper()
	dir := t.TempDir()
	steps := filepath.Join(dir, "steps.sh")
	require.NoError(t, os.WriteFile(steps, []byte(fakeSteps), 0o644))
	order := filepath.Join(dir, "order.log")
	script, err := filepath.Abs("setup.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, target)
	cmd.Env = append(os.Environ(), append([]string{"INCEPTION_SETUP_STEPS=" + steps, "ORDER=" + order,
		"BIN=" + filepath.Join(dir, "bin"), "TERM=dumb"}, env...)...)
	out, err := cmd.CombinedOutput()
	data, _ := os.ReadFile(order)
	return setupRun{out: string(out), order: strings.Split(strings.TrimSpace(string(data)), "\n"), err: err,
		logDir: filepath.Join(dir, "bin", "logs")}
}

func index(t *testing.T, xs []string, x string) int {
	t.Helper()
	i := slices.Index(xs, x)
	require.GreaterOrEqual(t, i, 0, "%q in %v", x, xs)
	return i
}

func TestSetupOrder(t *testing.T) {
	// buildkitd ends only after base: base must not wait for it. With a CA
	// bundle on the host, packages ends only after buildkitd started:
	// buildkitd must not wait for it.
	env := []string{"STEP_buildkitd_AWAIT=end base", "STEP_buildkitd_SLEEP=2.5", "STEP_inceptionctl_FRESH=1"}
	_, err := os.Stat("/etc/ssl/certs/ca-certificates.crt")
	caBundle := err == nil
	if caBundle {
		env = append(env, "STEP_packages_AWAIT=start buildkitd")
	}
	r := runSetup(t, "up", env...)
	require.NoError(t, r.err, r.out)
	o := r.order
	for _, s := range []string{"packages", "buildkitd", "inceptionctl", "base", "images", "up"} {
		assert.Less(t, index(t, o, "start "+s), index(t, o, "end "+s))
	}
	if caBundle {
		assert.Less(t, index(t, o, "start buildkitd"), index(t, o, "end packages"))
	}
	assert.Less(t, index(t, o, "end packages"), index(t, o, "start base"))
	assert.Less(t, index(t, o, "end inceptionctl"), index(t, o, "start base"))
	assert.Less(t, index(t, o, "end base"), index(t, o, "end buildkitd"), "base ran while buildkitd compiled")
	assert.Less(t, index(t, o, "end buildkitd"), index(t, o, "start images"))
	assert.Less(t, index(t, o, "end images"), index(t, o, "start up"))

	assert.Regexp(t, `(?m)^  buildkitd +running +\d+\.\ds  \(one-time, about 4 min\)$`, r.out, "a long step is announced with its note")
	assert.Regexp(t, `(?m)^  buildkitd +done +\d+(\.\d)?s$`, r.out)
	assert.Regexp(t, `(?m)^  inceptionctl +up to date +\d+\.\ds$`, r.out)
	assert.NotRegexp(t, `(?m)^  packages +running`, r.out, "a short step has one line")
	assert.Contains(t, r.out, "site: https://jdoe.42.fr/")
	assert.FileExists(t, filepath.Join(r.logDir, "images.log"))
}

func TestSetupBuildStopsBeforeUp(t *testing.T) {
	r := runSetup(t, "build")
	require.NoError(t, r.err, r.out)
	assert.Contains(t, r.order, "end images")
	assert.NotContains(t, r.order, "start up")
	assert.NotContains(t, r.out, "  up ")
}

func TestSetupFailure(t *testing.T) {
	// buildkitd fails while inceptionctl still runs: base, which needs no
	// buildkitd, could start after inceptionctl but must not.
	r := runSetup(t, "up", "STEP_buildkitd_FAIL=1", "STEP_buildkitd_SLEEP=0.1", "STEP_inceptionctl_SLEEP=1")
	var exit *exec.ExitError
	require.ErrorAs(t, r.err, &exit, r.out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, r.order, "end inceptionctl", "a running step finishes")
	assert.NotContains(t, r.order, "start base", "nothing new starts after a failure")
	assert.Regexp(t, `(?m)^  buildkitd +failed +\d+\.\ds  \(log: .*/buildkitd\.log\)$`, r.out)
	assert.Regexp(t, `(?m)^  inceptionctl +done +\d+\.\ds$`, r.out)
	assert.Contains(t, r.out, "setup: buildkitd failed")
	assert.Contains(t, r.out, "buildkitd broke", "the end of the log is shown")
}

func TestSetupUsage(t *testing.T) {
	out, err := exec.Command("./setup.sh", "nonsense").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.ExitCode())
	assert.Contains(t, string(out), "usage: scripts/setup.sh build|up")
}

func TestSetupInterrupted(t *testing.T) {
	dir := t.TempDir()
	steps := filepath.Join(dir, "steps.sh")
	require.NoError(t, os.WriteFile(steps, []byte(fakeSteps), 0o644))
	order := filepath.Join(dir, "order.log")
	cmd := exec.Command("./setup.sh", "build")
	cmd.Env = append(os.Environ(), "INCEPTION_SETUP_STEPS="+steps, "ORDER="+order, "BIN="+filepath.Join(dir, "bin"),
		"STEP_buildkitd_SLEEP=30", "STEP_base_SLEEP=30")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(order)
		return strings.Contains(string(data), "start base")
	}, time.Minute, 50*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	t0 := time.Now()
	err := cmd.Wait()
	assert.Less(t, time.Since(t0), 15*time.Second, "the steps' 30 s sleeps were stopped, not waited for")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, out.String())
	assert.Equal(t, 130, exit.ExitCode())
	assert.Contains(t, out.String(), "setup: interrupted; stopped: buildkitd base\n")
	assert.NotContains(t, out.String(), "Terminated", "no job reports")
	data, _ := os.ReadFile(order)
	assert.NotContains(t, string(data), "end buildkitd", "the running steps were stopped, not left behind")
	assert.NotContains(t, string(data), "end base")
}

// A package dpkg has never heard of (every package on a fresh machine) is
// missing, not an error: dpkg-query exits 1 for it.
func TestDepsMissingUnknownPackages(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("deps.sh runs as root only")
	}
	fake := t.TempDir()
	// dpkg-query as on a fresh machine: knows curl only, exits 1 for the rest.
	script := "#!/bin/sh\necho 'curl installed'\necho 'dpkg-query: no packages found matching runc' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(fake, "dpkg-query"), []byte(script), 0o755))
	cmd := exec.Command("./deps.sh", "missing", "run")
	cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "stderr: %s", stderr.String())
	missing := strings.Fields(string(out))
	assert.Contains(t, missing, "containerd")
	assert.Contains(t, missing, "runc")
	assert.NotContains(t, missing, "curl")
}
