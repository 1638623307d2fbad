package runtime

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

// TestNoBuildKitDependency keeps the runtime and the stack model free of
// BuildKit: an importer that only runs images must not compile it in.
// Builds are pkg/build's and pkg/llbdefs' business. pkg/build is loaded
// too, as the control: the walk must find BuildKit there.
func TestNoBuildKitDependency(t *testing.T) {
	const mod = "github.com/inceptionctl/inception/"
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps},
		mod+"pkg/runtime", mod+"pkg/stack", mod+"pkg/build")
	require.NoError(t, err)
	require.Len(t, pkgs, 3)
	for _, p := range pkgs {
		require.Empty(t, p.Errors, p.PkgPath)
		paths := buildKitPaths(p)
		if p.PkgPath == mod+"pkg/build" {
			assert.NotEmpty(t, paths, "the control: pkg/build imports BuildKit")
			continue
		}
		assert.Empty(t, paths, "%s depends on BuildKit", p.PkgPath)
	}
}

// buildKitPaths returns, for each BuildKit package p depends on, one
// import path leading to it.
func buildKitPaths(p *packages.Package) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*packages.Package, []string)
	walk = func(q *packages.Package, via []string) {
		if seen[q.PkgPath] {
			return
		}
		seen[q.PkgPath] = true
		via = append(via, q.PkgPath)
		if strings.HasPrefix(q.PkgPath, "github.com/moby/buildkit") {
			out = append(out, strings.Join(via, " -> "))
			return
		}
		for _, imp := range q.Imports {
			walk(imp, via)
		}
	}
	walk(p, nil)
	return out
}
