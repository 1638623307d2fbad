// Package freeport finds TCP ports on the loopback address that nobody
// listens on, for stacks that publish on 127.0.0.1 next to the user's own.
package freeport

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

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

// try binds n consecutive ports from one the kernel picks, and returns them
// when all were free and none was given before; nil when not.
func try(n int) ([]int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
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
