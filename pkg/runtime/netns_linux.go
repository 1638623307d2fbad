package runtime

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A service's network namespace outlives its tasks: it is created once,
// bind-mounted on a file under the run dir, joined by every task of the
// service (the spec names its path) and attached to the stack network once.
// A restarted task so keeps its address and its published ports, which is
// what nginx needs (it resolves its upstreams once, at start).

// isNetNS reports whether path is a mounted network namespace (nsfs), not a
// plain file a crash left behind.
func isNetNS(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// createNetNS makes a new network namespace with its loopback up and
// bind-mounts it on path. It returns false when path already holds one.
func createNetNS(path string) (bool, error) {
	if isNetNS(path) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("netns dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o444)
	if err != nil {
		return false, fmt.Errorf("netns file: %w", err)
	}
	f.Close()
	done := make(chan error, 1)
	// unshare(2) moves the calling thread only: do it on a locked thread
	// that is never unlocked, so Go discards the thread with the goroutine
	// even if moving it back failed.
	go func() {
		goruntime.LockOSThread()
		done <- func() error {
			orig, err := os.Open("/proc/thread-self/ns/net")
			if err != nil {
				return err
			}
			defer orig.Close()
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("unshare: %w", err)
			}
			src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
			err = unix.Mount(src, path, "none", unix.MS_BIND, "")
			if err == nil {
				err = linkUp("lo")
			}
			if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil && err == nil {
				err = fmt.Errorf("back to the host namespace: %w", serr)
			}
			return err
		}()
	}()
	if err := <-done; err != nil {
		_ = removeNetNS(path)
		return false, fmt.Errorf("create network namespace %s: %w", path, err)
	}
	return true, nil
}

// removeNetNS unmounts and removes a namespace file. Safe to repeat.
func removeNetNS(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// linkUp sets an interface of the calling thread's network namespace up.
func linkUp(name string) error {
	return setLinkFlags(name, unix.IFF_UP, 0)
}

func setLinkFlags(name string, set, clear uint16) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("flags of %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16()&^clear | set)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set flags of %s: %w", name, err)
	}
	return nil
}

// deleteBridge removes a bridge of the host (the CNI bridge plugin never
// does). A bridge that does not exist is not an error. The ioctl, like
// brctl delbr, needs the bridge down first.
func deleteBridge(name string) error {
	if err := setLinkFlags(name, 0, unix.IFF_UP); err != nil {
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			return nil
		}
		return fmt.Errorf("delete bridge %s: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	// SIOCBRDELBR takes the name itself, not an ifreq.
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCBRDELBR, uintptr(unsafe.Pointer(p))); errno != 0 {
		if errno == unix.ENXIO || errno == unix.ENODEV {
			return nil
		}
		return fmt.Errorf("delete bridge %s: %w", name, errno)
	}
	return nil
}

// arpreq is the kernel's struct arpreq (net/if_arp.h) for SIOCDARP.
type arpreq struct {
	pa      unix.RawSockaddrInet4
	ha      unix.RawSockaddr
	flags   int32
	netmask unix.RawSockaddr
	dev     [16]byte
}

// forgetNeighbor drops the host's ARP entry for ip on dev, as `ip neigh del
// IP dev DEV` does. A service attached again keeps its fixed address but
// gets a new veth, with a new MAC: the host would go on sending to the old
// one until its entry went stale (up to about a minute, in which the
// service's published ports time out). No entry is not an error.
func forgetNeighbor(dev string, ip net.IP) error {
	ip4 := ip.To4()
	if ip4 == nil || len(dev) >= 16 {
		return fmt.Errorf("forget neighbour %s on %q: not an IPv4 address and interface name", ip, dev)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var req arpreq
	req.pa.Family = unix.AF_INET
	copy(req.pa.Addr[:], ip4)
	copy(req.dev[:], dev)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCDARP, uintptr(unsafe.Pointer(&req))); errno != 0 {
		if errno == unix.ENXIO || errno == unix.ENODEV {
			return nil
		}
		return fmt.Errorf("forget neighbour %s on %s: %w", ip, dev, errno)
	}
	return nil
}
