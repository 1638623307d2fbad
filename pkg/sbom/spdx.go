package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/package-url/packageurl-go"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
)

// Subject is the image an SPDX document describes.
type Subject struct {
	Name    string    // image name, e.g. docker.io/inception/redis:bookworm
	Digest  string    // its manifest or index digest
	Created time.Time // the document's creation time; the image's, for the same document from the same image
}

// Tool names the SPDX documents' creator.
const Tool = "inceptionctl"

// NoAssertion is SPDX's "not said".
const NoAssertion = "NOASSERTION"

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// SPDX returns the inventory as an SPDX 2.3 document: one package for the
// image, which CONTAINS one package per dpkg package and per Go module.
func (inv *Inventory) SPDX(sub Subject) *spdx.Document {
	ids := map[string]int{}
	id := func(kind, name string) common.ElementID {
		base := "Package-" + kind + "-" + strings.Trim(idUnsafe.ReplaceAllString(name, "-"), "-")
		ids[base]++
		if n := ids[base]; n > 1 {
			return common.ElementID(fmt.Sprintf("%s-%d", base, n))
		}
		return common.ElementID(base)
	}
	created := sub.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	doc := &spdx.Document{
		SPDXVersion:       spdx.Version,
		DataLicense:       spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      sub.Name,
		DocumentNamespace: "https://inceptionctl.invalid/spdx/" + sub.Name + "@" + inv.namespaceID(sub),
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: Tool}},
			Created:  created.UTC().Format(time.RFC3339),
		},
	}
	root := common.ElementID("Image")
	imgPkg := &spdx.Package{
		PackageName:             sub.Name,
		PackageSPDXIdentifier:   root,
		PackageVersion:          sub.Digest,
		PackageDownloadLocation: NoAssertion,
		PackageLicenseConcluded: NoAssertion,
		PackageLicenseDeclared:  NoAssertion,
		PackageCopyrightText:    NoAssertion,
		PrimaryPackagePurpose:   "CONTAINER",
	}
	doc.Packages = append(doc.Packages, imgPkg)
	doc.Relationships = append(doc.Relationships, &spdx.Relationship{
		RefA: common.MakeDocElementID("", "DOCUMENT"), RefB: common.MakeDocElementID("", string(root)),
		Relationship: common.TypeRelationshipDescribe,
	})
	refs := map[string]bool{}
	contains := func(p *spdx.Package) {
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(root)), RefB: common.MakeDocElementID("", string(p.PackageSPDXIdentifier)),
			Relationship: common.TypeRelationshipContains,
		})
	}
	for _, p := range inv.Packages {
		lic := NoAssertion
		if p.License != "" {
			var lr []string
			lic, lr = spdxLicense(p.License)
			for _, r := range lr {
				refs[r] = true
			}
		}
		sp := &spdx.Package{
			PackageName:             p.Name,
			PackageSPDXIdentifier:   id("deb", p.Name+"-"+p.Architecture),
			PackageVersion:          p.Version,
			PackageDownloadLocation: NoAssertion,
			PackageSourceInfo:       fmt.Sprintf("built from the Debian source package %s %s", p.Source, p.SourceVersion),
			PackageLicenseConcluded: NoAssertion,
			PackageLicenseDeclared:  lic,
			PackageCopyrightText:    NoAssertion,
			PackageExternalReferences: []*spdx.PackageExternalReference{{
				Category: common.CategoryPackageManager, RefType: "purl", Locator: p.PURL(inv.OS),
			}},
			PackageSupplier: supplier(p.Maintainer),
		}
		contains(sp)
	}
	for _, g := range inv.GoBinaries {
		for i, m := range g.Modules() {
			purpose := "LIBRARY"
			if i == 0 && g.Main.Path != "" {
				purpose = "APPLICATION"
			}
			contains(&spdx.Package{
				PackageName:             m.Path,
				PackageSPDXIdentifier:   id("go", m.Path),
				PackageVersion:          m.Version,
				PackageDownloadLocation: NoAssertion,
				PackageSourceInfo:       fmt.Sprintf("Go module in %s (%s)", g.Path, g.GoVersion),
				PackageLicenseConcluded: NoAssertion,
				PackageLicenseDeclared:  NoAssertion,
				PackageCopyrightText:    NoAssertion,
				PrimaryPackagePurpose:   purpose,
				PackageExternalReferences: []*spdx.PackageExternalReference{{
					Category: common.CategoryPackageManager, RefType: "purl", Locator: m.PURL(),
				}},
			})
		}
	}
	names := make([]string, 0, len(refs))
	for r := range refs {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		doc.OtherLicenses = append(doc.OtherLicenses, &spdx.OtherLicense{
			LicenseIdentifier: r,
			LicenseName:       strings.TrimPrefix(r, "LicenseRef-"),
			ExtractedText:     "A licence named " + strings.TrimPrefix(r, "LicenseRef-") + " in a Debian copyright file; its text is in /usr/share/doc/PACKAGE/copyright.",
		})
	}
	return doc
}

// namespaceID makes the document namespace unique: the image digest, or,
// before the exporter has made one, a digest of the inventory.
func (inv *Inventory) namespaceID(sub Subject) string {
	if sub.Digest != "" {
		return sub.Digest
	}
	b, _ := json.Marshal(inv) // plain data: cannot fail
	return digest.FromBytes(b).String()
}

// PURL is the package URL of a Debian package, e.g.
// pkg:deb/debian/bash@5.2.15-2+b7?arch=amd64&distro=debian-12.
func (p Package) PURL(os OSRelease) string {
	q := map[string]string{}
	if p.Architecture != "" {
		q["arch"] = p.Architecture
	}
	if d := os.Distro(); d != "" {
		q["distro"] = d
	}
	if p.Source != p.Name || p.SourceVersion != p.Version {
		upstream := p.Source
		if p.SourceVersion != p.Version {
			upstream += "@" + p.SourceVersion
		}
		q["upstream"] = upstream
	}
	ns := os.ID
	if ns == "" {
		ns = "debian"
	}
	return packageurl.NewPackageURL(packageurl.TypeDebian, ns, p.Name, p.Version, packageurl.QualifiersFromMap(q), "").ToString()
}

// PURL is the package URL of a Go module, e.g.
// pkg:golang/github.com/spf13/cobra@v1.10.2.
func (m Module) PURL() string {
	ns, name := "", m.Path
	if i := strings.LastIndex(m.Path, "/"); i >= 0 {
		ns, name = m.Path[:i], m.Path[i+1:]
	}
	v := m.Version
	if v == "(devel)" {
		v = ""
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, v, nil, "").ToString()
}

// Modules are the Go modules of g: its main module (when it was built in
// one, not from a file list), the standard library as "stdlib" at the Go
// version, and its dependencies.
func (g GoBinary) Modules() []Module {
	var out []Module
	if g.Main.Path != "" {
		out = append(out, g.Main)
	}
	out = append(out, Module{Path: "stdlib", Version: g.GoVersion})
	return append(out, g.Deps...)
}

// WriteJSON writes doc as indented SPDX JSON.
func WriteJSON(w io.Writer, doc *spdx.Document) error {
	return spdxjson.Write(doc, w, spdxjson.Indent("  "))
}

// WriteTable writes the inventory as a table: one line per package and
// per Go module.
func (inv *Inventory) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNAME\tVERSION\tARCH\tSOURCE\tLICENSE")
	for _, p := range inv.Packages {
		src := p.Source
		if p.SourceVersion != p.Version {
			src += " " + p.SourceVersion
		}
		fmt.Fprintf(tw, "deb\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Architecture, src, dash(p.License))
	}
	for _, g := range inv.GoBinaries {
		for _, m := range g.Modules() {
			fmt.Fprintf(tw, "go\t%s\t%s\t-\t%s\t-\n", m.Path, m.Version, g.Path)
		}
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var teamWords = regexp.MustCompile(`(?i)\b(team|maintainers|group|developers|project)\b`)

// supplier is the SPDX supplier of a Debian package: its maintainer, as
// "Name (email)", a person unless the name says it is a team.
func supplier(maintainer string) *common.Supplier {
	if maintainer == "" {
		return nil
	}
	name, email, ok := strings.Cut(maintainer, "<")
	name = strings.TrimSpace(name)
	if ok {
		name += " (" + strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(email), ">")) + ")"
	}
	kind := "Person"
	if teamWords.MatchString(maintainer) {
		kind = "Organization"
	}
	return &common.Supplier{SupplierType: kind, Supplier: name}
}
