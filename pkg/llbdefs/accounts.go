package llbdefs

import (
	"fmt"
	"slices"
	"strings"
)

// systemAccount is a system user, or a group alone, that a Debian package's
// maintainer scripts create. Left to them, it gets the next free id in
// install order (adduser counts up from 100, systemd-sysusers down from
// 999): an id that depends on what else the image installs. The install
// exec creates it first, with its fixed id, and the package's script finds
// it there and keeps it.
type systemAccount struct {
	name string
	// id is the uid and the gid of the user's own group, or the gid of a
	// group alone.
	id int
	// groupOnly: a group, no user.
	groupOnly bool
	// home, shell and gecos are what the package's script would give the
	// user, so the passwd entry reads as it would without the fixed id.
	home, shell, gecos string
}

// systemAccounts are the accounts the images' packages create, each with an
// id of its own, the same in every image that has it. The ids are at the top
// of Debian's range for dynamic system accounts (100-999), far from the low
// ids adduser hands out first to any account not listed here.
var systemAccounts = []systemAccount{
	// systemd's postinst runs systemd-sysusers (systemd-journal.conf,
	// systemd-network.conf).
	{name: "systemd-journal", id: 999, groupOnly: true},
	{name: "systemd-network", id: 998, home: "/", shell: "/usr/sbin/nologin", gecos: "systemd Network Management"},
	// mariadb-server's preinst.
	{name: "mysql", id: 997, home: "/nonexistent", shell: "/bin/false", gecos: "MySQL Server"},
	// redis-tools' postinst.
	{name: "redis", id: 996, home: "/var/lib/redis", shell: "/usr/sbin/nologin"},
	// vsftpd's postinst (its debconf default user name).
	{name: "ftp", id: 995, home: "/srv/ftp", shell: "/usr/sbin/nologin", gecos: "ftp daemon"},
}

// packageAccounts names, for a package an image installs by name, the
// accounts that it or a dependency creates. php8.2-fpm depends on systemd
// ("systemd | systemd-tmpfiles", and bookworm has no systemd-tmpfiles);
// redis-server on redis-tools.
var packageAccounts = map[string][]string{
	"mariadb-server": {"mysql"},
	"redis-server":   {"redis"},
	"vsftpd":         {"ftp"},
	"php8.2-fpm":     {"systemd-journal", "systemd-network"},
}

// accountsFor returns the system accounts pkgs create, in systemAccounts'
// order, each once.
func accountsFor(pkgs []string) []systemAccount {
	var names []string
	for _, p := range pkgs {
		names = append(names, packageAccounts[p]...)
	}
	var out []systemAccount
	for _, a := range systemAccounts {
		if slices.Contains(names, a.name) {
			out = append(out, a)
		}
	}
	return out
}

// accountsScript is the shell that creates accounts with their fixed ids,
// each unless it exists: groupadd and useradd from passwd, which the base
// holds (priority required), adduser not yet. useradd -l leaves lastlog and
// faillog alone (records that would be sized by the uid). The names and
// fields are this file's constants, not input. An id already taken by
// another account fails the exec, and the build with it.
func accountsScript(accounts []systemAccount) string {
	var cmds []string
	for _, a := range accounts {
		group := fmt.Sprintf("{ getent group %s >/dev/null || groupadd --system --gid %d %s; }", a.name, a.id, a.name)
		cmds = append(cmds, group)
		if a.groupOnly {
			continue
		}
		comment := ""
		if a.gecos != "" {
			comment = " --comment '" + a.gecos + "'"
		}
		cmds = append(cmds, fmt.Sprintf("{ getent passwd %s >/dev/null || useradd --system --no-log-init --uid %d --gid %d "+
			"--no-create-home --home-dir %s --shell %s%s %s; }", a.name, a.id, a.id, a.home, a.shell, comment, a.name))
	}
	return strings.Join(cmds, " && ")
}
