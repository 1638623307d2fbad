package llbdefs

import (
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// vsftpdFiles are the vsftpd image's config, entrypoint and health check,
// as they land in the image.
//
//go:embed files/vsftpd
var vsftpdFiles embed.FS

// Where the vsftpd image's own files go.
const (
	vsftpdEntrypoint = "/usr/local/bin/vsftpd-entrypoint"
	vsftpdHealth     = "/usr/local/bin/vsftpd-health"
	vsftpdConfDir    = "/etc/vsftpd/inception"
	// vsftpdRunConf is the config the entrypoint renders at every start.
	vsftpdRunConf = "/run/vsftpd/vsftpd.conf"
	// vsftpdAccountsDir keeps the image's own /etc/passwd and /etc/shadow;
	// vsftpdRunAccounts is where the entrypoint copies them, with the FTP
	// user added, and where the image's /etc/passwd and /etc/shadow point.
	vsftpdAccountsDir = "/etc/vsftpd/accounts"
	vsftpdRunAccounts = "/run/vsftpd/etc"
)

// Defaults of the vsftpd image's environment: the passive range the stack
// publishes and the address announced in PASV replies.
const (
	vsftpdPasvMin     = 21100
	vsftpdPasvMax     = 21110
	vsftpdPasvAddress = "127.0.0.1"
)

// vsftpdDistro is what differs between distros for vsftpd.
type vsftpdDistro struct {
	packages []string
	// wwwData is the uid and gid of the distro's www-data, the owner of the
	// WordPress files volume, that the FTP user shares.
	wwwData int
}

func vsftpdOn(d Distro) (vsftpdDistro, error) {
	switch d.Family() {
	case FamilyDebian:
		// openssl: the FTP user's password hash and the self-signed
		// certificate for FTPS. netcat-openbsd: the health check's TCP
		// client.
		return vsftpdDistro{
			packages: []string{"vsftpd", "tini", "openssl", "netcat-openbsd"},
			wwwData:  33,
		}, nil
	case FamilyAlpine:
		// The health check uses busybox's nc.
		return vsftpdDistro{
			packages: []string{"vsftpd", "tini", "openssl"},
			wwwData:  82,
		}, nil
	default:
		return vsftpdDistro{}, ErrNoDistro
	}
}

// Vsftpd returns the vsftpd image: FTP into the WordPress files volume at
// /var/www/html, for one user (FTP_USER, password from the ftp_password
// secret) chrooted there, passive mode only, explicit FTPS with FTP_TLS=1.
// The user shares www-data's uid and gid, so uploads belong to www-data.
//
//	img, err := llbdefs.Vsftpd(llbdefs.WithDistro(llbdefs.Alpine()))
func Vsftpd(opts ...Option) (Image, error) {
	fsys, err := fs.Sub(vsftpdFiles, "files/vsftpd")
	if err != nil {
		return Image{}, fmt.Errorf("vsftpd files: %w", err)
	}
	return vsftpd(fsys, opts...)
}

// vsftpd builds the image from the files in fsys, the seam tests use to
// change one file.
func vsftpd(fsys fs.FS, opts ...Option) (Image, error) {
	const name = "vsftpd"
	c, err := newConfig(opts)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	vd, err := vsftpdOn(c.distro)
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}
	l := c.distro.Layout()

	config, err := fileLayer("vsftpd: config and scripts", fsys, []file{
		{src: "vsftpd-entrypoint", dst: vsftpdEntrypoint, mode: 0o755},
		{src: "vsftpd-health", dst: vsftpdHealth, mode: 0o755},
		{src: "vsftpd.conf", dst: vsftpdConfDir + "/vsftpd.conf", mode: 0o644},
		{src: "tls.conf", dst: vsftpdConfDir + "/tls.conf", mode: 0o644},
	})
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w", name, err)
	}

	st := base(name, c).With(
		c.distro.Install(name, vd.packages...),
		vsftpdAccounts(name),
		withLayer("vsftpd: add config layer", config),
	)

	img := baseConfig(name, c.base)
	img.Config.Entrypoint = []string{l.Tini, "--", vsftpdEntrypoint}
	img.Config.Cmd = []string{"vsftpd", vsftpdRunConf}
	img.Config.Env = append(img.Config.Env,
		"FTP_PASV_MIN="+strconv.Itoa(vsftpdPasvMin),
		"FTP_PASV_MAX="+strconv.Itoa(vsftpdPasvMax),
		"FTP_PASV_ADDRESS="+vsftpdPasvAddress,
		"FTP_TLS=0",
		"FTP_OWNER_UID="+strconv.Itoa(vd.wwwData),
		"FTP_OWNER_GID="+strconv.Itoa(vd.wwwData),
	)
	ports := map[string]struct{}{"21/tcp": {}}
	for p := vsftpdPasvMin; p <= vsftpdPasvMax; p++ {
		ports[strconv.Itoa(p)+"/tcp"] = struct{}{}
	}
	img.Config.ExposedPorts = ports
	img.Config.Volumes = map[string]struct{}{wwwRoot: {}}
	// vsftpd has no graceful stop of its own: SIGTERM ends the listener,
	// sessions in flight end with the container.
	img.Config.StopSignal = "SIGTERM"
	img.Config.Labels[ocispec.AnnotationDescription] = "FTP access to the WordPress files of the Inception stack: vsftpd, passive mode, optional explicit FTPS"
	img.Config.Healthcheck = &dockerspec.HealthcheckConfig{
		Test: []string{"CMD", vsftpdHealth},
		// Every check is an FTP session, and vsftpd logs each connection
		// (a "CONNECT: Client "127.0.0.1"" line): check every 30 s once
		// up, every 2 s while starting. Nothing waits on vsftpd's health.
		Interval:      30 * time.Second,
		Timeout:       6 * time.Second,
		StartPeriod:   10 * time.Second,
		StartInterval: 2 * time.Second,
		Retries:       3,
	}
	return Image{Name: name, State: st, Config: img}, nil
}

// vsftpdAccounts readies the image for a read-only root filesystem. The FTP
// user is named at run time, and vsftpd (through PAM, or getspnam without
// it) looks it up in /etc/passwd and /etc/shadow: those become links to
// copies on /run that the entrypoint makes at every start, from the
// originals kept in vsftpdAccountsDir, with the FTP user added. The
// distro's nologin, the FTP user's shell, joins /etc/shells here, once:
// PAM's pam_shells (and vsftpd without PAM) refuse a user whose shell is not
// listed. It changes files the packages own, so it stays in the package
// chain rather than in the merged config layer.
func vsftpdAccounts(image string) llb.StateOption {
	script := `set -eu
mkdir -p ` + vsftpdAccountsDir + `
for f in passwd shadow; do
    cp -p /etc/$f ` + vsftpdAccountsDir + `/$f
    ln -sf ` + vsftpdRunAccounts + `/$f /etc/$f
done
for s in /usr/sbin/nologin /sbin/nologin; do
    if [ -x "$s" ]; then
        grep -qxF "$s" /etc/shells || echo "$s" >>/etc/shells
        exit 0
    fi
done
echo "no nologin program in /usr/sbin or /sbin" >&2
exit 1`
	return func(s llb.State) llb.State {
		return s.Run(llb.Args([]string{"/bin/sh", "-c", script}),
			llb.WithCustomNamef("%s: accounts on /run, nologin in /etc/shells", image)).Root()
	}
}
