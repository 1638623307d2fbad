// Package freeport finds TCP ports on the loopback address that nobody
// listens on, for stacks that publish on 127.0.0.1 next to the user's own.
package freeport

import (
	"fmt"
	"net"
	"strconv"
)

// Range returns n consecutive TCP ports free on 127.0.0.1 now (they may be
// taken again before the caller binds them).
func Range(n int) ([]int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		first := l.Addr().(*net.TCPAddr).Port
		ls := []net.Listener{l}
		ok := first+n-1 <= 65535
		for p := first + 1; ok && p < first+n; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			ports := make([]int, n)
			for i := range ports {
				ports[i] = first + i
			}
			return ports, nil
		}
	}
	return nil, fmt.Errorf("no %d consecutive free ports on 127.0.0.1", n)
}
