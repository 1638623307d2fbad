package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/pkg/bench/report"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/stack"
)

func TestParseVariantCompose(t *testing.T) {
	v, err := report.ParseVariant("compose")
	require.NoError(t, err)
	assert.Equal(t, report.VariantCompose, v)
	assert.NotContains(t, report.Variants(), report.VariantCompose, "opt-in: it needs make docker-peer")
	_, err = report.ParseVariant("kaniko")
	require.ErrorIs(t, err, report.ErrUnknownVariant)
	assert.ErrorContains(t, err, "use llb, linear, dockerfile or compose")
}

// TestComposeWithoutPeer: asking for the compose variant without a
// private dockerd is refused before anything is built.
func TestComposeWithoutPeer(t *testing.T) {
	cases, err := Plan(stack.Default().Names(), []string{"nginx"}, []report.Scenario{report.ScenarioNoChange}, false)
	require.NoError(t, err)
	var bk *client.Client // never called: refused first
	_, err = NewBuildBench(t.Context(), bk, nil, cases, WithVariants(report.VariantLLB, report.VariantCompose), withTempDir(t.TempDir()))
	require.ErrorIs(t, err, ErrNoComposePeer)
	assert.ErrorContains(t, err, "make docker-peer")
}

// newComposeTestRunner is a runner with the compose variant's tree
// exported into a temporary directory, on a dockerd that is never
// started: the changes are made in files only.
func newComposeTestRunner(t *testing.T, cases []report.Case) (*runner, string) {
	t.Helper()
	r := newTestRunner(t)
	dir := t.TempDir()
	p, err := newComposePeer(t.Context(), composeConfig{daemon: &dockerpeer.Daemon{}, dir: dir}, cases)
	require.NoError(t, err)
	r.peer = p
	return r, filepath.Join(dir, "tree")
}

// TestComposeTree: the tree is the export, with the secrets its Makefile
// would make, and lists every image the cases build.
func TestComposeTree(t *testing.T) {
	cases, err := Plan(stack.Default().Names(), []string{"nginx", "wordpress"}, []report.Scenario{report.ScenarioNoChange, report.ScenarioPackage}, false)
	require.NoError(t, err)
	r, tree := newComposeTestRunner(t, cases)
	assert.Equal(t, []string{"nginx", "wordpress"}, r.peer.images)
	assert.FileExists(t, filepath.Join(tree, "srcs", "docker-compose.yml"))
	assert.FileExists(t, filepath.Join(tree, "Makefile"))
	for _, name := range []string{stack.SecretDBRoot, stack.SecretDB, stack.SecretWPAdmin, stack.SecretWPUser, stack.SecretFTP} {
		fi, err := os.Stat(filepath.Join(tree, "secrets", name+".txt"))
		require.NoError(t, err, name)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	compose, err := os.ReadFile(filepath.Join(tree, "srcs", "docker-compose.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(compose), "image: nginx:"+composeTag)
	assert.Contains(t, r.peer.packaged, packageImage, "the package scenario's Dockerfile is made up front")
}

// TestComposeChanges: each scenario's change is made in the exported tree
// where a user would make it, the file dated now, and undone after.
func TestComposeChanges(t *testing.T) {
	var cases []report.Case
	for _, sc := range []report.Scenario{report.ScenarioConfig, report.ScenarioPackage, report.ScenarioSite} {
		cs, err := Plan(stack.Default().Names(), nil, []report.Scenario{sc}, false)
		require.NoError(t, err)
		cases = append(cases, cs...)
	}
	r, tree := newComposeTestRunner(t, cases)
	r.seq = 41
	tests := []struct {
		name  string
		cs    report.Case
		file  string // where the change goes, in the tree
		wants []string
	}{
		{"config nginx", report.Case{Scenario: report.ScenarioConfig, Scope: "nginx", Images: []string{"nginx"}, Changed: "nginx"},
			"", []string{"# inceptionctl bench: config change 41\n"}},
		{"config wordpress", report.Case{Scenario: report.ScenarioConfig, Scope: "wordpress", Images: []string{"wordpress"}, Changed: "wordpress"},
			"", []string{"# inceptionctl bench: config change 41\n"}},
		{"site", report.Case{Scenario: report.ScenarioSite, Scope: "static", Images: []string{"static"}, Changed: "static"},
			"", []string{"<!-- inceptionctl bench: site change 41 -->\n"}},
		{"package", report.Case{Scenario: report.ScenarioPackage, Scope: "nginx", Images: []string{"nginx"}, Changed: "nginx"},
			filepath.Join(tree, "srcs", "requirements", "nginx", "Dockerfile"), []string{`"` + addedPackage + `"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file == "" {
				ch, ok := r.change(tc.cs.Changed, tc.cs.Scenario)
				require.True(t, ok)
				var err error
				file, err = exportedFile(tree, tc.cs.Changed, ch.file)
				require.NoError(t, err)
				assert.True(t, strings.HasPrefix(file, filepath.Join(tree, "srcs", "requirements", tc.cs.Changed)+"/"), file)
			}
			orig, err := os.ReadFile(file)
			require.NoError(t, err)
			before := time.Now().Add(-time.Second)
			undo, err := r.composeChange(tc.cs)
			require.NoError(t, err)
			changed, err := os.ReadFile(file)
			require.NoError(t, err)
			for _, w := range tc.wants {
				assert.Contains(t, string(changed), w)
			}
			if tc.cs.Scenario == report.ScenarioPackage {
				assert.Equal(t, countLines(orig), countLines(changed), "the package goes into the install line, no step is added")
				assert.NotContains(t, string(orig), `"`+addedPackage+`"`)
			} else {
				assert.Equal(t, string(orig)+tc.wants[0], string(changed), "one line appended")
			}
			fi, err := os.Stat(file)
			require.NoError(t, err)
			assert.True(t, fi.ModTime().After(before), "dated now: docker sends the context by size and time")
			undo()
			back, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, string(orig), string(back), "undone")
		})
	}
}

func countLines(b []byte) int { return strings.Count(string(b), "\n") }

// TestComposeConfigFilesExported: every image's config-change file is in
// its exported tree once, where composeChange finds it.
func TestComposeConfigFilesExported(t *testing.T) {
	cases, err := Plan(stack.Default().Names(), nil, []report.Scenario{report.ScenarioNoChange}, false)
	require.NoError(t, err)
	_, tree := newComposeTestRunner(t, cases)
	for _, img := range stack.Default().Names() {
		for _, sc := range []report.Scenario{report.ScenarioConfig, report.ScenarioSite} {
			var ch fileChange
			var ok bool
			if sc == report.ScenarioConfig {
				ch, ok = configChange(img)
			} else {
				ch, ok = siteChange(img)
			}
			if !ok {
				continue
			}
			_, err := exportedFile(tree, img, ch.file)
			assert.NoError(t, err, "%s %s", img, sc)
		}
	}
}

// TestComposeStages: the exported Dockerfiles' stages, each to the one
// image that has it.
func TestComposeStages(t *testing.T) {
	cases, err := Plan(stack.Default().Names(), nil, []report.Scenario{report.ScenarioNoChange}, false)
	require.NoError(t, err)
	r, _ := newComposeTestRunner(t, cases)
	got, err := r.peer.stages([]string{"nginx", "wordpress", "static"})
	require.NoError(t, err)
	assert.Equal(t, "nginx", got["nginx"])
	assert.Equal(t, "wordpress", got["wordpress"])
	assert.Equal(t, "static", got["static"])
	assert.Equal(t, "", got["install-packages"], "wordpress and static both have it")
	got, err = r.peer.stages([]string{"nginx", "wordpress"})
	require.NoError(t, err)
	assert.Equal(t, "wordpress", got["install-packages"])
}

func TestParsePlainProgress(t *testing.T) {
	one := `#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 1.2kB done
#1 DONE 0.0s

#2 [internal] load metadata for docker.io/library/debian:bookworm
#2 DONE 0.0s

#3 [nginx 1/4] FROM docker.io/library/debian:bookworm
#3 DONE 0.0s

#4 [internal] load build context
#4 transferring context: 2.1kB done
#4 DONE 0.1s

#5 [nginx 2/4] RUN --mount=type=cache,target=/var/cache/apt apt-get install -y nginx
#5 CACHED

#6 [nginx 3/4] COPY conf/config/ /
#6 DONE 0.3s

#7 [nginx 4/4] RUN chmod 755 /usr/local/bin/nginx-entrypoint
#7 1.021 some output
#7 DONE 1.5s

#8 exporting to image
#8 exporting layers 0.2s done
#8 DONE 0.3s
`
	steps := parsePlainProgress(one, []string{"nginx"}, nil)
	require.Len(t, steps["nginx"], 3, "FROM, [internal] and the export are not steps")
	assert.Equal(t, build.Step{Name: "[nginx 2/4] RUN --mount=type=cache,target=/var/cache/apt apt-get install -y nginx", Cached: true}, steps["nginx"][0])
	assert.Equal(t, build.Step{Name: "[nginx 3/4] COPY conf/config/ /", Duration: 300 * time.Millisecond}, steps["nginx"][1])
	assert.False(t, steps["nginx"][2].Cached)
	assert.Equal(t, 1500*time.Millisecond, steps["nginx"][2].Duration)

	// Several services: compose puts the service first in the bracket.
	two := `#1 [nginx internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [wordpress internal] load build definition from Dockerfile
#2 DONE 0.0s
#5 [wordpress wordpress 2/3] RUN apt-get install -y php
#6 [nginx 2/3] RUN apt-get install -y nginx
#5 CACHED
#6 CACHED
#7 [nginx 3/3] COPY conf/ /
#8 [wordpress wordpress 3/3] COPY tools/ /
#7 DONE 0.1s
#8 DONE 0.2s
#9 [wordpress 1/3] FROM docker.io/library/debian:bookworm
`
	steps = parsePlainProgress(two, []string{"nginx", "wordpress"}, nil)
	require.Len(t, steps["nginx"], 2)
	require.Len(t, steps["wordpress"], 2)
	assert.True(t, steps["wordpress"][0].Cached)
	assert.False(t, steps["wordpress"][1].Cached)
	assert.Equal(t, "[wordpress wordpress 3/3] COPY tools/ /", steps["wordpress"][1].Name)
	assert.Empty(t, parsePlainProgress("nothing to read\n", []string{"nginx"}, nil))

	// No prefix: the stage named after the image, or a stage one image
	// alone has; a stage two images have goes to the stack.
	three := `#5 [install-packages 2/4] RUN apt-get install -y php
#5 CACHED
#6 [nginx 2/3] RUN apt-get install -y nginx
#6 DONE 2.0s
#7 [builder 1/2] RUN make
#7 CACHED
`
	steps = parsePlainProgress(three, []string{"nginx", "wordpress"}, map[string]string{"install-packages": "wordpress", "wordpress": "wordpress", "nginx": "nginx", "builder": ""})
	require.Len(t, steps["wordpress"], 1)
	require.Len(t, steps["nginx"], 1)
	require.Len(t, steps[report.ScopeStack], 1)
	assert.Equal(t, "[builder 1/2] RUN make", steps[report.ScopeStack][0].Name)
	assert.True(t, slices.ContainsFunc(steps["nginx"], func(s build.Step) bool { return !s.Cached }))
}
