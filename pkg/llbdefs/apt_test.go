package llbdefs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	debbase "github.com/inceptionctl/inception/pkg/base"
)

// TestAptScript runs the apt-get exec's script with a fake apt-get that
// logs its calls, its lists and stamp in a scratch directory: apt-get
// update runs when the lists are missing or the stamp is an hour old, not
// when they are fresh, and again when an install with fresh lists fails.
func TestAptScript(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lists     bool          // a Packages file in the lists
		stamp     time.Duration // age of the stamp; 0: none
		failFirst bool          // the first install fails
		want      []string
	}{
		{"no lists", false, 0, false, []string{"update", "install less"}},
		{"lists, no stamp", true, 0, false, []string{"update", "install less"}},
		{"fresh lists", true, time.Minute, false, []string{"install less"}},
		{"lists an hour old", true, 61 * time.Minute, false, []string{"update", "install less"}},
		{"stamp without lists", false, time.Minute, false, []string{"update", "install less"}},
		{"fresh lists, a version gone", true, time.Minute, true, []string{"install failed", "update", "install less"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			lists, stamp := filepath.Join(dir, "lists"), filepath.Join(dir, "cache", "stamp")
			require.NoError(t, os.MkdirAll(lists, 0o755))
			require.NoError(t, os.MkdirAll(filepath.Dir(stamp), 0o755))
			if tc.lists {
				require.NoError(t, os.WriteFile(filepath.Join(lists, "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"), nil, 0o644))
			}
			if tc.stamp > 0 {
				require.NoError(t, os.WriteFile(stamp, nil, 0o644))
				old := time.Now().Add(-tc.stamp)
				require.NoError(t, os.Chtimes(stamp, old, old))
			}
			bin := filepath.Join(dir, "bin")
			require.NoError(t, os.MkdirAll(bin, 0o755))
			log := filepath.Join(dir, "calls")
			fail := ""
			if tc.failFirst {
				fail = `[ -e ` + dir + `/failed ] || { touch ` + dir + `/failed; echo "install failed" >> ` + log + `; exit 100; }`
			}
			fake := "#!/bin/sh\ncase \"$1\" in\nupdate) echo update >> " + log + " ;;\n" +
				"install) " + fail + "\n  shift 5; echo \"install $*\" >> " + log + " ;;\nesac\n"
			require.NoError(t, os.WriteFile(filepath.Join(bin, "apt-get"), []byte(fake), 0o755))

			script := strings.NewReplacer(aptLists, lists, aptListStamp, stamp).Replace(aptScript())
			cmd := exec.Command("/bin/sh", "-c", script, "apt-install", "less")
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			calls, err := os.ReadFile(log)
			require.NoError(t, err)
			assert.Equal(t, tc.want, strings.Split(strings.TrimSpace(string(calls)), "\n"), "apt-get calls")
			if len(tc.want) > 1 {
				st, err := os.Stat(stamp)
				require.NoError(t, err, "an update leaves the stamp")
				assert.WithinDuration(t, time.Now(), st.ModTime(), time.Minute)
			}
		})
	}
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
