package llbdefs

import (
	"cmp"
	"context"
	_ "embed" // policy-rc.d
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/util/system"
)

// policyRCD denies service starts while Debian packages install; see
// files/debian/policy-rc.d.
//
//go:embed files/debian/policy-rc.d
var policyRCD []byte

// fileEpoch is the modification time of every file llbdefs writes
// (2000-01-01T00:00:00Z). A fixed time keeps a config layer's content the
// same from one build to the next.
const fileEpoch = 946684800

// base is the distro's base image. It is resolved locally first: the
// project imports its own base into containerd and there is no registry.
// PATH is set here rather than read from the base image's config (which
// would take a resolver, that is I/O), so every exec sees the same PATH
// whatever the base or the BuildKit version. Every exec also sees the base
// image's SOURCE_DATE_EPOCH, which tools that write dates into files
// (compilers, archivers) use instead of the clock.
func base(image string, c config) llb.State {
	return baseState(c.base, llb.WithCustomNamef("%s: base %s", image, c.base))
}

func baseState(ref string, name llb.ConstraintsOpt) llb.State {
	return llb.Image(ref, llb.ResolveModePreferLocal, name).
		AddEnv("PATH", system.DefaultPathEnvUnix).
		AddEnv("SOURCE_DATE_EPOCH", strconv.FormatInt(sourceDateEpoch, 10))
}

// sourceDateEpoch is the base image's creation time (pkg/base).
const sourceDateEpoch = 1704067200

// Install installs pkgs with the distro's package manager, in one exec on
// top of the state, for the image named image. Nothing the package manager
// downloads lands in the layer.
//
// On Debian the package lists come from one apt-get update shared by every
// image built from the same base (aptListsState): the seven images of a
// stack fetch them once, not seven times. Each install gets its own
// writable copy of them, and runs apt-get update itself only when an
// install with them fails (a version gone from the mirror since). Downloaded
// packages stay in a persistent cache mount at /var/cache/apt, one per image
// ("inception-apt-cache-nginx") and locked: images that build in parallel
// never wait on each other's cache, and only two builds of the same image
// take turns. dpkg runs with --force-unsafe-io: it does not fsync every
// file it unpacks, which would only protect a build that BuildKit throws
// away if it crashes. Alpine runs apk add --no-cache.
//
//	st := llb.Image(llbdefs.DebianRef).With(llbdefs.Debian().Install("redis", "redis-server", "tini"))
//
// An empty package list or the zero Distro makes the state fail to marshal.
// Packages added with WithExtraPackages join pkgs; those added with
// WithExtraPackageStep are installed in a second exec on top of the first.
func (d Distro) Install(image string, pkgs ...string) llb.StateOption {
	if len(pkgs) == 0 {
		return failed(fmt.Errorf("install packages for %s: empty package list", image))
	}
	x := d.extra
	switch {
	case x == nil:
		return d.install(image, "install packages", pkgs)
	case !x.ownStep:
		return d.install(image, "install packages", append(slices.Clone(pkgs), x.pkgs...))
	}
	first, extra := d.install(image, "install packages", pkgs), d.install(image, "install extra packages", x.pkgs)
	return func(s llb.State) llb.State { return s.With(first, extra) }
}

// install is one package manager exec, named "<image>: <step>".
func (d Distro) install(image, step string, pkgs []string) llb.StateOption {
	name := llb.WithCustomNamef("%s: %s", image, step)
	switch d.family {
	case FamilyDebian:
		return func(s llb.State) llb.State {
			return s.Run(debianInstall(image, d.ref, pkgs), name).Root()
		}
	case FamilyAlpine:
		args := append([]string{"apk", "add", "--no-cache"}, pkgs...)
		return func(s llb.State) llb.State {
			return s.Run(llb.Args(args), name).Root()
		}
	default:
		return failed(fmt.Errorf("install packages for %s: %w", image, ErrNoDistro))
	}
}

// debianInstall is the apt-get exec. The package names reach apt-get as
// arguments of the script ("$@"), never spliced into shell text.
func debianInstall(image, baseRef string, pkgs []string) llb.RunOption {
	// The base image tells apt to delete downloaded .deb files (no image
	// should carry them). Here /var/cache/apt is a cache mount, not part of
	// the layer, so keeping them makes a package change re-install from the
	// cache instead of downloading everything again.
	// The cleanup is not part of aptScript: that one is also run on the
	// host by the tests, with a fake apt-get.
	script := aptScript() + " && " + aptCleanup
	// The system users and groups the packages create exist before
	// dpkg runs, with fixed ids (accounts.go).
	if users := accountsScript(accountsFor(pkgs)); users != "" {
		script = users + " && " + script
	}
	for _, p := range pkgs {
		if dirs, ok := postinstState[p]; ok {
			script += " && rm -rf " + strings.Join(dirs, " ")
		}
	}
	policy := llb.Scratch().File(
		llb.Mkfile("/policy-rc.d", 0o755, policyRCD,
			llb.WithUIDGID(0, 0), llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())),
		llb.WithCustomNamef("%s: policy-rc.d, no services start during install", image))
	return runOptions{
		llb.Args(append([]string{"/bin/sh", "-c", script, "apt-install"}, pkgs...)),
		llb.AddEnv("DEBIAN_FRONTEND", "noninteractive"),
		llb.AddMount("/var/cache/apt", llb.Scratch(),
			llb.AsPersistentCacheDir("inception-apt-cache-"+image, llb.CacheMountLocked)),
		// Writable: apt-get takes its lock there, and updates the lists
		// when an install fails; what it writes is thrown away.
		llb.AddMount(aptLists, aptListsState(image, baseRef)),
		// BuildKit removes the mount point it creates afterwards: the file
		// is in no layer.
		llb.AddMount("/usr/sbin/policy-rc.d", policy, llb.SourcePath("/policy-rc.d"), llb.Readonly),
	}
}

// aptLists is where apt keeps the package lists.
const aptLists = "/var/lib/apt/lists"

// aptListsState is the package lists of the base image ref, fetched by one
// apt-get update. It is the same vertex for every image built from ref, so
// BuildKit runs it once for all the images that build together, and keeps
// it in its build cache like any step: a later install uses the lists of
// the first build until the cache is pruned (as a Dockerfile's cached
// "RUN apt-get update" would); an install that fails with them fetches
// them again (aptScript).
func aptListsState(image, ref string) llb.State {
	// The base vertex is the image's own (the same op), so it keeps the
	// image's name for it.
	return baseState(ref, llb.WithCustomNamef("%s: base %s", image, ref)).
		Run(llb.Args([]string{"apt-get", "update"}),
			llb.WithCustomName("apt: package lists, fetched once for every image")).
		AddMount(aptLists, llb.Scratch())
}

// aptInstallArgs is the apt-get install command line before the package
// names. Downloaded .deb files stay in the cache mount (see debianInstall).
const aptInstallArgs = `apt-get install -y --no-install-recommends -o APT::Keep-Downloaded-Packages=true -o Dpkg::Options::=--force-unsafe-io`

// aptScript installs "$@" with the package lists it finds, and when that
// fails (a version gone from the mirror since the lists were fetched, or no
// lists at all), once more after apt-get update.
func aptScript() string {
	install := aptInstallArgs + ` "$@"`
	return `{ ` + install + ` || { apt-get update && ` + install + `; }; }`
}

// postinstState is what a package's maintainer scripts generate at install
// time, different from one run to the next, and that the image does not
// keep anyway: mariadb-server's postinst initialises a database in
// /var/lib/mysql, which the mariadb image empties in a later step (the
// entrypoint initialises it on first start). Removed in the install exec
// itself, it never reaches the install layer.
var postinstState = map[string][]string{
	"mariadb-server": {"/var/lib/mysql/*"},
}

// aptCleanup removes what an install writes that differs from one run to
// the next and that nothing reads: apt and dpkg logs, ldconfig's auxiliary
// cache (inode numbers and times), the backups dpkg, debconf and the
// user tools keep of the files they rewrite, and the random machine id a
// package's postinst generates (no image runs systemd or D-Bus).
const aptCleanup = `rm -rf /var/log/apt/* /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache ` +
	`/var/lib/dpkg/*-old /var/cache/debconf/*-old /etc/passwd- /etc/group- /etc/shadow- /etc/gshadow- /etc/subuid- /etc/subgid- ` +
	`/etc/machine-id /var/lib/dbus/machine-id`

// runOptions groups several run options into one.
type runOptions []llb.RunOption

func (ro runOptions) SetRunOption(ei *llb.ExecInfo) {
	for _, o := range ro {
		o.SetRunOption(ei)
	}
}

// failed is a StateOption whose state fails to marshal with err: how a
// StateOption reports a mistake without breaking the chain it is used in.
func failed(err error) llb.StateOption {
	return func(s llb.State) llb.State {
		return s.Async(func(context.Context, llb.State, *llb.Constraints) (llb.State, error) {
			return llb.State{}, err
		})
	}
}

// file is one embedded file placed into an image.
type file struct {
	src  string      // path in the image's file set
	dst  string      // absolute path in the image
	mode os.FileMode // permission bits
}

// fileLayer writes files into a fresh, empty layer, with every directory
// they need, all owned by root and dated fileEpoch. Nothing in it depends on
// the packages below it, so it is built, cached and shipped on its own.
//
// The vertex, hence the cache key, depends on the files only. The layer's
// bytes are not fully fixed: writing a child moves its directory's mtime to
// the build's clock. Byte-identical layers also need the exporter's
// rewrite-timestamp with a source date epoch (pkg/build).
func fileLayer(name string, fsys fs.FS, files []file) (llb.State, error) {
	created := llb.WithCreatedTime(time.Unix(fileEpoch, 0).UTC())
	root := llb.WithUIDGID(0, 0)

	// Every ancestor directory explicitly and with fixed metadata: in a
	// merge, this layer's /etc or /usr/local/bin stands for the whole
	// directory's metadata. Sorted, a parent comes before its children.
	var dirs []string
	for _, f := range files {
		for d := path.Dir(f.dst); d != "/" && !slices.Contains(dirs, d); d = path.Dir(d) {
			dirs = append(dirs, d)
		}
	}
	slices.Sort(dirs)

	var fa *llb.FileAction
	for _, d := range dirs {
		if fa == nil {
			fa = llb.Mkdir(d, 0o755, root, created)
			continue
		}
		fa = fa.Mkdir(d, 0o755, root, created)
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b file) int { return cmp.Compare(a.dst, b.dst) })
	for _, f := range files {
		dt, err := fs.ReadFile(fsys, f.src)
		if err != nil {
			return llb.State{}, fmt.Errorf("%w %s for %s: %w", ErrMissingFile, f.src, f.dst, err)
		}
		if fa == nil {
			fa = llb.Mkfile(f.dst, f.mode, dt, root, created)
			continue
		}
		fa = fa.Mkfile(f.dst, f.mode, dt, root, created)
	}
	if fa == nil {
		return llb.Scratch(), nil
	}
	return llb.Scratch().File(fa, llb.WithCustomName(name)), nil
}

// withLayer puts layer on top of the state with a merge, not a copy: the
// layer keeps its own cache key, so changing it never re-runs what is below.
// Only for layers that touch no package database (see design.md: merged
// dpkg status files lose packages).
func withLayer(name string, layer llb.State) llb.StateOption {
	return func(s llb.State) llb.State {
		return llb.Merge([]llb.State{s, layer}, llb.WithCustomName(name))
	}
}
