// Package runtime runs service containers on containerd with a private CNI
// network. This first part holds the network: one bridge per stack through
// libcni (bridge + host-local + portmap + firewall), with CNI's cache and the
// IPAM leases under the engine's state directory, so nothing of it lands in
// the host's /var/lib/cni.
//
//	nw, err := runtime.NewNetwork("inception", runtime.WithStateDir(dir))
//	ip, err := nw.Attach(ctx, id, fmt.Sprintf("/proc/%d/ns/net", pid), ports)
package runtime
