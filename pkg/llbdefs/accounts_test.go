package llbdefs

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The accounts an install exec creates, as its script spells them.
var (
	groupaddRe = regexp.MustCompile(`groupadd --system --gid (\d+) ([a-z-]+);`)
	useraddRe  = regexp.MustCompile(`useradd --system --no-log-init --uid (\d+) --gid (\d+) [^;]* ([a-z-]+); }`)
)

// TestSystemAccountsFixedIDs: on Debian, each image's install exec creates
// the system users and groups its packages create, with their fixed ids,
// before apt-get runs; the same account has the same id in every image;
// images whose packages create none get no account step, nor do the Alpine
// graphs.
func TestSystemAccountsFixedIDs(t *testing.T) {
	systemd := map[string]int{"systemd-network": 998}
	systemdGroups := map[string]int{"systemd-network": 998, "systemd-journal": 999}
	want := map[string]struct{ users, groups map[string]int }{
		"mariadb":   {map[string]int{"mysql": 997}, map[string]int{"mysql": 997}},
		"redis":     {map[string]int{"redis": 996}, map[string]int{"redis": 996}},
		"vsftpd":    {map[string]int{"ftp": 995}, map[string]int{"ftp": 995}},
		"adminer":   {systemd, systemdGroups},
		"wordpress": {systemd, systemdGroups},
		"nginx":     {map[string]int{}, map[string]int{}},
		"static":    {map[string]int{}, map[string]int{}},
	}
	for _, ti := range testImages() {
		for _, td := range testDistros() {
			t.Run(ti.name+"-"+td.name, func(t *testing.T) {
				img, err := ti.build(WithDistro(td.distro))
				require.NoError(t, err)
				g := marshalGraph(t, img)
				users, groups := map[string]int{}, map[string]int{}
				for _, d := range g.execs() {
					args := g.ops[d].GetExec().Meta.Args
					script := strings.Join(args, " ")
					for _, m := range groupaddRe.FindAllStringSubmatch(script, -1) {
						groups[m[2]] = atoi(t, m[1])
					}
					for _, m := range useraddRe.FindAllStringSubmatch(script, -1) {
						assert.Equal(t, m[1], m[2], "%s: uid and gid of its own group", m[3])
						users[m[3]] = atoi(t, m[1])
					}
					if strings.Contains(script, "useradd") || strings.Contains(script, "groupadd") {
						accounts, install := strings.Index(script, "groupadd"), strings.Index(script, "apt-get install")
						require.NotEqual(t, -1, install, "accounts are made in the install exec %q", g.names[d])
						assert.Less(t, accounts, install, "accounts are made before apt-get runs")
					}
				}
				if td.distro.Family() == FamilyAlpine {
					assert.Empty(t, users, "Alpine users")
					assert.Empty(t, groups, "Alpine groups")
					return
				}
				assert.Equal(t, want[ti.name].users, users, "users and their uids")
				assert.Equal(t, want[ti.name].groups, groups, "groups and their gids")
			})
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestSystemAccountsTable: one id per account and one account per id, all
// in Debian's range for dynamic system accounts; every account a package
// names is in the table.
func TestSystemAccountsTable(t *testing.T) {
	names, ids := map[string]bool{}, map[int]string{}
	for _, a := range systemAccounts {
		assert.False(t, names[a.name], "%s listed twice", a.name)
		names[a.name] = true
		other, taken := ids[a.id]
		assert.False(t, taken, "id %d is both %s and %s", a.id, other, a.name)
		ids[a.id] = a.name
		assert.GreaterOrEqual(t, a.id, 100, a.name)
		assert.LessOrEqual(t, a.id, 999, a.name)
		if !a.groupOnly {
			assert.NotEmpty(t, a.home, a.name)
			assert.NotEmpty(t, a.shell, a.name)
		}
	}
	for pkg, accounts := range packageAccounts {
		for _, n := range accounts {
			assert.True(t, names[n], "package %s names unknown account %s", pkg, n)
		}
	}
}
