package sbom

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"fmt"
	"strings"
)

// Inventory is what an image holds.
type Inventory struct {
	OS         OSRelease  `json:"os"`
	Packages   []Package  `json:"packages"`
	GoBinaries []GoBinary `json:"go_binaries,omitempty"`
}

// OSRelease is the part of /etc/os-release the package URLs use.
type OSRelease struct {
	ID        string `json:"id,omitempty"`         // e.g. debian
	VersionID string `json:"version_id,omitempty"` // e.g. 12
}

// Distro is the purl "distro" qualifier, e.g. debian-12.
func (o OSRelease) Distro() string {
	if o.ID == "" || o.VersionID == "" {
		return ""
	}
	return o.ID + "-" + o.VersionID
}

// Package is one package of the dpkg database whose files are on disk.
type Package struct {
	Name          string `json:"name"`
	Version       string `json:"version"`
	Architecture  string `json:"architecture"`
	Source        string `json:"source"`         // the source package (the package's own name when dpkg records none)
	SourceVersion string `json:"source_version"` // its version (the package's when dpkg records none)
	Maintainer    string `json:"maintainer,omitempty"`
	// License is the first line of the "License:" field of the "Files: *"
	// paragraph of the package's machine-readable copyright file, in
	// Debian's short names; empty when there is none.
	License string `json:"license,omitempty"`
}

// GoBinary is a Go executable and the modules it was built from.
type GoBinary struct {
	Path      string   `json:"path"`
	GoVersion string   `json:"go_version"`
	Main      Module   `json:"main"`
	Deps      []Module `json:"deps,omitempty"`
}

// Module is a Go module at a version.
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

func goBinary(p string, bi *buildinfo.BuildInfo) GoBinary {
	g := GoBinary{Path: p, GoVersion: bi.GoVersion, Main: Module{Path: bi.Main.Path, Version: bi.Main.Version}}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		g.Deps = append(g.Deps, Module{Path: d.Path, Version: d.Version})
	}
	return g
}

// paragraphs splits a deb822 file into its paragraphs, each a map of field
// to value; continuation lines are joined with "\n".
func paragraphs(b []byte) ([]map[string]string, error) {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur, last = map[string]string{}, ""
			}
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation line outside a field", n)
			}
			cur[last] += "\n" + strings.TrimSpace(line)
		case line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: %q is not a field", n, line)
			}
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// onDisk are the dpkg states whose package has files unpacked; dpkg-query
// -W lists these and config-files, whose package was removed.
var onDisk = map[string]bool{
	"installed": true, "half-installed": true, "unpacked": true,
	"half-configured": true, "triggers-awaited": true, "triggers-pending": true,
}

// parseStatus reads the packages of a dpkg status file.
func parseStatus(b []byte) ([]Package, error) {
	ps, err := paragraphs(b)
	if err != nil {
		return nil, fmt.Errorf("dpkg status: %w", err)
	}
	var out []Package
	for _, p := range ps {
		if st := strings.Fields(p["status"]); len(st) != 3 || !onDisk[st[2]] {
			continue
		}
		pkg := Package{
			Name: p["package"], Version: p["version"], Architecture: p["architecture"],
			Source: p["package"], SourceVersion: p["version"], Maintainer: p["maintainer"],
		}
		if src := p["source"]; src != "" {
			name, ver, _ := strings.Cut(src, " ")
			pkg.Source = name
			if v := strings.Trim(strings.TrimSpace(ver), "()"); v != "" {
				pkg.SourceVersion = v
			}
		}
		if pkg.Name == "" || pkg.Version == "" {
			return nil, fmt.Errorf("dpkg status: a package without name or version (%q)", pkg.Name)
		}
		out = append(out, pkg)
	}
	return out, nil
}

// copyrightLicense returns the licence of the "Files: *" paragraph of a
// machine-readable Debian copyright file, or "" when the file is not in
// that format or names none.
func copyrightLicense(b []byte) string {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("Format:")) {
		return ""
	}
	ps, err := paragraphs(b)
	if err != nil {
		return ""
	}
	for _, p := range ps {
		files := strings.Fields(p["files"])
		if len(files) == 0 || files[0] != "*" {
			continue
		}
		l, _, _ := strings.Cut(p["license"], "\n")
		return strings.TrimSpace(l)
	}
	return ""
}

func parseOSRelease(b []byte) OSRelease {
	var o OSRelease
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			o.ID = v
		case "VERSION_ID":
			o.VersionID = v
		}
	}
	return o
}
