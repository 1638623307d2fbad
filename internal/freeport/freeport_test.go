package freeport

import (
	"net"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRange(t *testing.T) {
	ports, err := Range(3)
	require.NoError(t, err)
	require.Len(t, ports, 3)
	for i, p := range ports {
		if i > 0 {
			assert.Equal(t, ports[i-1]+1, p, "consecutive")
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		require.NoError(t, err, "port %d is free", p)
		l.Close()
	}
}

// A port found free and closed again may come back from the kernel at once;
// Range never returns one twice.
func TestRangeNeverTwice(t *testing.T) {
	seen := map[int]bool{}
	for range 200 {
		ports, err := Range(1)
		require.NoError(t, err)
		require.False(t, seen[ports[0]], "port %d returned twice", ports[0])
		seen[ports[0]] = true
	}
	ports, err := Range(3)
	require.NoError(t, err)
	for _, p := range ports {
		assert.False(t, seen[p], "port %d returned twice", p)
	}
}

func TestRangeBad(t *testing.T) {
	_, err := Range(0)
	assert.ErrorContains(t, err, "at least 1")
}

// Outgoing connections take their local ports from the ephemeral range:
// the ports given come from below it.
func TestRangeBelowEphemeral(t *testing.T) {
	start := ephemeralStart()
	require.Greater(t, start, lowest+10, "/proc/sys/net/ipv4/ip_local_port_range on this machine")
	for range 50 {
		ports, err := Range(3)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, ports[0], lowest)
		assert.Less(t, ports[2], start)
	}
}
