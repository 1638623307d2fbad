package stack

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/distribution/reference"
)

// ErrUnknownService is returned for a service name the stack does not have.
var ErrUnknownService = errors.New("unknown service")

// DefaultRegistry prefixes image names, so `nginx:bookworm` is stored as
// docker.io/library/nginx:bookworm as containerd and BuildKit normalise it.
const DefaultRegistry = "docker.io/library/"

// DefaultTag is the tag of the images the Inception stack builds itself:
// the Debian release they are built from.
const DefaultTag = "bookworm"

// DefaultProjectName names the Inception stack when no project name is
// given.
const DefaultProjectName = "inception"

// Stack is a named set of services. Name is the project name, as docker
// compose's -p: everything the runtime makes for the stack (containers,
// network, namespaces, state) is named after it, so two stacks with
// different names never share anything. Check it with ValidateProjectName.
type Stack struct {
	Name     string
	Services []Service
}

// Default returns the Inception stack: its seven services, each running
// the image <service>:bookworm, built by the Go recipe of the same name.
func Default() Stack {
	names := []string{"nginx", "wordpress", "adminer", "vsftpd", "static", "mariadb", "redis"}
	st := Stack{Name: DefaultProjectName}
	for _, n := range names {
		st.Services = append(st.Services, Service{
			Name:  n,
			Image: DefaultRegistry + n + ":" + DefaultTag,
			Build: &Build{Recipe: n},
		})
	}
	return st
}

// Retag names the images of the services built from a Go recipe
// <service>:<tag> (as ImageRef), the way `inceptionctl build --tag` stores
// them; services that run an image by reference only are left alone.
//
//	st, err := stack.Default().Retag("test")
func (s Stack) Retag(tag string) (Stack, error) {
	out := Stack{Name: s.Name, Services: make([]Service, len(s.Services))}
	for i, svc := range s.Services {
		if svc.Build != nil && svc.Build.Recipe != "" {
			ref, err := ImageRef(svc.Name, tag)
			if err != nil {
				return Stack{}, err
			}
			svc.Image = ref
		}
		out.Services[i] = svc
	}
	return out, nil
}

// projectName is compose's rule for project names.
var projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// MaxProjectName bounds a project name: container ids, file names and
// network names are made of it.
const MaxProjectName = 63

// ValidateProjectName checks a project name as docker compose does: lower
// case letters, digits, dashes and underscores, starting with a letter or
// a digit (and at most MaxProjectName characters).
func ValidateProjectName(name string) error {
	if !projectName.MatchString(name) || len(name) > MaxProjectName {
		return fmt.Errorf("%w: project name %q: use lower-case letters, digits, dashes and underscores, starting with a letter or digit (at most %d)",
			ErrInvalid, name, MaxProjectName)
	}
	return nil
}

// NormalizeImage returns the full name of an image reference, as
// containerd stores it: "redis:7" is docker.io/library/redis:7, a name
// without tag or digest gets :latest, as docker does.
func NormalizeImage(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("%w: image reference %q: %w", ErrInvalid, ref, err)
	}
	return named.String(), nil
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

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
