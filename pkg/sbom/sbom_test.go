package sbom

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"os"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type file struct {
	name, body, link string
	typ              byte
	mode             int64
}

func layer(t *testing.T, files ...file) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Linkname: f.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.body))
		}
		require.NoError(t, tw.WriteHeader(h))
		if h.Typeflag == tar.TypeReg {
			_, err := tw.Write([]byte(f.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return &b
}

const statusBase = `Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Maintainer: Santiago Vila <sanvila@debian.org>
Version: 12.4+deb12u8
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Description: GCC support library

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
`

const statusTop = statusBase + `
Package: redis-server
Status: install ok installed
Architecture: amd64
Source: redis
Version: 5:7.0.15-1~deb12u1
`

const copyrightDEP5 = `Format: https://www.debian.org/doc/packaging-manifests/copyright-format/1.0/
Upstream-Name: redis

Files: deps/*
License: BSD-3-clause

Files: *
Copyright: Salvatore Sanfilippo
License: BSD-3-clause and Expat
 The text of the licence
 goes here.
`

func TestScanLayers(t *testing.T) {
	self, err := os.ReadFile(os.Args[0]) // a Go binary with module data
	require.NoError(t, err)
	s := NewScanner()
	require.NoError(t, s.AddLayer(layer(t,
		file{name: "etc/os-release", link: "../usr/lib/os-release", typ: tar.TypeSymlink},
		file{name: "usr/lib/os-release", body: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n"},
		file{name: "var/lib/dpkg/status", body: statusBase},
		file{name: "usr/share/doc/base-files/copyright", body: "This is the Debian prepackaged version of the Debian Base System\nMiscellaneous files.\n"},
		file{name: "usr/share/doc/libgcc-s1", link: "gcc-12-base", typ: tar.TypeSymlink},
		file{name: "usr/share/doc/gcc-12-base/copyright", body: "Format: https://www.debian.org/doc/packaging-manifests/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+ with GCC-exception-3.1 exception\n"},
		file{name: "usr/share/doc/olddoc/copyright", body: copyrightDEP5},
		file{name: "opt/gone/server", body: string(self), mode: 0o755},
		file{name: "var/log/apt/history.log", body: "not kept"},
	)))
	// The second layer replaces the status file, deletes a binary with a
	// whiteout, empties a directory with an opaque whiteout and adds a Go
	// binary and a package.
	require.NoError(t, s.AddLayer(layer(t,
		file{name: "usr/share/doc/", typ: tar.TypeDir, mode: 0o755},
		file{name: "usr/share/doc/gcc-12-base/", typ: tar.TypeDir, mode: 0o755},
		file{name: "./var/lib/dpkg/status", body: statusTop},
		file{name: "usr/share/doc/redis-server/copyright", body: copyrightDEP5},
		file{name: "opt/gone/.wh.server"},
		file{name: "usr/share/doc/olddoc/.wh..wh..opq"},
		file{name: "usr/local/bin/site", body: string(self), mode: 0o755},
		file{name: "usr/local/bin/script", body: "#!/bin/sh\necho hi\n", mode: 0o755},
		file{name: "usr/local/bin/site-link", link: "usr/local/bin/site", typ: tar.TypeLink},
	)))
	inv, err := s.Inventory()
	require.NoError(t, err)

	assert.Equal(t, OSRelease{ID: "debian", VersionID: "12"}, inv.OS)
	require.Len(t, inv.Packages, 3, "config-files packages are not on disk")
	assert.Equal(t, Package{Name: "base-files", Version: "12.4+deb12u8", Architecture: "amd64", Source: "base-files", SourceVersion: "12.4+deb12u8", Maintainer: "Santiago Vila <sanvila@debian.org>"}, inv.Packages[0])
	assert.Equal(t, "libgcc-s1", inv.Packages[1].Name)
	assert.Equal(t, "gcc-12", inv.Packages[1].Source)
	assert.Equal(t, "12.2.0-14", inv.Packages[1].SourceVersion)
	assert.Equal(t, "GPL-3+ with GCC-exception-3.1 exception", inv.Packages[1].License, "the doc directory symlink is followed")
	assert.Equal(t, "redis-server", inv.Packages[2].Name)
	assert.Equal(t, "BSD-3-clause and Expat", inv.Packages[2].License, "the Files: * paragraph's licence")
	assert.Equal(t, "", inv.Packages[0].License, "not a machine-readable copyright file")

	require.Len(t, inv.GoBinaries, 2, "the whiteout removed /opt/gone/server; the shell script is no Go binary")
	assert.Equal(t, "/usr/local/bin/site", inv.GoBinaries[0].Path)
	assert.Equal(t, "/usr/local/bin/site-link", inv.GoBinaries[1].Path)
	assert.Equal(t, "github.com/inceptionctl/inception", inv.GoBinaries[0].Main.Path)
	assert.NotEmpty(t, inv.GoBinaries[0].GoVersion)

	assert.Equal(t, "pkg:deb/debian/redis-server@5:7.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=redis", inv.Packages[2].PURL(inv.OS))
	assert.Equal(t, "pkg:deb/debian/base-files@12.4%2Bdeb12u8?arch=amd64&distro=debian-12", inv.Packages[0].PURL(inv.OS))
}

func TestOpaqueWhiteoutKeepsSameLayer(t *testing.T) {
	s := NewScanner()
	require.NoError(t, s.AddLayer(layer(t, file{name: "var/lib/dpkg/status", body: statusBase})))
	// The opaque marker comes after the new file in the same layer: only
	// the lower layer's content goes.
	require.NoError(t, s.AddLayer(layer(t,
		file{name: "var/lib/dpkg/status", body: statusTop},
		file{name: "var/lib/dpkg/.wh..wh..opq"},
	)))
	inv, err := s.Inventory()
	require.NoError(t, err)
	assert.Len(t, inv.Packages, 3)

	s = NewScanner()
	require.NoError(t, s.AddLayer(layer(t, file{name: "var/lib/dpkg/status", body: statusBase})))
	require.NoError(t, s.AddLayer(layer(t, file{name: "var/lib/.wh.dpkg"})))
	inv, err = s.Inventory()
	require.NoError(t, err)
	assert.Empty(t, inv.Packages, "a whiteout of a directory removes what is under it")
}

func TestStatusD(t *testing.T) {
	s := NewScanner()
	require.NoError(t, s.AddLayer(layer(t,
		file{name: "var/lib/dpkg/status.d/tzdata", body: "Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2024a-0+deb12u1\n"},
		file{name: "var/lib/dpkg/status.d/tzdata.md5sums", body: "d41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n"},
	)))
	inv, err := s.Inventory()
	require.NoError(t, err, "an md5sums file is no status file")
	require.Len(t, inv.Packages, 1)
	assert.Equal(t, "tzdata", inv.Packages[0].Name)
}

func TestGoBinaryReplace(t *testing.T) {
	bi := &buildinfo.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "example.com/site", Version: "(devel)"}, Deps: []*debug.Module{
		{Path: "a.example/x", Version: "v1.0.0"},
		{Path: "b.example/y", Version: "v0.1.0", Replace: &debug.Module{Path: "c.example/y", Version: "v0.2.0"}},
	}}
	g := goBinary("/site", bi)
	assert.Equal(t, []Module{{Path: "a.example/x", Version: "v1.0.0"}, {Path: "c.example/y", Version: "v0.2.0"}}, g.Deps, "the replacement is what was built")
}

func TestBadStatus(t *testing.T) {
	_, err := parseStatus([]byte(" continuation first\n"))
	require.Error(t, err)
	_, err = parseStatus([]byte("Package: x\nStatus: install ok installed\n"))
	require.ErrorContains(t, err, "without name or version")
}

func TestSPDXDocument(t *testing.T) {
	inv := &Inventory{
		OS: OSRelease{ID: "debian", VersionID: "12"},
		Packages: []Package{
			{Name: "libstdc++6", Version: "12.2.0-14", Architecture: "amd64", Source: "gcc-12", SourceVersion: "12.2.0-14", License: "GPL-3+ with GCC-exception-3.1 exception"},
			{Name: "redis-server", Version: "5:7.0.15-1~deb12u1", Architecture: "amd64", Source: "redis", SourceVersion: "5:7.0.15-1~deb12u1", License: "BSD-3-clause and Expat"},
			{Name: "tzdata", Version: "2024a-0+deb12u1", Architecture: "all", Source: "tzdata", SourceVersion: "2024a-0+deb12u1", License: "public-domain"},
		},
		GoBinaries: []GoBinary{{Path: "/usr/local/bin/site", GoVersion: "go1.26.8", Main: Module{Path: "example.com/site", Version: "(devel)"}, Deps: []Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}}}},
	}
	doc := inv.SPDX(Subject{Name: "docker.io/inception/redis:bookworm", Digest: "sha256:abc"})
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, doc))
	var got struct {
		SPDXVersion       string `json:"spdxVersion"`
		DocumentNamespace string `json:"documentNamespace"`
		Packages          []struct {
			SPDXID          string `json:"SPDXID"`
			Name            string `json:"name"`
			Version         string `json:"versionInfo"`
			LicenseDeclared string `json:"licenseDeclared"`
			ExternalRefs    []struct {
				Type    string `json:"referenceType"`
				Locator string `json:"referenceLocator"`
			} `json:"externalRefs"`
		} `json:"packages"`
		Licenses []struct {
			ID string `json:"licenseId"`
		} `json:"hasExtractedLicensingInfos"`
		Relationships []struct {
			A, B, Type string
		} `json:"relationships"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "SPDX-2.3", got.SPDXVersion)
	require.Len(t, got.Packages, 7, "the image, three debs, three Go modules (stdlib too)")
	byName := map[string]int{}
	for i, p := range got.Packages {
		byName[p.Name] = i
		assert.Regexp(t, `^SPDXRef-[A-Za-z0-9.-]+$`, p.SPDXID)
	}
	redis := got.Packages[byName["redis-server"]]
	assert.Equal(t, "BSD-3-Clause AND MIT", redis.LicenseDeclared)
	assert.Equal(t, "pkg:deb/debian/redis-server@5:7.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=redis", redis.ExternalRefs[0].Locator)
	assert.Equal(t, "LicenseRef-public-domain", got.Packages[byName["tzdata"]].LicenseDeclared)
	assert.Equal(t, "LicenseRef-GPL-3-with-GCC-exception-3.1-exception", got.Packages[byName["libstdc++6"]].LicenseDeclared)
	assert.Equal(t, "pkg:golang/github.com/spf13/cobra@v1.10.2", got.Packages[byName["github.com/spf13/cobra"]].ExternalRefs[0].Locator)
	assert.Equal(t, "pkg:golang/example.com/site", got.Packages[byName["example.com/site"]].ExternalRefs[0].Locator)
	assert.Equal(t, "pkg:golang/stdlib@go1.26.8", got.Packages[byName["stdlib"]].ExternalRefs[0].Locator)
	require.Len(t, got.Licenses, 2, "every LicenseRef used is declared")
	assert.True(t, strings.HasSuffix(got.DocumentNamespace, "redis:bookworm@sha256:abc"))
	noDigest := inv.SPDX(Subject{Name: "docker.io/inception/redis:bookworm"})
	assert.Regexp(t, `redis:bookworm@sha256:[0-9a-f]{64}$`, noDigest.DocumentNamespace, "unique before the image has a digest")

	var table bytes.Buffer
	require.NoError(t, inv.WriteTable(&table))
	assert.Contains(t, table.String(), "redis-server")
	assert.Contains(t, table.String(), "github.com/spf13/cobra")
}

func TestSupplier(t *testing.T) {
	assert.Equal(t, &common.Supplier{SupplierType: "Person", Supplier: "Chris Lamb (lamby@debian.org)"}, supplier("Chris Lamb <lamby@debian.org>"))
	assert.Equal(t, &common.Supplier{SupplierType: "Organization", Supplier: "Debian PHP Maintainers (team+pkg-php@tracker.debian.org)"}, supplier("Debian PHP Maintainers <team+pkg-php@tracker.debian.org>"))
	assert.Nil(t, supplier(""))
}

func TestSPDXLicense(t *testing.T) {
	for in, want := range map[string]string{
		"GPL-2+":               "GPL-2.0-or-later",
		"GPL-2+ or Artistic":   "GPL-2.0-or-later OR Artistic-1.0-Perl",
		"LGPL-2.1+, and Expat": "LGPL-2.1-or-later AND MIT",
		"Apache-2.0":           "Apache-2.0",
		"or GPL-2":             "LicenseRef-or-GPL-2",
	} {
		got, _ := spdxLicense(in)
		assert.Equal(t, want, got, in)
	}
}
