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
