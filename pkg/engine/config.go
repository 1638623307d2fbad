package engine

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"
)

// The daemons' config files are real TOML files with a few placeholders, so
// they read like the files an operator would write by hand.
//
//go:embed templates/*.toml.tmpl
var templates embed.FS

// containerdConfig fills templates/containerd.toml.tmpl.
type containerdConfig struct {
	Root         string // persistent state: content, snapshots, metadata
	State        string // runtime state, lost on reboot
	Address      string // gRPC socket path
	TTRPCAddress string // ttrpc socket path (shims talk to it)
	OptDir       string // containerd's "opt" plugin directory
}

// buildkitdConfig fills templates/buildkitd.toml.tmpl.
type buildkitdConfig struct {
	Root              string
	Address           string // unix://... the daemon listens on
	ContainerdAddress string // socket path of the worker's containerd
	Namespace         string
	GCReservedSpace   string // buildkit DiskSpace values: "2GB", "10%"
	GCMaxUsedSpace    string
	GCMinFreeSpace    string
	// Registries are the hosts with a directory in the engine's certs.d:
	// their CA certificates (*.crt) and client key pairs (*.cert + *.key).
	Registries []registryConfig
}

// registryConfig is one [registry."HOST"] section of buildkitd.toml.
type registryConfig struct {
	Host string // host or host:port, as in image references
	Dir  string // buildkit's tlsconfigdir
}

// renderConfig executes the embedded template name with data.
func renderConfig(name string, data any) ([]byte, error) {
	t, err := template.New(name).
		Funcs(template.FuncMap{"toml": tomlString}).
		Option("missingkey=error").
		ParseFS(templates, "templates/"+name)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// tomlString quotes s as a TOML basic string. Go's strconv.Quote is not
// enough: TOML has no \x escapes.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeFileAtomic replaces path with data so that a daemon never reads a
// half-written file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
