// Package freeport finds TCP ports on the loopback address that nobody
// listens on, for stacks that publish on 127.0.0.1 next to the user's own.
//
// The ports come from below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range) where there is room: a published port is
// not bound on the host (a DNAT rule forwards it), so the kernel would hand
// a port of that range to an outgoing connection as its local port, whose
// TIME_WAIT then makes the next check of the port, or the next up, find it
// taken.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// lowest is the lowest port Range returns below the ephemeral range.
const lowest = 10000

// given holds every port Range has returned in this process. A port found
// free and closed again is free for the kernel to hand out once more, so
// two calls in a row could return the same port; Range never returns a
// port twice.
var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Range returns n consecutive TCP ports free on 127.0.0.1 now (they may be
// taken again before the caller binds them), none of them returned before
// by this process.
func Range(n int) ([]int, error) {
	if n < 1 {
		return nil, fmt.Errorf("free ports: asked for %d, want at least 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for range 100 {
		ports, err := try(n)
		if err != nil {
			return nil, err
		}
		if ports == nil {
			continue
		}
		for _, p := range ports {
			given[p] = true
		}
		return ports, nil
	}
	return nil, fmt.Errorf("no %d consecutive free ports on 127.0.0.1", n)
}

// Port returns one TCP port free on 127.0.0.1 now, as Range(1) does.
func Port() (int, error) {
	ports, err := Range(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// ephemeralStart is the first port of the kernel's ephemeral range, 0 when
// it cannot be read.
func ephemeralStart() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 0
	}
	start, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return start
}

// try binds n consecutive ports from a random one below the ephemeral
// range (or from one the kernel picks, where there is no room below it),
// and returns them when all were free and none was given before; nil when
// not.
func try(n int) ([]int, error) {
	addr := "127.0.0.1:0"
	if start := ephemeralStart(); start-n > lowest {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(lowest+rand.IntN(start-n-lowest)))
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		if addr != "127.0.0.1:0" {
			return nil, nil // taken: another try
		}
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	first := l.Addr().(*net.TCPAddr).Port
	ls := []net.Listener{l}
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	if first+n-1 > 65535 {
		return nil, nil
	}
	for p := first + 1; p < first+n; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return nil, nil
		}
		ls = append(ls, l)
	}
	ports := make([]int, n)
	for i := range ports {
		ports[i] = first + i
		if given[ports[i]] {
			return nil, nil
		}
	}
	return ports, nil
}
