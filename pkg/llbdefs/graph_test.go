package llbdefs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goldenDir holds the graph summaries, relative to this package.
const goldenDir = "../../testdata/llbdefs"

// updateGolden rewrites the golden files instead of comparing with them.
var updateGolden = os.Getenv("INCEPTION_UPDATE_GOLDEN") == "1"

// graph is a marshalled definition decoded back into pb ops.
type graph struct {
	ops    map[digest.Digest]*pb.Op
	names  map[digest.Digest]string // llb.customname of each vertex
	order  []digest.Digest          // inputs first, in input order, terminal excluded
	result digest.Digest            // the vertex the definition evaluates to
}

// decode unmarshals every op of def and orders them from the terminal op
// down, so the order depends on the graph only, not on how Marshal walked it.
func decode(t *testing.T, def *llb.Definition) graph {
	t.Helper()
	g := graph{ops: map[digest.Digest]*pb.Op{}, names: map[digest.Digest]string{}}
	var terminal *pb.Op
	for _, dt := range def.Def {
		op := new(pb.Op)
		require.NoError(t, op.UnmarshalVT(dt))
		dgst := digest.FromBytes(dt)
		if op.Op == nil {
			require.Nil(t, terminal, "one terminal op")
			terminal = op
			continue
		}
		g.ops[dgst] = op
		g.names[dgst] = def.Metadata[dgst].Description["llb.customname"]
	}
	require.NotNil(t, terminal, "terminal op")
	require.Len(t, terminal.Inputs, 1)
	g.result = digest.Digest(terminal.Inputs[0].Digest)

	seen := map[digest.Digest]bool{}
	var walk func(d digest.Digest)
	walk = func(d digest.Digest) {
		if seen[d] {
			return
		}
		seen[d] = true
		op, ok := g.ops[d]
		require.True(t, ok, "input %s is in the definition", d)
		for _, in := range op.Inputs {
			walk(digest.Digest(in.Digest))
		}
		g.order = append(g.order, d)
	}
	walk(g.result)
	require.Len(t, g.order, len(g.ops), "every op is reachable from the result")
	return g
}

// marshalGraph marshals img and decodes it.
func marshalGraph(t *testing.T, img Image) graph {
	t.Helper()
	def, err := img.Marshal(t.Context())
	require.NoError(t, err)
	return decode(t, def)
}

// named returns the one vertex called name.
func (g graph) named(t *testing.T, name string) (digest.Digest, *pb.Op) {
	t.Helper()
	var found []digest.Digest
	for _, d := range g.order {
		if g.names[d] == name {
			found = append(found, d)
		}
	}
	require.Len(t, found, 1, "vertices named %q", name)
	return found[0], g.ops[found[0]]
}

// execs returns the digests of the image's own exec ops: the package lists
// fetch every Debian image shares (aptListsState) is not one of them.
func (g graph) execs() []digest.Digest {
	var ds []digest.Digest
	for _, d := range g.order {
		if g.ops[d].GetExec() != nil && !strings.HasPrefix(g.names[d], "apt: package lists") {
			ds = append(ds, d)
		}
	}
	return ds
}

// ancestors returns d and every vertex it depends on.
func (g graph) ancestors(d digest.Digest) map[digest.Digest]bool {
	set := map[digest.Digest]bool{}
	var walk func(digest.Digest)
	walk = func(d digest.Digest) {
		if set[d] {
			return
		}
		set[d] = true
		for _, in := range g.ops[d].Inputs {
			walk(digest.Digest(in.Digest))
		}
	}
	walk(d)
	return set
}

// summary renders the graph as stable, readable text for golden files:
// vertices numbered in dependency order, with what each does. No digests:
// only file contents are hashed, so a summary changes when the graph does.
func (g graph) summary(title string) string {
	ids := map[digest.Digest]string{}
	for i, d := range g.order {
		ids[d] = "op" + strconv.Itoa(i+1)
	}
	input := func(op *pb.Op, i int64) string {
		if i < 0 || int(i) >= len(op.Inputs) {
			return "scratch"
		}
		return ids[digest.Digest(op.Inputs[i].Digest)]
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# %s: LLB graph summary.\n", title)
	fmt.Fprintf(&b, "# Regenerate: INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/llbdefs/\n")
	for _, d := range g.order {
		op := g.ops[d]
		fmt.Fprintf(&b, "\n%s %s %q%s\n", ids[d], kind(op), g.names[d], platformOf(op))
		switch o := op.Op.(type) {
		case *pb.Op_Source:
			fmt.Fprintf(&b, "  %s\n", o.Source.Identifier)
			for _, k := range sortedKeys(o.Source.Attrs) {
				fmt.Fprintf(&b, "  attr %s=%s\n", k, o.Source.Attrs[k])
			}
		case *pb.Op_Exec:
			m := o.Exec.Meta
			fmt.Fprintf(&b, "  args  %s\n", quoteAll(m.Args))
			fmt.Fprintf(&b, "  env   %s\n", quoteAll(m.Env))
			fmt.Fprintf(&b, "  cwd   %s\n", m.Cwd)
			if m.User != "" {
				fmt.Fprintf(&b, "  user  %s\n", m.User)
			}
			if o.Exec.Network != pb.NetMode_UNSET {
				fmt.Fprintf(&b, "  net   %s\n", o.Exec.Network)
			}
			if o.Exec.Security != pb.SecurityMode_SANDBOX {
				fmt.Fprintf(&b, "  sec   %s\n", o.Exec.Security)
			}
			for _, mnt := range o.Exec.Mounts {
				fmt.Fprintf(&b, "  mount %s\n", mountString(op, mnt, input))
			}
		case *pb.Op_File:
			if len(op.Inputs) > 0 {
				fmt.Fprintf(&b, "  on %s\n", input(op, 0))
			} else {
				fmt.Fprintf(&b, "  on scratch\n")
			}
			for _, a := range o.File.Actions {
				fmt.Fprintf(&b, "  %s\n", fileActionString(op, a, input))
			}
		case *pb.Op_Merge:
			for _, in := range o.Merge.Inputs {
				fmt.Fprintf(&b, "  + %s %q\n", input(op, in.Input), g.names[digest.Digest(op.Inputs[in.Input].Digest)])
			}
		case *pb.Op_Diff:
			fmt.Fprintf(&b, "  lower %s upper %s\n", input(op, o.Diff.Lower.Input), input(op, o.Diff.Upper.Input))
		default:
			fmt.Fprintf(&b, "  %v\n", op.Op)
		}
	}
	fmt.Fprintf(&b, "\nresult %s\n", ids[g.result])
	return b.String()
}

func kind(op *pb.Op) string {
	switch op.Op.(type) {
	case *pb.Op_Source:
		return "source"
	case *pb.Op_Exec:
		return "exec"
	case *pb.Op_File:
		return "file"
	case *pb.Op_Merge:
		return "merge"
	case *pb.Op_Diff:
		return "diff"
	default:
		return fmt.Sprintf("%T", op.Op)
	}
}

func platformOf(op *pb.Op) string {
	if op.Platform == nil {
		return ""
	}
	return " [" + op.Platform.OS + "/" + op.Platform.Architecture + "]"
}

func mountString(op *pb.Op, m *pb.Mount, input func(*pb.Op, int64) string) string {
	var parts []string
	switch m.MountType {
	case pb.MountType_CACHE:
		parts = append(parts, m.Dest, "cache", "id="+m.CacheOpt.ID, "sharing="+strings.ToLower(m.CacheOpt.Sharing.String()))
	case pb.MountType_TMPFS:
		parts = append(parts, m.Dest, "tmpfs")
	case pb.MountType_SECRET:
		parts = append(parts, m.Dest, "secret", "id="+m.SecretOpt.ID)
	case pb.MountType_SSH:
		parts = append(parts, m.Dest, "ssh")
	default:
		src := input(op, m.Input)
		if m.Selector != "" {
			src += ":" + m.Selector
		}
		parts = append(parts, m.Dest, "<-", src)
		if m.Output < 0 {
			parts = append(parts, "(no output)")
		}
	}
	if m.Readonly {
		parts = append(parts, "readonly")
	}
	return strings.Join(parts, " ")
}

func fileActionString(op *pb.Op, a *pb.FileAction, input func(*pb.Op, int64) string) string {
	switch x := a.Action.(type) {
	case *pb.FileAction_Mkdir:
		m := x.Mkdir
		s := fmt.Sprintf("mkdir   %s %04o %s%s", m.Path, m.Mode, ownerString(m.Owner), timeString(m.Timestamp))
		if m.MakeParents {
			s += " parents"
		}
		return s
	case *pb.FileAction_Mkfile:
		m := x.Mkfile
		sum := sha256.Sum256(m.Data)
		return fmt.Sprintf("mkfile  %s %04o %s%s sha256:%s (%d bytes)",
			m.Path, m.Mode, ownerString(m.Owner), timeString(m.Timestamp), hex.EncodeToString(sum[:])[:12], len(m.Data))
	case *pb.FileAction_Rm:
		s := "rm      " + x.Rm.Path
		if x.Rm.AllowNotFound {
			s += " (may be absent)"
		}
		return s
	case *pb.FileAction_Symlink:
		return fmt.Sprintf("symlink %s -> %s%s", x.Symlink.Newpath, x.Symlink.Oldpath, timeString(x.Symlink.Timestamp))
	case *pb.FileAction_Copy:
		c := x.Copy
		return fmt.Sprintf("copy    %s:%s -> %s %s%s", input(op, a.SecondaryInput), c.Src, c.Dest, ownerString(c.Owner), timeString(c.Timestamp))
	default:
		return fmt.Sprintf("%v", a.Action)
	}
}

func ownerString(o *pb.ChownOpt) string {
	if o == nil {
		return "owner=inherit"
	}
	id := func(u *pb.UserOpt) string {
		switch {
		case u == nil:
			return "-"
		case u.GetByName() != nil:
			return u.GetByName().Name
		default:
			return strconv.FormatUint(uint64(u.GetByID()), 10)
		}
	}
	return id(o.User) + ":" + id(o.Group)
}

func timeString(ns int64) string {
	if ns == -1 {
		return ""
	}
	return " " + time.Unix(0, ns).UTC().Format(time.RFC3339)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkGolden compares got with testdata/llbdefs/<name>.golden, or rewrites
// the file under INCEPTION_UPDATE_GOLDEN=1.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join(goldenDir, name+".golden")
	if updateGolden {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
		t.Logf("wrote %s", file)
		return
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "no golden file: run INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/llbdefs/")
	assert.Equal(t, string(want), got,
		"%s is out of date: check the diff, then run INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/llbdefs/", file)
}
