package llbdefs

import (
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptions(t *testing.T) {
	const pinned = "docker.io/library/debian@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		opts    []Option
		wantErr error
		wantRef string // the source op's reference and the base.name label
	}{
		{name: "default", wantRef: DebianRef},
		{name: "alpine", opts: []Option{WithDistro(Alpine())}, wantRef: AlpineRef},
		{name: "base by digest", opts: []Option{WithBase(pinned)}, wantRef: pinned},
		{name: "local base", opts: []Option{WithBase("localhost/inception/debian:bookworm-20260101")}, wantRef: "localhost/inception/debian:bookworm-20260101"},
		{name: "short name is normalised", opts: []Option{WithBase("debian:bookworm-slim")}, wantRef: "docker.io/library/debian:bookworm-slim"},
		{name: "zero distro", opts: []Option{WithDistro(Distro{})}, wantErr: ErrNoDistro},
		{name: "untagged base", opts: []Option{WithBase("docker.io/library/debian")}, wantErr: ErrBaseRef},
		{name: "latest base", opts: []Option{WithBase("debian:latest")}, wantErr: ErrBaseRef},
		{name: "unparsable base", opts: []Option{WithBase("Debian::x")}, wantErr: ErrBaseRef},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Nginx(tc.opts...)
			ref, rerr := BaseRef(tc.opts...)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.ErrorIs(t, rerr, tc.wantErr, "BaseRef")
				return
			}
			require.NoError(t, err)
			require.NoError(t, rerr)
			assert.Equal(t, tc.wantRef, ref, "BaseRef names the image's base")
			g := marshalGraph(t, img)
			var sources []string
			for _, d := range g.order {
				if src := g.ops[d].GetSource(); src != nil {
					sources = append(sources, src.Identifier)
				}
			}
			assert.Equal(t, []string{"docker-image://" + tc.wantRef}, sources)
			assert.Equal(t, tc.wantRef, img.Config.Config.Labels["org.opencontainers.image.base.name"])
		})
	}
}

func TestInstallErrors(t *testing.T) {
	tests := []struct {
		name    string
		opt     llb.StateOption
		wantErr error
		wantMsg string
	}{
		{name: "no packages", opt: Debian().Install("redis"), wantMsg: "empty package list"},
		{name: "zero distro", opt: Distro{}.Install("redis", "redis-server"), wantErr: ErrNoDistro},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := llb.Image(DebianRef).With(tc.opt).Marshal(t.Context())
			require.Error(t, err)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			assert.Contains(t, err.Error(), tc.wantMsg)
		})
	}
}

func TestDistros(t *testing.T) {
	tests := []struct {
		name     string
		distro   Distro
		wantName string
		family   Family
		ref      string
		tini     string
	}{
		{name: "default", distro: DefaultDistro(), wantName: "debian-bookworm", family: FamilyDebian, ref: DebianRef, tini: "/usr/bin/tini"},
		{name: "debian", distro: Debian(), wantName: "debian-bookworm", family: FamilyDebian, ref: DebianRef, tini: "/usr/bin/tini"},
		{name: "alpine", distro: Alpine(), wantName: "alpine-3.23", family: FamilyAlpine, ref: AlpineRef, tini: "/sbin/tini"},
		{name: "zero", distro: Distro{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.wantName, tc.distro.Name())
			assert.Equal(t, tc.family, tc.distro.Family())
			assert.Equal(t, tc.ref, tc.distro.Ref())
			assert.Equal(t, tc.tini, tc.distro.Layout().Tini)
			if tc.ref != "" {
				ref, err := checkBaseRef(tc.ref)
				assert.NoError(t, err, "default refs pin a release")
				assert.Equal(t, tc.ref, ref, "default refs are written in full")
			}
		})
	}
}
