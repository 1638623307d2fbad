package runtime

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
)

// ServiceReport is one line of ps.
type ServiceReport struct {
	Service   string `json:"service"`
	Container string `json:"container"`
	// Image is the image the container was made from, ImageDigest its
	// manifest digest then (a registry's digest when up pulled it).
	Image       string        `json:"image,omitempty"`
	ImageDigest string        `json:"imageDigest,omitempty"`
	State       ServiceStatus `json:"state"`
	Health      HealthStatus  `json:"health"`
	Restarts    int           `json:"restarts"`
	Ports       []PortMapping `json:"ports,omitempty"`
	IP          string        `json:"ip"`
	PID         uint32        `json:"pid,omitempty"`
	StartedAt   time.Time     `json:"startedAt,omitzero"`
	Uptime      time.Duration `json:"uptime,omitempty"` // running services only
	ExitCode    *uint32       `json:"exitCode,omitempty"`
}

// PortsString renders the ports as docker compose ps does:
// 127.0.0.1:8443->443/tcp, and a run of consecutive ports with the same host
// address, protocol and offset between host and container port as one range,
// 0.0.0.0:21100-21110->21100-21110/tcp. Ranges are sorted by address,
// protocol and host port.
func (s ServiceReport) PortsString() string {
	ps := slices.Clone(s.Ports)
	slices.SortStableFunc(ps, func(a, b PortMapping) int {
		return cmp.Or(cmp.Compare(a.HostIP, b.HostIP), cmp.Compare(a.Protocol, b.Protocol),
			cmp.Compare(a.HostPort, b.HostPort), cmp.Compare(a.ContainerPort, b.ContainerPort))
	})
	var out []string
	for i := 0; i < len(ps); {
		first, j := ps[i], i+1
		for j < len(ps) && ps[j].HostIP == first.HostIP && ps[j].Protocol == first.Protocol &&
			ps[j].HostPort == ps[j-1].HostPort+1 && ps[j].ContainerPort == ps[j-1].ContainerPort+1 {
			j++
		}
		last := ps[j-1]
		if j-i == 1 {
			out = append(out, fmt.Sprintf("%s:%d->%d/%s", first.HostIP, first.HostPort, first.ContainerPort, first.Protocol))
		} else {
			out = append(out, fmt.Sprintf("%s:%d-%d->%d-%d/%s", first.HostIP, first.HostPort, last.HostPort,
				first.ContainerPort, last.ContainerPort, first.Protocol))
		}
		i = j
	}
	return strings.Join(out, ", ")
}

// PS reports every service of the stack that has a container, in stack
// order: the task's state from containerd, health, restarts and exits
// from the state file. When services that should run have no supervisor
// (it was killed, or died), PS starts it again, so that looking at a
// stack is enough to have its restarts and health checks back.
func (r *Runtime) PS(ctx context.Context, stackName string) ([]ServiceReport, error) {
	cs, err := r.listContainers(ctx, stackName)
	if err != nil {
		return nil, err
	}
	s, err := r.paths(stackName).store().read()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []ServiceReport
	for n, sc := range cs {
		ss := s.service(n)
		rep := ServiceReport{Service: n, Container: sc.c.ID(), Ports: sc.info.ports, IP: sc.info.ip,
			Restarts: ss.Restarts, ExitCode: ss.ExitCode, Health: HealthNone, State: StatusCreated,
			ImageDigest: sc.info.imageDigest}
		if info, err := sc.c.Info(ctx, containerd.WithoutRefreshedMetadata); err == nil {
			rep.Image = info.Image
		}
		st, task, err := taskState(ctx, sc.c)
		if err != nil {
			return nil, err
		}
		switch st.Status {
		case containerd.Running, containerd.Paused, containerd.Pausing:
			rep.State, rep.PID = StatusRunning, task.Pid()
			rep.Health = ss.Health
			if rep.Health == "" || (sc.info.health != nil && rep.Health == HealthNone) {
				rep.Health = HealthStarting
			}
			if sc.info.health == nil {
				rep.Health = HealthNone
			}
			if ss.PID == task.Pid() && !ss.StartedAt.IsZero() {
				rep.StartedAt = ss.StartedAt
				rep.Uptime = now.Sub(ss.StartedAt).Round(time.Second)
			}
			rep.ExitCode = nil
		case containerd.Stopped:
			rep.State = StatusExited
			if ss.Status == StatusRestarting || ss.Status == StatusStopped {
				rep.State = ss.Status
			}
			code := st.ExitStatus
			rep.ExitCode = &code
		default:
			if ss.Status == StatusStopped || ss.Status == StatusExited || ss.Status == StatusRestarting {
				rep.State = ss.Status
			}
		}
		out = append(out, rep)
	}
	sort.Slice(out, func(i, j int) bool { return cs[out[i].Service].info.index < cs[out[j].Service].info.index })
	r.reviveSupervisor(ctx, stackName, out)
	return out, nil
}
