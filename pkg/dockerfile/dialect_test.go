package dockerfile

import (
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// TestDocker20EveryImage: every image of the stack converts to a
// Dockerfile Docker 20.10 builds, and the current dialect of the same
// images is what the check catches (a start interval, several ARG names).
func TestDocker20EveryImage(t *testing.T) {
	images := map[string]func(...llbdefs.Option) (llbdefs.Image, error){
		"nginx": llbdefs.Nginx, "wordpress": llbdefs.WordPress, "adminer": llbdefs.Adminer,
		"mariadb": llbdefs.MariaDB, "redis": llbdefs.Redis, "vsftpd": llbdefs.Vsftpd, "static": llbdefs.Static,
	}
	caught := 0
	for name, image := range images {
		t.Run(name, func(t *testing.T) {
			img, err := image()
			require.NoError(t, err)
			res, err := FromImage(t.Context(), img, WithDialect(DialectDocker20))
			require.NoError(t, err)
			require.NoError(t, Check(res.Dockerfile, DialectDocker20))
			assert.NotContains(t, string(res.Dockerfile), "--start-interval")
			assert.Contains(t, string(res.Dockerfile), "DOCKER_BUILDKIT=1 docker build")

			cur, err := FromImage(t.Context(), img)
			require.NoError(t, err)
			require.NoError(t, Check(cur.Dockerfile, DialectCurrent))
			if Check(cur.Dockerfile, DialectDocker20) != nil {
				caught++
			}
			assert.Equal(t, countFiles(cur.Context), countFiles(res.Context), "same build context")
		})
	}
	assert.Equal(t, len(images), caught, "every image's current Dockerfile has a health check start interval")
}

func countFiles(fs []File) int {
	n := 0
	for _, f := range fs {
		if !f.Mode.IsDir() {
			n++
		}
	}
	return n
}

func TestCheckDocker20(t *testing.T) {
	for _, tc := range []struct {
		name, df, want string
	}{
		{"ok", "FROM debian:bookworm AS a\nARG X=1\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t true\nCOPY --from=a --chown=1:1 x /\nHEALTHCHECK --interval=5s --start-period=1s CMD true\n", ""},
		{"syntax directive", "# syntax=docker/dockerfile:1.7\nFROM scratch\n", "parser directive"},
		{"heredoc", "FROM debian\nRUN <<EOF\ntrue\nEOF\n", "heredoc"},
		{"copy link", "FROM debian\nCOPY --link a /\n", "copy --link"},
		{"copy chmod", "FROM debian\nCOPY --chmod=0755 a /\n", "copy --chmod"},
		{"add checksum", "FROM debian\nADD --checksum=sha256:00 https://example.org/a /\n", "add --checksum"},
		{"start interval", "FROM debian\nHEALTHCHECK --start-interval=1s CMD true\n", "healthcheck --start-interval"},
		{"two args", "FROM debian\nARG A=1 B=2\n", "arg with more than one name"},
		{"run network", "FROM debian\nRUN --network=none true\n", "run --network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.df), DialectDocker20)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnsupported)
			assert.Contains(t, err.Error(), tc.want)
			require.NoError(t, Check([]byte(tc.df), DialectCurrent))
		})
	}
}

func TestDocker20RejectsChmod(t *testing.T) {
	base := llb.Image("docker.io/library/debian:bookworm")
	files := llb.Scratch().File(llb.Mkfile("/x", 0o644, []byte("x")), llb.WithCustomName("make x"))
	st := base.File(llb.Copy(files, "/x", "/x", &llb.CopyInfo{Mode: &llb.ChmodOpt{Mode: 0o755}}), llb.WithCustomName("copy x"))
	def, err := st.Marshal(t.Context(), llb.LinuxAmd64)
	require.NoError(t, err)
	_, err = Convert("x", def, dockerspec.DockerOCIImage{}, WithDialect(DialectDocker20))
	require.ErrorIs(t, err, ErrUnsupported)
	assert.Contains(t, err.Error(), "--chmod")
	res, err := Convert("x", def, dockerspec.DockerOCIImage{})
	require.NoError(t, err)
	assert.Contains(t, string(res.Dockerfile), "--chmod=0755")
}

func TestParseDialect(t *testing.T) {
	for _, d := range []Dialect{DialectCurrent, DialectDocker20} {
		got, err := ParseDialect(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, got)
	}
	_, err := ParseDialect("docker19")
	assert.ErrorContains(t, err, "use current or docker20")
}

func TestContextLayout(t *testing.T) {
	img, err := llbdefs.Nginx()
	require.NoError(t, err)
	plain, err := FromImage(t.Context(), img)
	require.NoError(t, err)
	seen := map[string]int{}
	res, err := FromImage(t.Context(), img, WithContextLayout(func(dir string, files []File) string {
		seen[dir] = len(files)
		return "conf/" + dir
	}))
	require.NoError(t, err)
	require.NotEmpty(t, seen)
	for dir, n := range seen {
		assert.Contains(t, string(res.Dockerfile), "conf/"+dir+"/", "the Dockerfile names the moved directory")
		assert.Positive(t, n, "the layout sees the files of %s", dir)
	}
	assert.NotContains(t, string(res.Dockerfile), "\x01")
	assert.Equal(t, countFiles(plain.Context), countFiles(res.Context))
	for _, f := range res.Context {
		assert.True(t, f.Path == "conf" || strings.HasPrefix(f.Path, "conf/"), "%s is under conf/", f.Path)
	}
	// A layout that leaves the context keeps the name.
	same, err := FromImage(t.Context(), img, WithContextLayout(func(string, []File) string { return "../x" }))
	require.NoError(t, err)
	assert.Equal(t, string(plain.Dockerfile), string(same.Dockerfile))
}
