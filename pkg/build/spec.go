package build

import (
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
)

// Output is an extra export of every built image: a tarball (type oci or
// docker) or an image under another name, usually pushed to a registry
// (type image; buildx's type=registry is type=image,push=true).
type Output struct {
	Type string // "oci", "docker" or "image"
	Dest string // tarballs: a file for one image; for several, a directory or a path with {service}
	// Name is the image reference of type image, {service} standing for the
	// service; several references separated by commas.
	Name string
	// Attrs are BuildKit's image exporter attributes other than name
	// (push, registry.insecure, store, compression, ...).
	Attrs map[string]string
}

// Push reports whether o pushes to a registry.
func (o Output) Push() bool { return o.Type == client.ExporterImage && o.Attrs["push"] == "true" }

// imageAttrs are the image exporter attributes an image output may set.
var imageAttrs = []string{"push", "registry.insecure", "store", "compression", "compression-level", "force-compression", "oci-mediatypes", "push-by-digest"}

// ParseOutput parses a buildx-style output in CSV: "type=oci,dest=FILE",
// "type=docker,dest=FILE", "type=image,name=REF,push=true" or
// "type=registry,name=REF" (the same, pushed).
func ParseOutput(s string) (Output, error) {
	kv, err := parseKV(s)
	if err != nil {
		return Output{}, err
	}
	o := Output{Type: kv["type"]}
	delete(kv, "type")
	switch o.Type {
	case client.ExporterOCI, client.ExporterDocker:
		o.Dest = kv["dest"]
		delete(kv, "dest")
		if o.Dest == "" {
			return Output{}, fmt.Errorf("%w: %q has no dest: add dest=FILE", ErrInvalidOutput, s)
		}
	case "registry", client.ExporterImage:
		if o.Type == "registry" {
			o.Type = client.ExporterImage
			if kv["push"] == "false" {
				return Output{}, fmt.Errorf("%w: %q: type=registry always pushes; use type=image for push=false", ErrInvalidOutput, s)
			}
			kv["push"] = "true"
		}
		o.Name = kv["name"]
		delete(kv, "name")
		if err := checkNames(o.Name); err != nil {
			return Output{}, fmt.Errorf("%w: %q: %w", ErrInvalidOutput, s, err)
		}
		o.Attrs = map[string]string{}
		for k, v := range kv {
			if !slices.Contains(imageAttrs, k) {
				return Output{}, fmt.Errorf("%w: unknown image output attribute %q in %q (known: name, %s)", ErrInvalidOutput, k, s, strings.Join(imageAttrs, ", "))
			}
			o.Attrs[k] = v
		}
		for _, k := range []string{"push", "registry.insecure", "store", "oci-mediatypes", "force-compression", "push-by-digest"} {
			if v, ok := o.Attrs[k]; ok && v != "true" && v != "false" {
				return Output{}, fmt.Errorf("%w: %s=%q in %q: use true or false", ErrInvalidOutput, k, v, s)
			}
		}
		if o.Push() {
			if _, ok := o.Attrs["store"]; !ok {
				// The pushed name is the registry's, not the engine's: a
				// failed push leaves no tag of it in the image store.
				o.Attrs["store"] = "false"
			}
		}
		return o, nil
	case "":
		return Output{}, fmt.Errorf("%w: %q has no type: use type=oci,dest=FILE, type=docker,dest=FILE or type=registry,name=REF", ErrInvalidOutput, s)
	default:
		return Output{}, fmt.Errorf("%w: output type %q is not supported: use oci, docker, image or registry (images always go to the engine's image store too)", ErrInvalidOutput, o.Type)
	}
	for k := range kv {
		return Output{}, fmt.Errorf("%w: unknown output attribute %q in %q", ErrInvalidOutput, k, s)
	}
	return o, nil
}

// PushOutput is what `--push` means: the images pushed as
// REGISTRY/{service}:TAG, e.g. registry.example.com/inception.
func PushOutput(registry, tag string) (Output, error) {
	registry = strings.TrimSuffix(registry, "/")
	if registry == "" {
		return Output{}, fmt.Errorf("%w: nothing to push to: name a registry (and namespace), e.g. --registry registry.example.com/inception", ErrInvalidOutput)
	}
	o := Output{Type: client.ExporterImage, Name: registry + "/{service}:" + tag, Attrs: map[string]string{"push": "true", "store": "false"}}
	if err := checkNames(o.Name); err != nil {
		return Output{}, fmt.Errorf("%w: registry %q: %w", ErrInvalidOutput, registry, err)
	}
	return o, nil
}

// checkNames accepts one or more comma-separated image references, each
// with its registry named, {service} standing for a service name.
func checkNames(names string) error {
	if names == "" {
		return fmt.Errorf("no name: add name=REGISTRY/NAMESPACE/{service}:TAG")
	}
	for _, n := range strings.Split(names, ",") {
		n = strings.ReplaceAll(strings.TrimSpace(n), "{service}", "service")
		if _, err := reference.ParseNormalizedNamed(n); err != nil {
			return fmt.Errorf("name %q: %w", n, err)
		}
		// Docker's rule: the first component names a registry when it has a
		// dot or a port, or is localhost.
		first, _, ok := strings.Cut(n, "/")
		if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
			return fmt.Errorf("name %q names no registry: write it in full, e.g. registry.example.com/inception/{service}:bookworm", n)
		}
	}
	return nil
}

// names is o.Name for service.
func (o Output) names(service string) string {
	return strings.ReplaceAll(o.Name, "{service}", service)
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

// Cache is a cache import or export. type=local ones get one subdirectory
// per image so parallel solves never write the same index; in a
// type=registry ref, {service} stands for the service.
type Cache struct {
	Type  string
	Attrs map[string]string
}

// Cache types with a meaning here; others (gha, s3, azblob) pass through
// to BuildKit as they are.
const (
	CacheLocal    = "local"
	CacheRegistry = "registry"
	CacheInline   = "inline"
)

// ParseCache parses a buildx-style cache in CSV: "type=local,dest=DIR"
// (export), "type=local,src=DIR" (import), "type=registry,ref=REF[,mode=max]",
// "type=inline" (the cache travels in the image itself). A bare reference,
// as buildx accepts in --cache-from, means type=registry,ref=REF.
func ParseCache(s string) (Cache, error) {
	if !strings.Contains(s, "=") && s != "" {
		s = "type=registry,ref=" + s
	}
	kv, err := parseKV(s)
	if err != nil {
		return Cache{}, err
	}
	t := kv["type"]
	delete(kv, "type")
	switch t {
	case "":
		return Cache{}, fmt.Errorf("%w: cache %q has no type: use type=registry,ref=REF, type=local,dest=DIR (src=DIR to import) or type=inline", ErrInvalidOutput, s)
	case CacheLocal:
		if kv["dest"] == "" && kv["src"] == "" {
			return Cache{}, fmt.Errorf("%w: local cache %q needs dest=DIR (export) or src=DIR (import)", ErrInvalidOutput, s)
		}
	case CacheRegistry:
		if err := checkNames(kv["ref"]); err != nil {
			return Cache{}, fmt.Errorf("%w: registry cache %q: %w", ErrInvalidOutput, s, err)
		}
		if strings.Contains(kv["ref"], ",") {
			return Cache{}, fmt.Errorf("%w: registry cache %q: one ref per cache; repeat the flag for several", ErrInvalidOutput, s)
		}
	case CacheInline:
		if len(kv) > 0 {
			return Cache{}, fmt.Errorf("%w: inline cache %q takes no attributes", ErrInvalidOutput, s)
		}
	}
	if m, ok := kv["mode"]; ok && m != "min" && m != "max" {
		return Cache{}, fmt.Errorf("%w: cache %q: mode=%q: use min or max", ErrInvalidOutput, s, m)
	}
	return Cache{Type: t, Attrs: kv}, nil
}

func (c Cache) entry(service string) client.CacheOptionsEntry {
	attrs := maps.Clone(c.Attrs)
	if attrs == nil {
		attrs = map[string]string{}
	}
	switch c.Type {
	case CacheLocal:
		for _, k := range []string{"dest", "src"} {
			if v, ok := attrs[k]; ok {
				attrs[k] = filepath.Join(v, service)
			}
		}
		if _, ok := attrs["dest"]; ok && attrs["mode"] == "" {
			attrs["mode"] = "max"
		}
	case CacheRegistry:
		attrs["ref"] = strings.ReplaceAll(attrs["ref"], "{service}", service)
	}
	return client.CacheOptionsEntry{Type: c.Type, Attrs: attrs}
}

// parseKV reads comma-separated key=value fields the way buildx does: as
// one CSV record, so a value with a comma is written in double quotes
// (name="a/x:1,a/y:1").
func parseKV(s string) (map[string]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: expected key=value pairs separated by commas: %w", ErrInvalidOutput, s, err)
	}
	kv := map[string]string{}
	for _, f := range fields {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q: expected key=value pairs separated by commas", ErrInvalidOutput, s)
		}
		kv[strings.ToLower(k)] = v
	}
	return kv, nil
}
