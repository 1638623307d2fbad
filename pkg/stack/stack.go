package stack

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// ErrUnknownService is returned for a service name the stack does not have.
var ErrUnknownService = errors.New("unknown service")

// DefaultRegistry prefixes image names, so `nginx:bookworm` is stored as
// docker.io/library/nginx:bookworm as containerd and BuildKit normalise it.
const DefaultRegistry = "docker.io/library/"

// ImageFunc makes a service's image graph.
type ImageFunc func(opts ...llbdefs.Option) (llbdefs.Image, error)

// Stack is a named set of services.
type Stack struct {
	Name     string
	Services []Service
	// SecretFiles maps secret names to host files; a secret not in it is
	// read from the runtime's secrets directory.
	SecretFiles map[string]string
}

// Default returns the Inception stack.
func Default() Stack {
	return Stack{
		Name: "inception",
		Services: []Service{
			{Name: "nginx", Image: llbdefs.Nginx},
			{Name: "wordpress", Image: llbdefs.WordPress},
			{Name: "adminer", Image: llbdefs.Adminer},
			{Name: "vsftpd", Image: llbdefs.Vsftpd},
			{Name: "static", Image: llbdefs.Static},
			{Name: "mariadb", Image: llbdefs.MariaDB},
			{Name: "redis", Image: llbdefs.Redis},
		},
	}
}

// Names lists the stack's service names in order.
func (s Stack) Names() []string {
	names := make([]string, len(s.Services))
	for i, svc := range s.Services {
		names[i] = svc.Name
	}
	return names
}

// Select returns the named services, or all of them when names is empty.
// Every unknown name is reported at once with the names that exist.
func (s Stack) Select(names []string) ([]Service, error) {
	if len(names) == 0 {
		return s.Services, nil
	}
	byName := map[string]Service{}
	for _, svc := range s.Services {
		byName[svc.Name] = svc
	}
	var out []Service
	var unknown []string
	seen := map[string]bool{}
	for _, n := range names {
		svc, ok := byName[n]
		switch {
		case !ok:
			unknown = append(unknown, n)
		case !seen[n]:
			seen[n] = true
			out = append(out, svc)
		}
	}
	if len(unknown) > 0 {
		known := s.Names()
		sort.Strings(known)
		return nil, fmt.Errorf("%w %s: the stack has %s", ErrUnknownService, quoteList(unknown), strings.Join(known, ", "))
	}
	return out, nil
}

// ImageRef is the name a service's image is stored under. The tag is never
// "latest": an image name says what it was built from.
func ImageRef(service, tag string) (string, error) {
	if tag == "" || tag == "latest" {
		return "", fmt.Errorf("image tag %q: give an explicit tag other than latest", tag)
	}
	return DefaultRegistry + service + ":" + tag, nil
}

// Targets marshals the services' images into build targets.
func Targets(ctx context.Context, svcs []Service, tag string, opts ...llbdefs.Option) ([]build.Target, error) {
	out := make([]build.Target, 0, len(svcs))
	for _, svc := range svcs {
		img, err := svc.Image(opts...)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", svc.Name, err)
		}
		def, err := img.Marshal(ctx)
		if err != nil {
			return nil, fmt.Errorf("marshal %s: %w", svc.Name, err)
		}
		cfg, err := img.ConfigJSON()
		if err != nil {
			return nil, fmt.Errorf("image config %s: %w", svc.Name, err)
		}
		ref, err := ImageRef(svc.Name, tag)
		if err != nil {
			return nil, err
		}
		out = append(out, build.Target{Service: svc.Name, Ref: ref, Definition: def, Config: cfg})
	}
	return out, nil
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
