package dockerfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// goldenDir holds the converted Dockerfiles, relative to this package.
const goldenDir = "../../testdata/dockerfile"

var updateGolden = os.Getenv("INCEPTION_UPDATE_GOLDEN") == "1"

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join(goldenDir, name+".Dockerfile")
	if updateGolden {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(file, got, 0o644))
		t.Logf("wrote %s", file)
		return
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "no golden file: run INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/dockerfile/")
	assert.Equal(t, string(want), string(got),
		"%s is out of date: check the diff, then run INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/dockerfile/", file)
}

// opsOf decodes def into its vertices (the terminal op left out).
func opsOf(t *testing.T, def *llb.Definition) map[digest.Digest]*pb.Op {
	t.Helper()
	ops := map[digest.Digest]*pb.Op{}
	for _, dt := range def.Def {
		op := new(pb.Op)
		require.NoError(t, op.UnmarshalVT(dt))
		if op.Op != nil {
			ops[digest.FromBytes(dt)] = op
		}
	}
	return ops
}

// convert marshals img and converts it, checking that every vertex of the
// graph is accounted for by an instruction of its kind.
func convert(t *testing.T, img llbdefs.Image) *Result {
	t.Helper()
	def, err := img.Marshal(t.Context())
	require.NoError(t, err)
	res, err := Convert(img.Name, def, img.Config)
	require.NoError(t, err)

	lines := strings.Split(string(res.Dockerfile), "\n")
	ops := opsOf(t, def)
	got := map[digest.Digest]bool{}
	for _, v := range res.Vertices {
		got[v.Digest] = true
		op, ok := ops[v.Digest]
		require.True(t, ok, "vertex %q is in the graph", v.Name)
		require.NotEmpty(t, v.Lines, "vertex %q has instructions", v.Name)
		var instrs []string
		for _, l := range v.Lines {
			require.Greater(t, l, 0)
			require.LessOrEqual(t, l, len(lines))
			text := lines[l-1]
			require.NotEmpty(t, text, "line %d of %q", l, v.Name)
			require.False(t, strings.HasPrefix(text, "#"), "line %d of %q is a comment", l, v.Name)
			instrs = append(instrs, strings.Fields(text)[0])
		}
		switch op.Op.(type) {
		case *pb.Op_Source:
			// An image is a FROM, a download an ADD.
			assert.True(t, slices.Contains(instrs, "FROM") || slices.Contains(instrs, "ADD"), "source %q: %v", v.Name, instrs)
		case *pb.Op_Exec:
			assert.Contains(t, instrs, "RUN", "exec %q", v.Name)
		case *pb.Op_Merge:
			assert.Subset(t, []string{"COPY"}, instrs, "merge %q", v.Name)
		case *pb.Op_File:
			for _, in := range instrs {
				assert.Contains(t, []string{"COPY", "RUN", "ADD"}, in, "file %q", v.Name)
			}
		}
	}
	for d := range ops {
		assert.True(t, got[d], "vertex %s (%s) is accounted for", d, kindOf(ops[d]))
	}
	assert.Len(t, res.Vertices, len(ops))
	return res
}

func kindOf(op *pb.Op) string { return kind(op) }

func TestConvertGolden(t *testing.T) {
	for _, tc := range []struct {
		name  string
		image func(...llbdefs.Option) (llbdefs.Image, error)
	}{
		{"nginx", llbdefs.Nginx},
		{"static", llbdefs.Static},
		{"vsftpd", llbdefs.Vsftpd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := tc.image()
			require.NoError(t, err)
			res := convert(t, img)
			checkGolden(t, tc.name, res.Dockerfile)
		})
	}
}

// TestConvertEveryImage converts every image of every distro: none has a
// vertex without a Dockerfile form.
func TestConvertEveryImage(t *testing.T) {
	images := map[string]func(...llbdefs.Option) (llbdefs.Image, error){
		"nginx": llbdefs.Nginx, "wordpress": llbdefs.WordPress, "adminer": llbdefs.Adminer,
		"mariadb": llbdefs.MariaDB, "redis": llbdefs.Redis, "vsftpd": llbdefs.Vsftpd, "static": llbdefs.Static,
	}
	for _, d := range []llbdefs.Distro{llbdefs.Debian(), llbdefs.Alpine()} {
		for name, image := range images {
			t.Run(d.Name()+"/"+name, func(t *testing.T) {
				img, err := image(llbdefs.WithDistro(d))
				require.NoError(t, err)
				res := convert(t, img)
				df := string(res.Dockerfile)
				assert.Contains(t, df, "FROM ")
				assert.Contains(t, df, " AS "+name+"\n", "the last stage is named after the image")
				assert.NotContains(t, df, "\x00", "every stage reference is resolved")
				last := df[strings.LastIndex(df, "\nFROM "):]
				assert.Contains(t, last, "ENTRYPOINT ", "the config closes the last stage")
			})
		}
	}
}

func TestConvertNginx(t *testing.T) {
	img, err := llbdefs.Nginx()
	require.NoError(t, err)
	res := convert(t, img)
	df := string(res.Dockerfile)

	// Three stages: the base, used twice; the package lists every image
	// shares; the image itself, one chain that nothing else uses.
	assert.Contains(t, df, "FROM debian:bookworm AS base-docker-io-library-debian\n")
	assert.Contains(t, df, "FROM base-docker-io-library-debian AS package-lists-fetched-once-for\n"+
		"# apt: package lists, fetched once for every image\n")
	assert.Contains(t, df, "FROM base-docker-io-library-debian AS nginx\n")
	assert.Equal(t, 3, strings.Count(df, "\nFROM "))
	assert.Contains(t, df, "--mount=type=bind,from=package-lists-fetched-once-for,source=/var/lib/apt/lists,target=/var/lib/apt/lists,rw",
		"the install gets its own writable copy of the lists")
	assert.Contains(t, df, "ARG DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH=1704067200\n", "exec env as ARG: not in the image config")
	assert.NotContains(t, df, "ENV DEBIAN_FRONTEND")
	assert.Contains(t, df, "--mount=type=cache,id=inception-apt-cache-nginx,target=/var/cache/apt,sharing=locked")
	assert.Contains(t, df, "--mount=type=bind,source=policy-rc-d-no-services-start/policy-rc.d,target=/usr/sbin/policy-rc.d")
	assert.Contains(t, df, "RUN rm -rf /etc/nginx/sites-enabled/default && ", "file actions on a chain are shell commands")
	assert.Contains(t, df, "ln -s /dev/stdout /var/log/nginx/access.log")
	assert.Contains(t, df, "\nCOPY config-and-entrypoint/ /\n", "the merged config layer is a plain COPY")
	assert.Contains(t, df, "STOPSIGNAL SIGQUIT\n")
	assert.Regexp(t, `\nHEALTHCHECK --interval=\S+ --timeout=\S+ .*--retries=\d+ CMD \["curl", "-kfsS", `, df)
	assert.Contains(t, df, `ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/nginx-entrypoint"]`)
	assert.Contains(t, df, `CMD ["nginx", "-g", "daemon off;"]`)
	assert.Contains(t, df, "EXPOSE 443/tcp\n")
	assert.Contains(t, df, `VOLUME ["/var/www/html"]`)
	assert.NotContains(t, df, "PATH=", "the base's PATH is the default: not repeated")

	files := map[string]File{}
	for _, f := range res.Context {
		files[f.Path] = f
	}
	ep := files["config-and-entrypoint/usr/local/bin/nginx-entrypoint"]
	assert.Equal(t, fs.FileMode(0o755), ep.Mode)
	assert.NotEmpty(t, ep.Data)
	assert.Equal(t, int64(946684800), ep.ModTime.Unix(), "the graph's fixed time")
	assert.Equal(t, fs.FileMode(0o644), files["config-and-entrypoint/etc/nginx/conf.d/inception.conf"].Mode)
	assert.True(t, files["config-and-entrypoint/etc/nginx"].Mode.IsDir())
	assert.Equal(t, fs.FileMode(0o755), files["policy-rc-d-no-services-start/policy-rc.d"].Mode)
}

func TestConvertStaticStages(t *testing.T) {
	img, err := llbdefs.Static()
	require.NoError(t, err)
	df := string(convert(t, img).Dockerfile)

	// The builder is used twice (go build, tini copy): a stage of its own;
	// the go build writes its /out mount into its own filesystem.
	assert.Contains(t, df, "FROM base-docker-io-library-debian AS install-packages\n")
	assert.Contains(t, df, "FROM install-packages AS go-build-static-server\n")
	assert.Contains(t, df, "ARG CGO_ENABLED=0 GOCACHE=/root/.cache/go-build GOPATH=/root/go GOPROXY=off GOTOOLCHAIN=local SOURCE_DATE_EPOCH=1704067200\n")
	assert.Contains(t, df, "WORKDIR /src\n")
	assert.Contains(t, df, "--mount=type=bind,source=server-source,target=/src")
	assert.Contains(t, df, "FROM scratch AS static\n")
	assert.Contains(t, df, "COPY --from=install-packages /usr/bin/tini-static /usr/bin/tini-static\n")
	assert.Contains(t, df, "COPY --from=go-build-static-server /out/ /\n")
	assert.Contains(t, df, "COPY site/ /\n")
	assert.Contains(t, df, "USER nonroot\n")
	// Stages come before the stages that use them.
	assert.Less(t, strings.Index(df, "AS install-packages"), strings.Index(df, "AS go-build-static-server"))
	assert.Less(t, strings.Index(df, "AS go-build-static-server"), strings.Index(df, "AS static"))
}

// TestConvertWordPressSplitsStage: an exec that runs without an ARG the
// stage set gets a stage of its own (ARGs do not cross FROM).
func TestConvertWordPressSplitsStage(t *testing.T) {
	img, err := llbdefs.WordPress()
	require.NoError(t, err)
	df := string(convert(t, img).Dockerfile)
	i := strings.Index(df, "ARG DEBIAN_FRONTEND")
	j := strings.Index(df, "WordPress tree without symlinks")
	require.Positive(t, i)
	require.Positive(t, j)
	assert.Contains(t, df[i:j], "\nFROM ", "a new stage between the install and the tree copy")
	assert.Contains(t, df, `RUN ["/bin/sh", "-c", "set -e\ncp -RL`, "a multi-line script keeps the exec form")
}

func TestConvertVsftpdEnvQuoting(t *testing.T) {
	img, err := llbdefs.Vsftpd()
	require.NoError(t, err)
	img.Config.Config.Env = append(img.Config.Config.Env, `GREETING=hello "$USER" \o/`)
	df := string(convert(t, img).Dockerfile)
	assert.Contains(t, df, `GREETING="hello \"\$USER\" \\o/"`)
}

func TestConvertUnsupported(t *testing.T) {
	base := llb.Image("docker.io/library/debian:bookworm")
	for _, tc := range []struct {
		name   string
		st     llb.State
		vertex string
	}{
		{
			name:   "diff",
			st:     llb.Diff(base, base.File(llb.Mkdir("/x", 0o755), llb.WithCustomName("mkdir x")), llb.WithCustomName("only x")),
			vertex: "only x",
		},
		{
			name: "secret mount",
			st: base.Run(llb.Args([]string{"cat", "/run/secrets/token"}),
				llb.AddSecret("/run/secrets/token", llb.SecretID("token")), llb.WithCustomName("read the token")).Root(),
			vertex: "read the token",
		},
		{
			name:   "git source",
			st:     llb.Git("https://github.com/moby/buildkit.git", "master", llb.WithCustomName("clone buildkit")),
			vertex: "clone buildkit",
		},
		{
			name: "hostname",
			st: base.Run(llb.Args([]string{"hostname"}), llb.Hostname("box"),
				llb.WithCustomName("print the hostname")).Root(),
			vertex: "print the hostname",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			def, err := tc.st.Marshal(t.Context(), llb.LinuxAmd64)
			require.NoError(t, err)
			_, err = Convert("x", def, dockerspec.DockerOCIImage{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnsupported)
			var ue *UnsupportedError
			require.True(t, errors.As(err, &ue))
			assert.Equal(t, tc.vertex, ue.Vertex)
			assert.Contains(t, err.Error(), tc.vertex)
		})
	}
}

func TestCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"shell one-liner", []string{"/bin/sh", "-c", "apt-get update && apt-get install -y x"}, "apt-get update && apt-get install -y x"},
		{"shell with arguments", []string{"/bin/sh", "-c", `echo "$@"`, "x", "a"}, `["/bin/sh", "-c", "echo \"$@\"", "x", "a"]`},
		{"multi-line script", []string{"/bin/sh", "-c", "a\nb"}, `["/bin/sh", "-c", "a\nb"]`},
		{"looks like JSON", []string{"/bin/sh", "-c", "[ -f x ]"}, `["/bin/sh", "-c", "[ -f x ]"]`},
		{"heredoc marker", []string{"/bin/sh", "-c", "cat <<EOF"}, `["/bin/sh", "-c", "cat <<EOF"]`},
		{"exec", []string{"go", "build", "-ldflags=-s -w", "<x>"}, `["go", "build", "-ldflags=-s -w", "<x>"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, command(tc.args))
		})
	}
}

func TestSlug(t *testing.T) {
	assert.Equal(t, "config-and-entrypoint", slug("config and entrypoint"))
	assert.Equal(t, "policy-rc-d-no-services-start", slug("policy-rc.d, no services start during install"))
	assert.Equal(t, "", slug("!!"))
}

func TestWriteContext(t *testing.T) {
	img, err := llbdefs.Adminer()
	require.NoError(t, err)
	res := convert(t, img)
	dir := filepath.Join(t.TempDir(), "ctx")
	require.NoError(t, res.WriteContext(dir))

	dt, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	require.NoError(t, err)
	assert.Equal(t, res.Dockerfile, dt)
	var files int
	for _, f := range res.Context {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Lstat(p)
		require.NoError(t, err, f.Path)
		switch {
		case f.Mode&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			assert.Equal(t, string(f.Data), target, f.Path)
		case f.Mode.IsDir():
			assert.True(t, st.IsDir(), f.Path)
		default:
			files++
			assert.Equal(t, f.Mode.Perm(), st.Mode().Perm(), f.Path)
			got, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, f.Data, got, f.Path)
			if !f.ModTime.IsZero() {
				assert.True(t, f.ModTime.Equal(st.ModTime()), "%s: %s, want %s", f.Path, st.ModTime(), f.ModTime)
			}
		}
	}
	assert.Positive(t, files)
	links := slices.IndexFunc(res.Context, func(f File) bool { return f.Mode&fs.ModeSymlink != 0 })
	assert.GreaterOrEqual(t, links, 0, "adminer's entry point is a symlink in the context")

	err = res.WriteContext(dir)
	require.ErrorIs(t, err, ErrContextDir, "never writes over files")
}

func BenchmarkConvert(b *testing.B) {
	img, err := llbdefs.Static()
	require.NoError(b, err)
	def, err := img.Marshal(b.Context())
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Convert(img.Name, def, img.Config); err != nil {
			b.Fatal(err)
		}
	}
}
