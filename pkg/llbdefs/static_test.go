package llbdefs

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Vertex names the static tests look for.
const (
	staticInstallName = "static: install packages"
	staticSourceName  = "static: server source"
	staticBuildName   = "static: go build static-server"
	staticTiniName    = "static: tini-static from the builder"
	staticUsersName   = "static: passwd and group"
	staticSiteName    = "static: site"
	staticImageName   = "static: assemble image"
)

type staticCase struct {
	name        string
	distro      Distro
	wantRef     string
	wantInstall installWant
	wantTini    string
	wantCaches  map[string]string // of the go build
}

func staticCases() []staticCase {
	goCaches := map[string]string{
		"/root/.cache/go-build": "inception-go-build-static",
		"/root/go":              "inception-go-path-static",
	}
	return []staticCase{
		{
			name:        "debian",
			distro:      Debian(),
			wantRef:     DebianRef,
			wantInstall: installWant{command: aptInstall, pkgs: []string{"golang-go", "tini"}, caches: aptCaches("static")},
			wantTini:    "/usr/bin/tini-static",
			wantCaches:  goCaches,
		},
		{
			name:        "alpine",
			distro:      Alpine(),
			wantRef:     AlpineRef,
			wantInstall: installWant{command: apkInstall, pkgs: []string{"go", "tini-static"}},
			wantTini:    "/sbin/tini-static",
			wantCaches:  goCaches,
		},
	}
}

func TestStaticGraph(t *testing.T) {
	for _, tc := range staticCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Static(WithDistro(tc.distro))
			require.NoError(t, err)
			assert.Equal(t, "static", img.Name)
			g := marshalGraph(t, img)
			checkVertexNames(t, g)
			installDgst, _ := checkInstall(t, g, "static", tc.distro.Family(), tc.wantInstall)
			checkBase(t, g, "static", tc.wantRef)

			// The go build: the source as a read-only mount of its own
			// layer, caches for the toolchain, the binary alone in /out.
			buildDgst, buildOp := g.named(t, staticBuildName)
			exec := buildOp.GetExec()
			require.NotNil(t, exec)
			assert.Equal(t, []string{"go", "build", "-buildvcs=false", "-ldflags=-s -w", "-o", "/out/static-server", "main.go"}, exec.Meta.Args)
			assert.Equal(t, "/src", exec.Meta.Cwd)
			assert.Subset(t, exec.Meta.Env, []string{"CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOPROXY=off",
				"GOCACHE=/root/.cache/go-build", "GOPATH=/root/go"})
			assert.Equal(t, pb.NetMode_UNSET, exec.Network)
			sourceDgst, sourceOp := g.named(t, staticSourceName)
			assert.Empty(t, sourceOp.Inputs, "source layer from scratch")
			caches := map[string]string{}
			outIndex := int64(-1)
			for _, m := range exec.Mounts {
				switch {
				case m.MountType == pb.MountType_CACHE:
					caches[m.Dest] = m.CacheOpt.ID
					assert.Equal(t, pb.CacheSharingOpt_SHARED, m.CacheOpt.Sharing)
				case m.Dest == "/":
					assert.Equal(t, installDgst, digest.Digest(buildOp.Inputs[m.Input].Digest), "builds in the builder")
				case m.Dest == "/src":
					assert.True(t, m.Readonly)
					assert.Equal(t, sourceDgst, digest.Digest(buildOp.Inputs[m.Input].Digest))
				case m.Dest == "/out":
					assert.Equal(t, int64(pb.Empty), m.Input, "/out starts empty")
					assert.GreaterOrEqual(t, m.Output, int64(0))
					outIndex = m.Output
				default:
					t.Errorf("unexpected mount %s", m.Dest)
				}
			}
			assert.Equal(t, tc.wantCaches, caches)
			require.GreaterOrEqual(t, outIndex, int64(0), "/out is an output")

			// The image: a merge of four layers, none of them the builder.
			require.Equal(t, staticImageName, g.names[g.result])
			merge := g.ops[g.result]
			require.NotNil(t, merge.GetMerge())
			var layers []string
			for _, in := range merge.Inputs {
				layers = append(layers, g.names[digest.Digest(in.Digest)])
			}
			assert.Equal(t, []string{staticTiniName, staticUsersName, staticBuildName, staticSiteName}, layers, "site last")
			server := merge.Inputs[2]
			assert.Equal(t, buildDgst, digest.Digest(server.Digest))
			assert.Equal(t, outIndex, server.Index, "the /out mount, not the builder's root")
			for _, name := range []string{staticUsersName, staticSiteName} {
				_, op := g.named(t, name)
				assert.Empty(t, op.Inputs, "%s from scratch", name)
			}
			tiniDgst, tiniOp := g.named(t, staticTiniName)
			require.Len(t, tiniOp.GetFile().Actions, 1)
			cp := tiniOp.GetFile().Actions[0]
			assert.Equal(t, int64(-1), cp.Input, "onto scratch")
			require.NotNil(t, cp.GetCopy())
			assert.Equal(t, tc.wantTini, cp.GetCopy().Src)
			assert.Equal(t, tc.wantTini, cp.GetCopy().Dest)
			assert.True(t, g.ancestors(tiniDgst)[installDgst], "tini-static comes from the builder's install")

			site := map[string]int32{}
			for _, a := range g.ops[digest.Digest(merge.Inputs[3].Digest)].GetFile().Actions {
				if mk := a.GetMkfile(); mk != nil {
					site[mk.Path] = mk.Mode
				}
			}
			assert.Equal(t, map[string]int32{"/srv/site/index.html": 0o644, "/srv/site/style.css": 0o644}, site)
		})
	}
}

func TestStaticImageConfig(t *testing.T) {
	for _, tc := range staticCases() {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Static(WithDistro(tc.distro))
			require.NoError(t, err)
			checkImageConfig(t, img, configWant{
				entrypoint: []string{tc.wantTini, "--"},
				cmd:        []string{"/static-server", "-root", "/srv/site", "-addr", ":8080"},
				ports:      []string{"8080/tcp"},
				workDir:    "/",
				user:       "nonroot",
				stopSignal: "SIGTERM",
				baseRef:    tc.wantRef,
				health:     serviceHealth(3*time.Second, 30*time.Second, "CMD", "/static-server", "-healthcheck"),
			})
		})
	}
}

// TestStaticFileChanges: which vertices each embedded file reaches. A site
// change never rebuilds the server; a source change never touches the site.
func TestStaticFileChanges(t *testing.T) {
	tests := []struct {
		file        string
		wantChanged []string
	}{
		{file: "site/index.html", wantChanged: []string{staticSiteName, staticImageName}},
		{file: "site/style.css", wantChanged: []string{staticSiteName, staticImageName}},
		{file: "passwd", wantChanged: []string{staticUsersName, staticImageName}},
		{file: "main.go", wantChanged: []string{staticSourceName, staticBuildName, staticImageName}},
	}
	for _, tc := range staticCases() {
		t.Run(tc.name, func(t *testing.T) {
			for _, ch := range tests {
				checkFileChanges(t, "static", tc.distro, []string{ch.file}, ch.wantChanged...)
			}
		})
	}
}

// TestStaticEmbeddedFiles: the server's test stays out of the image, and
// the users file gives the image's user a fixed id and no shell.
func TestStaticEmbeddedFiles(t *testing.T) {
	_, err := staticFiles.ReadFile("files/static/main_test.go")
	assert.Error(t, err, "main_test.go is not embedded")

	passwd, err := staticFiles.ReadFile("files/static/passwd")
	require.NoError(t, err)
	assert.Contains(t, string(passwd), "nonroot:x:65532:65532:")
	for line := range strings.Lines(string(passwd)) {
		fields := strings.Split(strings.TrimSpace(line), ":")
		require.Len(t, fields, 7, line)
		assert.Equal(t, "/sbin/nologin", fields[6], "no shell: %s", line)
	}
	group, err := staticFiles.ReadFile("files/static/group")
	require.NoError(t, err)
	assert.Contains(t, string(group), "nonroot:x:65532:")

	src, err := staticFiles.ReadFile("files/static/main.go")
	require.NoError(t, err)
	for _, want := range []string{"ReadHeaderTimeout", "IdleTimeout", `"healthcheck"`, "srv.Shutdown", `"127.0.0.1"`} {
		assert.Contains(t, string(src), want)
	}
	// Standard library only: the build runs with GOPROXY=off and no go.mod.
	assert.NotContains(t, string(src), `"github.com/`)
	assert.NotContains(t, string(src), `"golang.org/`)
}
