package llbdefs

// holderPath is holder (files/holder/holder, Perl): the main process of the
// services that run under it, which starts their command again at once, in
// the same container, when it dies without having been asked to stop, and
// for php-fpm also holds its listening socket (--fpm-port).
const holderPath = "/usr/local/bin/holder"

// holderFiles is holder for the images that run their service under it:
// Debian's, which have Perl (perl-base is Essential). Alpine's have none;
// there the service stays tini's child, and a crash of it restarts the
// container.
func holderFiles(d Distro) []file {
	if d.Family() != FamilyDebian {
		return nil
	}
	return []file{{src: "holder/holder", dst: holderPath, mode: 0o755}}
}
