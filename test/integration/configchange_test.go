package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestConfigChangeRebuildsOnlyConfigLayer changes one embedded config file
// of each image (a comment appended, in a scratch copy) and builds it: the
// comment carries the time, so the build cache of an earlier run (the
// engine's state outlives a test run) never holds the changed layer. The
// solve's status stream must show no package install re-running, only the
// vertices of the config layer and the merge on top of it.
func TestConfigChangeRebuildsOnlyConfigLayer(t *testing.T) {
	ctx, e := setup(t)
	changed := map[string]string{
		"nginx":   "inception.conf",
		"mariadb": "mariadb/inception.cnf",
		"redis":   "redis/redis.conf",
		"vsftpd":  "vsftpd.conf",
	}
	for svc, file := range changed {
		t.Run(svc, func(t *testing.T) {
			buildServices(ctx, t, e, svc) // the unchanged image, cached or built
			orig, err := llbdefs.Files(svc)
			require.NoError(t, err)
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, orig))
			p := filepath.Join(dir, file)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, append(data, fmt.Appendf(nil, "\n# changed by %s at %d\n", t.Name(), time.Now().UnixNano())...), 0o644))

			img, err := llbdefs.FromFiles(svc, os.DirFS(dir))
			require.NoError(t, err)
			def, err := img.Marshal(ctx)
			require.NoError(t, err)
			cfg, err := img.ConfigJSON()
			require.NoError(t, err)
			ref, err := stack.ImageRef(svc+"-configchange", "test")
			require.NoError(t, err)
			b, err := build.New(e.bk, build.WithProgress(os.Stderr, "quiet"))
			require.NoError(t, err)
			rep, err := b.Build(ctx, []build.Target{{Service: svc, Ref: ref, Definition: def, Config: cfg}})
			require.NoError(t, err)
			r := rep.Images[0]
			require.NotEmpty(t, r.Ran, "a changed file must rebuild something")
			for _, name := range r.Ran {
				assert.NotContains(t, name, "install", "%s: a config change re-ran %q", svc, name)
			}
			assert.Contains(t, r.Ran, svc+": add config layer", "%s: the merge of the config layer re-runs", svc)
			assert.Positive(t, r.Cached, "the package layers came from the cache")
		})
	}
}
