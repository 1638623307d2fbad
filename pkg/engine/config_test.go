package engine

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/testutil"
)

// lookup walks dotted table keys of a parsed TOML document.
func lookup(t *testing.T, doc map[string]any, keys ...string) any {
	t.Helper()
	var cur any = doc
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		require.Truef(t, ok, "%v: %s is under a non-table", keys, k)
		cur, ok = m[k]
		require.Truef(t, ok, "%v: no key %s", keys, k)
	}
	return cur
}

func renderParsed(t *testing.T, d *daemon) map[string]any {
	t.Helper()
	b, err := d.config()
	require.NoError(t, err)
	doc, err := parseTOML(string(b))
	require.NoError(t, err, "rendered config:\n%s", b)
	return doc
}

func TestContainerdConfig(t *testing.T) {
	e, err := New(WithRoot("/srv/inc root"), WithRunDir("/run/inc"))
	require.NoError(t, err)
	doc := renderParsed(t, e.containerdDaemon())

	assert.Equal(t, int64(2), lookup(t, doc, "version"))
	assert.Equal(t, "/srv/inc root/containerd", lookup(t, doc, "root"))
	assert.Equal(t, "/run/inc/containerd", lookup(t, doc, "state"))
	assert.Equal(t, "/run/inc/containerd.sock", lookup(t, doc, "grpc", "address"))
	assert.Equal(t, e.ContainerdAddress(), lookup(t, doc, "grpc", "address"))
	assert.Equal(t, "/run/inc/containerd.sock.ttrpc", lookup(t, doc, "ttrpc", "address"))
	assert.Equal(t, []any{"io.containerd.grpc.v1.cri"}, lookup(t, doc, "disabled_plugins"))
	assert.Equal(t, "/srv/inc root/containerd/opt", lookup(t, doc, "plugins", "io.containerd.internal.v1.opt", "path"))
	assert.Contains(t, lookup(t, doc, "plugins").(map[string]any), "io.containerd.snapshotter.v1.overlayfs")
}

// buildkitKeys are the keys of buildkit v0.34.2's cmd/buildkitd/config.Config
// that the template may use, per table, copied from the struct's toml tags
// (GCConfig and NetworkConfig are embedded in ContainerdConfig, so their keys
// sit in [worker.containerd]). buildkitd decodes leniently and ignores an
// unknown key, so a typo would otherwise go unnoticed.
var buildkitKeys = map[string][]string{
	"":                  {"root", "grpc", "worker"},
	"grpc":              {"address"},
	"worker":            {"oci", "containerd"},
	"worker.oci":        {"enabled"},
	"worker.containerd": {"enabled", "address", "namespace", "snapshotter", "networkMode", "gc", "reservedSpace", "maxUsedSpace", "minFreeSpace"},
}

func checkKnownKeys(t *testing.T, table string, m map[string]any) {
	t.Helper()
	known, ok := buildkitKeys[table]
	require.Truef(t, ok, "table [%s] is not one the template may use", table)
	for k, v := range m {
		assert.Containsf(t, known, k, "key %q in [%s] is not a buildkitd config key", k, table)
		if sub, ok := v.(map[string]any); ok {
			checkKnownKeys(t, strings.TrimPrefix(table+"."+k, "."), sub)
		}
	}
}

func TestBuildkitdConfig(t *testing.T) {
	tests := []struct {
		name           string
		opts           []Option
		wantContainerd string
	}{
		{
			name:           "embedded containerd",
			opts:           []Option{WithRoot("/srv/inc"), WithRunDir("/run/inc"), WithNamespace("ns1")},
			wantContainerd: "/run/inc/containerd.sock",
		},
		{
			name:           "external containerd",
			opts:           []Option{WithRoot("/srv/inc"), WithRunDir("/run/inc"), WithNamespace("ns1"), WithContainerdAddress("unix:///run/containerd/containerd.sock")},
			wantContainerd: "/run/containerd/containerd.sock",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(tc.opts...)
			require.NoError(t, err)
			doc := renderParsed(t, e.buildkitdDaemon())
			checkKnownKeys(t, "", doc)

			assert.Equal(t, "/srv/inc/buildkit", lookup(t, doc, "root"))
			assert.Equal(t, []any{"unix:///run/inc/buildkitd.sock"}, lookup(t, doc, "grpc", "address"))
			assert.Equal(t, []any{e.BuildkitAddress()}, lookup(t, doc, "grpc", "address"))
			assert.Equal(t, false, lookup(t, doc, "worker", "oci", "enabled"))

			w := []string{"worker", "containerd"}
			assert.Equal(t, true, lookup(t, doc, append(w, "enabled")...))
			assert.Equal(t, tc.wantContainerd, lookup(t, doc, append(w, "address")...))
			assert.Equal(t, "ns1", lookup(t, doc, append(w, "namespace")...))
			assert.Equal(t, "overlayfs", lookup(t, doc, append(w, "snapshotter")...))
			assert.Equal(t, "host", lookup(t, doc, append(w, "networkMode")...))
			assert.Equal(t, true, lookup(t, doc, append(w, "gc")...))
			assert.Equal(t, "2GB", lookup(t, doc, append(w, "reservedSpace")...))
			assert.Equal(t, "20GB", lookup(t, doc, append(w, "maxUsedSpace")...))
			assert.Equal(t, "10%", lookup(t, doc, append(w, "minFreeSpace")...))
		})
	}
}

func TestTOMLStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "/plain/path", `/with "quotes"`, `back\slash`, "tab\there", "new\nline", "ünïcode", "\x01\x7f"} {
		doc, err := parseTOML("k = " + tomlString(s))
		require.NoError(t, err, "%q", s)
		assert.Equal(t, s, doc["k"], "%q", s)
	}
}

// TestTOMLParserRejects makes sure the test parser is strict enough to catch
// a broken template.
func TestTOMLParserRejects(t *testing.T) {
	for _, src := range []string{`k = "open`, `k = 'single'`, "k = \"a\"\nk = \"b\"", `[t`, `k = "\x"`, `k = 1.5`, `a.b = 1`, `k = "x" y`} {
		_, err := parseTOML(src)
		assert.Error(t, err, "%q", src)
	}
}

// TestContainerdConfigDump has the installed containerd parse the rendered
// file (`containerd config dump` loads it and prints the result, without
// starting anything).
func TestContainerdConfigDump(t *testing.T) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		testutil.Skip(t, "containerd is not installed")
	}
	dir := t.TempDir()
	e, err := New(WithRoot(dir), WithRunDir("/run/inc-dump"))
	require.NoError(t, err)
	d := e.containerdDaemon()
	b, err := d.config()
	require.NoError(t, err)
	path := filepath.Join(dir, "containerd.toml")
	require.NoError(t, os.WriteFile(path, b, 0o644))

	out, err := exec.Command(bin, "--config", path, "config", "dump").CombinedOutput()
	require.NoError(t, err, "%s", out)
	dump := parseTOMLLoose(string(out))
	assert.Equal(t, `"`+dir+`/containerd"`, dump["root"])
	assert.Equal(t, `"/run/inc-dump/containerd"`, dump["state"])
	assert.Equal(t, `"/run/inc-dump/containerd.sock"`, dump["grpc.address"])
	assert.Equal(t, `"/run/inc-dump/containerd.sock.ttrpc"`, dump["ttrpc.address"])
	assert.Equal(t, `["io.containerd.grpc.v1.cri"]`, dump["disabled_plugins"])
}

// parseTOMLLoose maps "table.key" to the raw value text of containerd's
// dump, which uses more TOML than parseTOML accepts.
func parseTOMLLoose(src string) map[string]string {
	out := map[string]string{}
	table := ""
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			table = strings.Trim(line, "[]") + "."
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				out[table+strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

// Each directory of the engine's certs.d becomes a registry section that
// points buildkitd at its certificates; with no certs.d there is none.
func TestBuildkitdRegistries(t *testing.T) {
	root := t.TempDir()
	e, err := New(WithRoot(root), WithRunDir("/run/inc"))
	require.NoError(t, err)
	doc := renderParsed(t, e.buildkitdDaemon())
	assert.NotContains(t, doc, "registry")

	for _, host := range []string{"127.0.0.1:5443", "registry.example.com"} {
		require.NoError(t, os.MkdirAll(filepath.Join(e.CertsDir(), host), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(e.CertsDir(), "stray-file"), nil, 0o644))
	doc = renderParsed(t, e.buildkitdDaemon())
	regs, ok := doc["registry"].(map[string]any)
	require.True(t, ok, "a [registry] table: %v", doc)
	assert.Len(t, regs, 2)
	assert.Equal(t, []any{filepath.Join(root, "certs.d", "127.0.0.1:5443")}, lookup(t, doc, "registry", "127.0.0.1:5443", "tlsconfigdir"))
	assert.Equal(t, []any{filepath.Join(root, "certs.d", "registry.example.com")}, lookup(t, doc, "registry", "registry.example.com", "tlsconfigdir"))
}
