package llbdefs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	debbase "github.com/inceptionctl/inception/pkg/base"
)

// TestAptScript runs the apt-get exec's script with a fake apt-get that
// logs its calls: the install uses the lists it is given, and runs apt-get
// update and the install again only when the first install fails.
func TestAptScript(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failFirst bool // the first install fails
		want      []string
	}{
		{"lists good", false, []string{"install less"}},
		{"a version gone from the mirror", true, []string{"install failed", "update", "install less"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			require.NoError(t, os.MkdirAll(bin, 0o755))
			log := filepath.Join(dir, "calls")
			fail := ""
			if tc.failFirst {
				fail = `[ -e ` + dir + `/failed ] || { touch ` + dir + `/failed; echo "install failed" >> ` + log + `; exit 100; }`
			}
			// The options before the package names: install -y
			// --no-install-recommends and two -o pairs.
			fake := "#!/bin/sh\ncase \"$1\" in\nupdate) echo update >> " + log + " ;;\n" +
				"install) " + fail + "\n  shift 7; echo \"install $*\" >> " + log + " ;;\nesac\n"
			require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-get"), []byte(fake), 0o755))

			cmd := exec.Command("/bin/sh", "-c", aptScript(), "apt-install", "less")
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			calls, err := os.ReadFile(log)
			require.NoError(t, err)
			assert.Equal(t, tc.want, strings.Split(strings.TrimSpace(string(calls)), "\n"), "apt-get calls")
		})
	}
	t.Run("an install that fails twice fails the exec", func(t *testing.T) {
		bin := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-get"), []byte("#!/bin/sh\n[ \"$1\" = update ] || exit 100\n"), 0o755))
		cmd := exec.Command("/bin/sh", "-c", aptScript(), "apt-install", "less")
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		assert.Error(t, cmd.Run())
	})
}

// TestAptListsShared: every image built from the same base mounts the
// same package lists vertex, writable (apt-get locks and may update them);
// another base gets its own.
func TestAptListsShared(t *testing.T) {
	listsOf := func(opts ...Option) map[string]digest.Digest {
		got := map[string]digest.Digest{}
		for _, ti := range testImages() {
			img, err := ti.build(opts...)
			require.NoError(t, err)
			g := marshalGraph(t, img)
			for _, d := range g.execs() {
				op := g.ops[d]
				if !strings.Contains(strings.Join(op.GetExec().Meta.Args, " "), aptInstall) {
					continue
				}
				for _, m := range op.GetExec().Mounts {
					if m.Dest == aptLists {
						assert.False(t, m.Readonly, "%s: the lists are writable", ti.name)
						got[ti.name] = digest.Digest(op.Inputs[m.Input].Digest)
					}
				}
			}
			require.Contains(t, got, ti.name, "%s: its install mounts the lists", ti.name)
		}
		return got
	}
	def := listsOf()
	first := def["nginx"]
	for name, d := range def {
		assert.Equal(t, first, d, "%s mounts the same lists as nginx", name)
	}
	other := listsOf(WithBase("registry.example.com/debian:bookworm"))
	assert.NotEqual(t, first, other["nginx"], "another base, other lists")
}

// TestSourceDateEpochIsTheBase: the epoch every exec sees is the base
// image's creation time.
func TestSourceDateEpochIsTheBase(t *testing.T) {
	assert.Equal(t, int64(debbase.DefaultSourceDateEpoch), int64(sourceDateEpoch))
}

// TestAptScriptLeavesTheHostAlone: the script the tests above run on the
// host removes nothing; the cleanup is only in the image build's exec.
func TestAptScriptLeavesTheHostAlone(t *testing.T) {
	assert.NotContains(t, aptScript(), "rm ")
}

// TestAccountsScript runs the accounts script with fake getent, groupadd and
// useradd that log their calls: an account that exists is left alone, a
// missing one is made with its fixed id and the package's fields.
func TestAccountsScript(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	fakes := map[string]string{
		// ftp's user exists already, its group does not.
		"getent":   `[ "$1 $2" = "passwd ftp" ] && exit 0; exit 2`,
		"groupadd": `echo "groupadd $*" >> ` + log,
		"useradd":  `echo "useradd $*" >> ` + log,
	}
	for name, body := range fakes {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
	}
	cmd := exec.Command("/bin/sh", "-c", accountsScript(accountsFor([]string{"vsftpd", "mariadb-server", "tini"})))
	cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	calls, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"groupadd --system --gid 997 mysql",
		"useradd --system --no-log-init --uid 997 --gid 997 --no-create-home --home-dir /nonexistent --shell /bin/false --comment MySQL Server mysql",
		"groupadd --system --gid 995 ftp",
	}, strings.Split(strings.TrimSpace(string(calls)), "\n"))

	assert.Empty(t, accountsScript(accountsFor([]string{"nginx", "tini"})), "no account, no script")
}
