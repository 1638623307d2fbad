package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPortsString(t *testing.T) {
	seq := func(ip string, from, to, offset int) []PortMapping {
		var ps []PortMapping
		for p := from; p <= to; p++ {
			ps = append(ps, PortMapping{HostIP: ip, HostPort: p, ContainerPort: p + offset, Protocol: TCP})
		}
		return ps
	}
	for _, tc := range []struct {
		name  string
		ports []PortMapping
		want  string
	}{
		{"none", nil, ""},
		{"one", seq("127.0.0.1", 8443, 8443, -8000), "127.0.0.1:8443->443/tcp"},
		{"a range as compose prints it", seq("0.0.0.0", 21100, 21110, 0), "0.0.0.0:21100-21110->21100-21110/tcp"},
		{"a shifted range", seq("0.0.0.0", 31100, 31102, -10000), "0.0.0.0:31100-31102->21100-21102/tcp"},
		{"given out of order",
			append(append(seq("0.0.0.0", 21102, 21103, 0), seq("0.0.0.0", 21, 21, 0)...), seq("0.0.0.0", 21100, 21101, 0)...),
			"0.0.0.0:21->21/tcp, 0.0.0.0:21100-21103->21100-21103/tcp"},
		{"a gap splits", append(seq("0.0.0.0", 100, 101, 0), seq("0.0.0.0", 103, 104, 0)...),
			"0.0.0.0:100-101->100-101/tcp, 0.0.0.0:103-104->103-104/tcp"},
		{"another offset splits", append(seq("0.0.0.0", 100, 101, 0), seq("0.0.0.0", 102, 103, 1)...),
			"0.0.0.0:100-101->100-101/tcp, 0.0.0.0:102-103->103-104/tcp"},
		{"another address splits", append(seq("0.0.0.0", 100, 101, 0), seq("127.0.0.1", 102, 103, 0)...),
			"0.0.0.0:100-101->100-101/tcp, 127.0.0.1:102-103->102-103/tcp"},
		{"another protocol splits", []PortMapping{
			{HostIP: "0.0.0.0", HostPort: 53, ContainerPort: 53, Protocol: TCP},
			{HostIP: "0.0.0.0", HostPort: 54, ContainerPort: 54, Protocol: UDP},
		}, "0.0.0.0:53->53/tcp, 0.0.0.0:54->54/udp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ServiceReport{Ports: tc.ports}.PortsString())
		})
	}
}

func TestNeedsSupervisor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states []ServiceStatus
		want   bool
	}{
		{"no service", nil, false},
		{"one running", []ServiceStatus{StatusStopped, StatusRunning}, true},
		{"one waiting out its back-off", []ServiceStatus{StatusExited, StatusRestarting}, true},
		{"all stopped by the user or exited for good", []ServiceStatus{StatusStopped, StatusExited, StatusCreated}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reps []ServiceReport
			for _, s := range tc.states {
				reps = append(reps, ServiceReport{State: s})
			}
			assert.Equal(t, tc.want, needsSupervisor(reps))
		})
	}
}
