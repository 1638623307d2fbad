package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client"
)

// Output is an extra export of every built image as a tarball.
type Output struct {
	Type string // "oci" or "docker"
	Dest string // a file for one image; for several, a directory or a path with {service}
}

// ParseOutput parses a buildx-style "type=oci,dest=FILE" specification.
func ParseOutput(s string) (Output, error) {
	kv, err := parseKV(s)
	if err != nil {
		return Output{}, err
	}
	o := Output{Type: kv["type"], Dest: kv["dest"]}
	delete(kv, "type")
	delete(kv, "dest")
	switch o.Type {
	case client.ExporterOCI, client.ExporterDocker:
	case "":
		return Output{}, fmt.Errorf("%w: %q has no type: use type=oci,dest=FILE or type=docker,dest=FILE", ErrInvalidOutput, s)
	default:
		return Output{}, fmt.Errorf("%w: output type %q is not supported: use oci or docker (images always go to the engine's image store)", ErrInvalidOutput, o.Type)
	}
	if o.Dest == "" {
		return Output{}, fmt.Errorf("%w: %q has no dest: add dest=FILE", ErrInvalidOutput, s)
	}
	for k := range kv {
		return Output{}, fmt.Errorf("%w: unknown output attribute %q in %q", ErrInvalidOutput, k, s)
	}
	return o, nil
}

// path is where image service's tarball goes when n images are built.
func (o Output) path(service string, n int) (string, error) {
	if strings.Contains(o.Dest, "{service}") {
		return strings.ReplaceAll(o.Dest, "{service}", service), nil
	}
	if st, err := os.Stat(o.Dest); err == nil && st.IsDir() || strings.HasSuffix(o.Dest, "/") {
		return filepath.Join(o.Dest, service+".tar"), nil
	}
	if n > 1 {
		return "", fmt.Errorf("%w: %d images but one file %q: give a directory or a dest with {service}", ErrInvalidOutput, n, o.Dest)
	}
	return o.Dest, nil
}

// Cache is a cache import or export; type=local ones get one subdirectory
// per image so parallel solves never write the same index.
type Cache struct {
	Type  string
	Attrs map[string]string
}

// ParseCache parses "type=local,dest=DIR" (export) or "type=local,src=DIR"
// (import). Other BuildKit cache types (registry, gha, s3, ...) pass through.
func ParseCache(s string) (Cache, error) {
	kv, err := parseKV(s)
	if err != nil {
		return Cache{}, err
	}
	t := kv["type"]
	if t == "" {
		return Cache{}, fmt.Errorf("%w: cache %q has no type: use type=local,dest=DIR or type=local,src=DIR", ErrInvalidOutput, s)
	}
	delete(kv, "type")
	if t == "local" && kv["dest"] == "" && kv["src"] == "" {
		return Cache{}, fmt.Errorf("%w: local cache %q needs dest=DIR (export) or src=DIR (import)", ErrInvalidOutput, s)
	}
	return Cache{Type: t, Attrs: kv}, nil
}

func (c Cache) entry(service string) client.CacheOptionsEntry {
	attrs := make(map[string]string, len(c.Attrs)+1)
	for k, v := range c.Attrs {
		attrs[k] = v
	}
	if c.Type == "local" {
		for _, k := range []string{"dest", "src"} {
			if v, ok := attrs[k]; ok {
				attrs[k] = filepath.Join(v, service)
			}
		}
		if _, ok := attrs["dest"]; ok && attrs["mode"] == "" {
			attrs["mode"] = "max"
		}
	}
	return client.CacheOptionsEntry{Type: c.Type, Attrs: attrs}
}

func parseKV(s string) (map[string]string, error) {
	kv := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q: expected key=value pairs separated by commas", ErrInvalidOutput, s)
		}
		kv[k] = v
	}
	return kv, nil
}
