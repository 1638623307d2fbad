package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/core/snapshots"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	specsgo "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/llbdefs"
	"github.com/inceptionctl/inception/pkg/stack"
)

// BenchmarkContainerSpecs generates the OCI runtime spec of every container
// of the Inception stack as `up` does before it creates them: oci.GenerateSpec
// with the options specOpts gives (containerd's default spec, the image
// config, then one option per concern).
//
// No daemon: the stack is planned by the runtime's own plan against a
// containerd client whose image and content stores are in process and hold
// each service's real image config (from llbdefs), and whose snapshotter
// shows a directory with the image's /etc/passwd and /etc/group as the
// container's root filesystem, which containerd reads for the users.
func BenchmarkContainerSpecs(b *testing.B) {
	ctx := namespaces.WithNamespace(b.Context(), "inception")
	r, st := benchRuntime(ctx, b)
	sp, err := r.plan(ctx, st)
	require.NoError(b, err)
	require.Len(b, sp.services, len(st.Services), "every service of the stack is planned")
	names := make([]string, 0, len(sp.services))
	for n := range sp.services {
		names = append(names, n)
	}
	sort.Strings(names)
	pth := r.paths(sp.name)

	// Once, outside the measure: the specs are whole, so the loop below
	// cannot measure a short cut.
	for _, n := range names {
		p := sp.services[n]
		s, err := containerSpec(ctx, r, p, pth)
		require.NoError(b, err, "spec of %s", n)
		checkBenchSpec(b, p, pth, s)
	}

	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			if _, err := containerSpec(ctx, r, sp.services[n], pth); err != nil {
				b.Fatalf("spec of %s: %v", n, err)
			}
		}
	}
	b.ReportMetric(float64(len(names)), "containers/op")
}

// containerSpec is what containerd.WithNewSpec makes of specOpts when
// createContainer creates p's container.
func containerSpec(ctx context.Context, r *Runtime, p *servicePlan, pth paths) (*oci.Spec, error) {
	c := &containers.Container{ID: p.id, Image: p.ref, Snapshotter: r.cfg.snapshotter, SnapshotKey: p.id}
	return oci.GenerateSpec(ctx, r.cd, c, r.specOpts(p, pth)...)
}

// checkBenchSpec checks that s is the whole spec of p's container: the
// image's command and environment under the service's, the service's
// hostname and network namespace, every mount it needs in an order that
// hides none, the users resolved from the image, the security settings.
func checkBenchSpec(b *testing.B, p *servicePlan, pth paths, s *oci.Spec) {
	b.Helper()
	name := p.svc.Name
	require.NotNil(b, s.Process, name)
	require.NotEmpty(b, s.Process.Args, "%s: no process args", name)
	assert.Equal(b, append(slices.Clone(p.config.Config.Entrypoint), p.config.Config.Cmd...), s.Process.Args, name)
	assert.Contains(b, s.Process.Env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", name)
	for k, v := range p.svc.Env {
		assert.Contains(b, s.Process.Env, k+"="+v, name)
	}
	assert.Equal(b, name, s.Hostname)
	require.NotNil(b, s.Linux, name)
	assert.Contains(b, s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: pth.netnsPath(name)}, name)

	require.NotEmpty(b, s.Mounts, "%s: no mounts", name)
	at := map[string]int{}
	for i, m := range s.Mounts {
		at[m.Destination] = i
	}
	want := []string{"/proc", "/dev", "/run", "/tmp", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
	for _, sec := range p.svc.Secrets {
		want = append(want, "/run/secrets/"+sec)
		assert.Less(b, at["/run"], at["/run/secrets/"+sec], "%s: the /run tmpfs would hide %s", name, sec)
	}
	for _, m := range p.svc.Mounts {
		want = append(want, m.Target)
	}
	for _, dst := range want {
		assert.Contains(b, at, dst, "%s: mount on %s", name, dst)
	}
	assert.Len(b, s.Mounts, len(at), "%s: one mount per destination", name)

	if p.config.Config.User == "nonroot" {
		// Resolved from the image's /etc/passwd through the snapshot.
		assert.Equal(b, uint32(65532), s.Process.User.UID, name)
		assert.Equal(b, uint32(65532), s.Process.User.GID, name)
	} else {
		assert.Zero(b, s.Process.User.UID, name)
	}
	assert.True(b, s.Process.NoNewPrivileges, name)
	require.NotNil(b, s.Linux.Seccomp, name)
	require.NotNil(b, s.Process.Capabilities, name)
	for _, c := range droppedCaps {
		assert.NotContains(b, s.Process.Capabilities.Bounding, c, name)
	}
}

// benchRuntime returns a Runtime on an in-process containerd client that
// holds the images of the Inception stack, and the stack configured from a
// test .env with every bonus service on and every secret present.
func benchRuntime(ctx context.Context, b *testing.B) (*Runtime, stack.Stack) {
	b.Helper()
	dir := b.TempDir()
	cfg, err := stack.NewConfig(map[string]string{
		"LOGIN":       "bench",
		"DATA_DIR":    filepath.Join(dir, "data"),
		"SECRETS_DIR": filepath.Join(dir, "secrets"),
	})
	require.NoError(b, err)
	_, err = cfg.EnsureSecrets()
	require.NoError(b, err)
	// The optional secrets too: TLS for nginx and vsftpd, so every secret
	// mount is in the specs.
	for _, s := range []string{stack.SecretTLSCert, stack.SecretTLSKey} {
		require.NoError(b, os.WriteFile(filepath.Join(cfg.SecretsDir, s), []byte("bench-"+s), 0o600))
	}
	st, err := stack.Inception(cfg)
	require.NoError(b, err)

	cs, err := local.NewStore(filepath.Join(dir, "content"))
	require.NoError(b, err)
	store := imageStore{}
	rootfs := snapshotter{dirs: map[string]string{}}
	for _, svc := range st.Services {
		img, err := llbdefs.Recipes()[svc.Build.Recipe]()
		require.NoError(b, err)
		ref, err := stack.NormalizeImage(svc.Image)
		require.NoError(b, err)
		store[ref] = images.Image{Name: ref, Target: writeImage(ctx, b, cs, img)}
		rootfs.dirs[containerID(st.Name, svc.Name)] = imageRootfs(b, filepath.Join(dir, "rootfs", svc.Name), svc.Name)
	}
	cd, err := containerd.New("",
		containerd.WithDefaultPlatform(platforms.Only(ocispec.Platform{OS: "linux", Architecture: "amd64"})),
		containerd.WithServices(
			containerd.WithContentStore(cs),
			containerd.WithImageStore(store),
			containerd.WithSnapshotters(map[string]snapshots.Snapshotter{DefaultSnapshotter: rootfs}),
		))
	require.NoError(b, err)
	b.Cleanup(func() { cd.Close() })

	r, err := New(cd,
		WithRoot(filepath.Join(dir, "root")), WithRunDir(filepath.Join(dir, "run")),
		WithDataDir(cfg.DataDir), WithSecretsDir(cfg.SecretsDir), WithHostIP("127.0.0.1"),
		WithHelper("/usr/bin/true"))
	require.NoError(b, err)
	return r, st
}

// writeImage writes img's config and a manifest without layers (specs do
// not look at layers) into cs, and returns the manifest's descriptor.
func writeImage(ctx context.Context, b *testing.B, cs content.Store, img llbdefs.Image) ocispec.Descriptor {
	b.Helper()
	cfg, err := img.ConfigJSON()
	require.NoError(b, err)
	cfgDesc := writeBlob(ctx, b, cs, ocispec.MediaTypeImageConfig, cfg)
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specsgo.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    []ocispec.Descriptor{},
	})
	require.NoError(b, err)
	return writeBlob(ctx, b, cs, ocispec.MediaTypeImageManifest, manifest)
}

func writeBlob(ctx context.Context, b *testing.B, cs content.Store, mediaType string, dt []byte) ocispec.Descriptor {
	b.Helper()
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(dt), Size: int64(len(dt))}
	require.NoError(b, content.WriteBlob(ctx, cs, desc.Digest.String(), bytes.NewReader(dt), desc))
	return desc
}

// debianUsers are the users and groups of a Debian base image that the
// specs can name (base-passwd's fixed ids).
const (
	debianPasswd = "root:x:0:0:root:/root:/bin/bash\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n" +
		"www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	debianGroup = "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nnogroup:x:65534:\n"
)

// imageRootfs makes dir the root filesystem containerd reads users from:
// the static image's own passwd and group files (it is FROM scratch), the
// Debian base's for the others.
func imageRootfs(b *testing.B, dir, service string) string {
	b.Helper()
	passwd, group := []byte(debianPasswd), []byte(debianGroup)
	if service == "static" {
		files, err := llbdefs.Files("static")
		require.NoError(b, err)
		passwd, err = fs.ReadFile(files, "passwd")
		require.NoError(b, err)
		group, err = fs.ReadFile(files, "group")
		require.NoError(b, err)
	}
	require.NoError(b, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	require.NoError(b, os.WriteFile(filepath.Join(dir, "etc", "passwd"), passwd, 0o644))
	require.NoError(b, os.WriteFile(filepath.Join(dir, "etc", "group"), group, 0o644))
	return dir
}

// imageStore is an images.Store that can only look images up, which is
// all that planning asks of it.
type imageStore map[string]images.Image

var _ images.Store = imageStore{}

func (s imageStore) Get(_ context.Context, name string) (images.Image, error) {
	img, ok := s[name]
	if !ok {
		return images.Image{}, errdefs.ErrNotFound
	}
	return img, nil
}

func (s imageStore) List(context.Context, ...string) ([]images.Image, error) {
	return nil, errdefs.ErrNotImplemented
}

func (s imageStore) Create(context.Context, images.Image) (images.Image, error) {
	return images.Image{}, errdefs.ErrNotImplemented
}

func (s imageStore) Update(context.Context, images.Image, ...string) (images.Image, error) {
	return images.Image{}, errdefs.ErrNotImplemented
}

func (s imageStore) Delete(context.Context, string, ...images.DeleteOpt) error {
	return errdefs.ErrNotImplemented
}

// snapshotter shows a directory per snapshot key as a bind mount, which
// containerd reads without mounting anything. Only Mounts is implemented:
// a call to anything else is a bug in the benchmark and panics.
type snapshotter struct {
	snapshots.Snapshotter
	dirs map[string]string
}

func (s snapshotter) Mounts(_ context.Context, key string) ([]mount.Mount, error) {
	dir, ok := s.dirs[key]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	return []mount.Mount{{Type: "bind", Source: dir, Options: []string{"rbind", "ro"}}}, nil
}
