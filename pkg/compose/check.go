package compose

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// keys is the part of the compose model the runtime honours: a key maps to
// the keys allowed under it, or to nil when its whole value is understood.
// Maps and lists take their elements' keys. Anything else set in a project
// is reported by CheckSupported.
type keys map[string]keys

var serviceKeys = keys{
	"name":              nil, // the service's name, filled in by the loader
	"image":             nil,
	"build":             {"context": nil, "dockerfile": nil, "args": nil, "target": nil},
	"command":           nil,
	"entrypoint":        nil,
	"environment":       nil,
	"env_file":          nil, // read into environment by the loader
	"ports":             {"target": nil, "published": nil, "host_ip": nil, "protocol": nil, "mode": nil},
	"volumes":           {"type": nil, "source": nil, "target": nil, "read_only": nil, "bind": {"create_host_path": nil}, "volume": {}},
	"secrets":           {"source": nil, "target": nil}, // target: only /run/secrets/<source> (Convert)
	"depends_on":        {"condition": nil, "required": nil},
	"healthcheck":       nil,
	"restart":           nil,
	"init":              nil,
	"networks":          {"ipv4_address": nil},
	"user":              nil,
	"working_dir":       nil,
	"cap_add":           nil,
	"cap_drop":          nil,
	"read_only":         nil,
	"tmpfs":             nil,
	"mem_limit":         nil,
	"pids_limit":        nil,
	"cpus":              nil,
	"stop_signal":       nil,
	"stop_grace_period": nil,
	"hostname":          nil,
	"container_name":    nil,
	"extra_hosts":       nil,
}

var projectKeys = keys{
	"name":     nil,
	"services": nil, // checked service by service
	"networks": {"name": nil, "driver": nil, "ipam": {"config": {"subnet": nil}}},
	"volumes":  {"name": nil, "driver": nil, "driver_opts": nil},
	"secrets":  {"name": nil, "file": nil},
}

// CheckSupported reports every key set in p that the runtime does not
// honour, wrapping ErrUnsupported: by service first, then the top-level
// sections. x- extension fields are allowed anywhere.
func CheckSupported(p *types.Project) error {
	var errs []error
	for _, name := range p.ServiceNames() {
		for _, k := range unsupported(reflect.ValueOf(p.Services[name]), serviceKeys, "") {
			errs = append(errs, fmt.Errorf("service %q: key %q is %w: remove it or run the file with docker compose", name, k, ErrUnsupported))
		}
	}
	for _, k := range unsupported(reflect.ValueOf(*p), projectKeys, "") {
		errs = append(errs, fmt.Errorf("key %q is %w: remove it or run the file with docker compose", k, ErrUnsupported))
	}
	return errors.Join(errs...)
}

// unsupported walks v (a compose-go value) and returns the dotted paths of
// the keys set in it that allowed does not list.
func unsupported(v reflect.Value, allowed keys, prefix string) []string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	var out []string
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || name == "" && !strings.Contains(opts, "inline") {
				continue
			}
			fv := v.Field(i)
			if strings.Contains(opts, "inline") {
				if f.Type.Kind() == reflect.Struct {
					out = append(out, unsupported(fv, allowed, prefix)...)
				}
				continue // the extensions map: x- keys
			}
			if fv.IsZero() {
				continue
			}
			sub, ok := allowed[name]
			switch {
			case !ok:
				out = append(out, prefix+name)
			case sub != nil:
				out = append(out, unsupported(fv, sub, prefix+name+".")...)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			out = append(out, unsupported(v.Index(i), allowed, prefix)...)
		}
	case reflect.Map:
		ks := v.MapKeys()
		sort.Slice(ks, func(i, j int) bool { return fmt.Sprint(ks[i]) < fmt.Sprint(ks[j]) })
		for _, k := range ks {
			out = append(out, unsupported(v.MapIndex(k), allowed, prefix+fmt.Sprint(k)+".")...)
		}
	}
	return out
}
