package integration

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/base"
	"github.com/inceptionctl/inception/pkg/build"
	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/repro"
	"github.com/inceptionctl/inception/pkg/sbom"
	"github.com/inceptionctl/inception/pkg/stack"
)

// TestReproCatchesAClock: an exec that writes the clock into a file makes
// two builds differ, and repro names that file in that layer; the layers
// below are the same.
func TestReproCatchesAClock(t *testing.T) {
	ctx, e := setup(t)
	st := llb.Image(base.DefaultRef, llb.ResolveModePreferLocal).
		Run(llb.Args([]string{"/bin/sh", "-c", "date +%s%N > /stamp"}), llb.WithCustomName("repro test: the clock")).Root()
	def, err := st.Marshal(ctx)
	require.NoError(t, err)
	cfg, err := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}})
	require.NoError(t, err)
	targets := []build.Target{{Service: "clock", Ref: "docker.io/inception/clock:repro", Definition: def, Config: cfg}}
	results, err := repro.Run(ctx, e.bk, targets, t.TempDir(), build.WithSourceDateEpoch(time.Unix(base.DefaultSourceDateEpoch, 0)))
	require.ErrorIs(t, err, repro.ErrNotReproducible)
	require.Len(t, results, 1)
	r := results[0]
	assert.NotEqual(t, r.First, r.Second)
	require.NotNil(t, r.Diff)
	require.Len(t, r.Diff.Layers, 1, "only the exec's layer differs: %+v", r.Diff)
	assert.Equal(t, 1, r.Diff.Layers[0].Index)
	var paths []string
	for _, f := range r.Diff.Layers[0].Files {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{"/stamp"}, paths, "the clock's file and nothing else")
}

// TestReproSameDigests: two uncached builds of the images named by
// INCEPTION_TEST_SERVICES (default redis: the cheapest Debian image; static
// installs a Go toolchain) give the same digests.
func TestReproSameDigests(t *testing.T) {
	ctx, e := setup(t)
	names := []string{"redis"}
	if v := os.Getenv("INCEPTION_TEST_SERVICES"); v != "" {
		names = strings.Split(v, ",")
	}
	st, err := stack.Default().Retag("repro")
	require.NoError(t, err)
	svcs, err := st.Select(names)
	require.NoError(t, err)
	targets, err := build.Targets(ctx, svcs, llbdefs.Recipes())
	require.NoError(t, err)
	results, err := repro.Run(ctx, e.bk, targets, t.TempDir(), build.WithProgress(os.Stderr, "plain"),
		build.WithSourceDateEpoch(time.Unix(base.DefaultSourceDateEpoch, 0)))
	for _, r := range results {
		t.Logf("%s: %s %s", r.Service, r.First, r.Second)
		if r.Diff != nil {
			var b strings.Builder
			r.Diff.Write(&b)
			t.Logf("%s differs:\n%s", r.Service, b.String())
		}
	}
	require.NoError(t, err)
}

// TestAttestationsInOCITarball: an OCI tarball export carries the SBOM and
// the SLSA provenance as in-toto attestations in an attestation manifest
// of the image index whose subject is the image's manifest.
func TestAttestationsInOCITarball(t *testing.T) {
	ctx, e := setup(t)
	st, err := stack.Default().Retag("attest")
	require.NoError(t, err)
	svcs, err := st.Select([]string{"redis"})
	require.NoError(t, err)
	targets, err := build.Targets(ctx, svcs, llbdefs.Recipes())
	require.NoError(t, err)
	dir := t.TempDir()
	var doc []byte
	b, err := build.New(e.bk, build.WithoutStore(),
		build.WithOutputs(build.Output{Type: client.ExporterOCI, Dest: filepath.Join(dir, "redis.tar")}),
		build.WithSourceDateEpoch(time.Unix(base.DefaultSourceDateEpoch, 0)),
		build.WithProvenance("max"),
		build.WithResultHook(func(ctx context.Context, c gateway.Client, t build.Target, res *gateway.Result) error {
			var err error
			doc, err = sbom.Attach(ctx, c, res, t.Ref)
			return err
		}))
	require.NoError(t, err)
	_, err = b.Build(ctx, targets)
	require.NoError(t, err)
	require.NotEmpty(t, doc)

	blobs := readTar(t, filepath.Join(dir, "redis.tar"))
	var idx ocispec.Index
	require.NoError(t, json.Unmarshal(blobs["index.json"], &idx))
	require.Len(t, idx.Manifests, 1)
	require.NoError(t, json.Unmarshal(blobs["blobs/sha256/"+idx.Manifests[0].Digest.Encoded()], &idx), "an image index")
	var image, att *ocispec.Descriptor
	for i, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			att = &idx.Manifests[i]
		} else {
			image = &idx.Manifests[i]
		}
	}
	require.NotNil(t, image, "the image manifest")
	require.NotNil(t, att, "an attestation manifest")
	assert.Equal(t, image.Digest.String(), att.Annotations["vnd.docker.reference.digest"])

	var am ocispec.Manifest
	require.NoError(t, json.Unmarshal(blobs["blobs/sha256/"+att.Digest.Encoded()], &am))
	predicates := map[string]bool{}
	for _, l := range am.Layers {
		var stmt struct {
			PredicateType string `json:"predicateType"`
			Subject       []struct {
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			Predicate json.RawMessage `json:"predicate"`
		}
		require.NoError(t, json.Unmarshal(blobs["blobs/sha256/"+l.Digest.Encoded()], &stmt))
		predicates[stmt.PredicateType] = true
		require.NotEmpty(t, stmt.Subject)
		assert.Equal(t, image.Digest.Encoded(), stmt.Subject[0].Digest["sha256"], "the statement names the image")
		if stmt.PredicateType == sbom.PredicateSPDX {
			assert.Contains(t, string(stmt.Predicate), "pkg:deb/debian/redis-server@")
		}
	}
	assert.True(t, predicates[sbom.PredicateSPDX], "an SPDX SBOM: %v", predicates)
	assert.True(t, predicates["https://slsa.dev/provenance/v0.2"] || predicates["https://slsa.dev/provenance/v1"], "SLSA provenance: %v", predicates)
}

func readTar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if h.Typeflag != tar.TypeReg || h.Size > 64<<20 {
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = b
	}
}
