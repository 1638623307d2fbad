package sbom

import (
	"regexp"
	"strings"
)

// debianLicenses maps Debian's short licence names (DEP-5) to SPDX
// identifiers; SPDX identifiers written as such map to themselves.
var debianLicenses = map[string]string{
	"gpl-1": "GPL-1.0-only", "gpl-1+": "GPL-1.0-or-later",
	"gpl-2": "GPL-2.0-only", "gpl-2+": "GPL-2.0-or-later",
	"gpl-3": "GPL-3.0-only", "gpl-3+": "GPL-3.0-or-later",
	"lgpl-2": "LGPL-2.0-only", "lgpl-2+": "LGPL-2.0-or-later",
	"lgpl-2.1": "LGPL-2.1-only", "lgpl-2.1+": "LGPL-2.1-or-later",
	"lgpl-3": "LGPL-3.0-only", "lgpl-3+": "LGPL-3.0-or-later",
	"agpl-3": "AGPL-3.0-only", "agpl-3+": "AGPL-3.0-or-later",
	"gfdl-1.2": "GFDL-1.2-only", "gfdl-1.2+": "GFDL-1.2-or-later",
	"gfdl-1.3": "GFDL-1.3-only", "gfdl-1.3+": "GFDL-1.3-or-later",
	"gpl-2.0": "GPL-2.0-only", "gpl-2.0+": "GPL-2.0-or-later",
	"gpl-3.0": "GPL-3.0-only", "gpl-3.0+": "GPL-3.0-or-later",
	"gpl-2.0-only": "GPL-2.0-only", "gpl-2.0-or-later": "GPL-2.0-or-later",
	"gpl-3.0-only": "GPL-3.0-only", "gpl-3.0-or-later": "GPL-3.0-or-later",
	"lgpl-2.1-only": "LGPL-2.1-only", "lgpl-2.1-or-later": "LGPL-2.1-or-later",
	"apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0",
	"artistic": "Artistic-1.0-Perl", "artistic-1": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0",
	"bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "bsd-4-clause": "BSD-4-Clause",
	"expat": "MIT", "mit": "MIT", "isc": "ISC", "zlib": "Zlib", "x11": "X11",
	"mpl-1.1": "MPL-1.1", "mpl-2.0": "MPL-2.0", "psf-2": "PSF-2.0", "python-2.0": "Python-2.0",
	"openssl": "OpenSSL", "ssleay": "SSLeay", "curl": "curl", "cc0-1.0": "CC0-1.0",
	"bsl-1.0": "BSL-1.0", "ftl": "FTL", "php-3.01": "PHP-3.01", "php-3.0": "PHP-3.0",
	"ruby": "Ruby", "unlicense": "Unlicense", "unicode-dfs-2016": "Unicode-DFS-2016",
	"openldap-2.8": "OLDAP-2.8", "sleepycat": "Sleepycat", "wtfpl": "WTFPL", "0bsd": "0BSD",
}

var refUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// spdxLicense turns a Debian licence expression ("GPL-2+ or Artistic",
// "LGPL-2.1+ and BSD-3-clause") into an SPDX expression and the
// LicenseRef- identifiers it uses for names SPDX does not list.
func spdxLicense(debian string) (string, []string) {
	var out, refs []string
	ref := func(name string) string {
		r := "LicenseRef-" + strings.Trim(refUnsafe.ReplaceAllString(name, "-"), "-")
		refs = append(refs, r)
		return r
	}
	if strings.Contains(strings.ToLower(debian), " with ") {
		// Exceptions are not mapped: the whole expression is one name.
		return ref(debian), refs
	}
	for _, f := range strings.Fields(strings.ReplaceAll(debian, ",", " ")) {
		switch strings.ToLower(f) {
		case "or":
			out = append(out, "OR")
			continue
		case "and":
			out = append(out, "AND")
			continue
		}
		if id := debianLicenses[strings.ToLower(f)]; id != "" {
			out = append(out, id)
		} else {
			out = append(out, ref(f))
		}
	}
	// A dangling operator (a malformed field) makes the whole a name.
	if len(out) == 0 || out[0] == "OR" || out[0] == "AND" || out[len(out)-1] == "OR" || out[len(out)-1] == "AND" {
		return ref(debian), refs[len(refs)-1:]
	}
	return strings.Join(out, " "), refs
}
