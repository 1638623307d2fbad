// Package sbom reads what an image holds from its layers and writes it as
// an SPDX 2.3 JSON document.
//
// It walks the layers of an image in the containerd content store, lower
// layers first, applying OCI whiteouts, and keeps what makes the list of
// packages: the dpkg database (/var/lib/dpkg/status and status.d), the
// machine-readable Debian copyright files (/usr/share/doc/*/copyright),
// /etc/os-release, and the module information Go writes into its
// binaries. Nothing is unpacked to disk and no container runs.
//
//	inv, err := sbom.ScanImage(ctx, cs, img.Target)
//	doc := inv.SPDX(sbom.Subject{Name: img.Name, Digest: img.Target.Digest})
//	err = sbom.WriteJSON(w, doc)
package sbom
