package bench

import (
	"fmt"
	"maps"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// linearize returns def with every Merge replaced by what a Dockerfile
// does instead: the merge's first input, then each other input copied on
// top of it, one file vertex per copy as one COPY instruction each. The
// last copy keeps the merge's name. Every other vertex is the same, so the
// two graphs share their cache up to the merge.
//
//	lin, err := bench.linearize(def)
func linearize(def *llb.Definition) (*llb.Definition, error) {
	in := def.ToPB()
	ops := map[digest.Digest]*pb.Op{}
	raw := map[digest.Digest][]byte{}
	var terminal *pb.Op
	for _, dt := range in.Def {
		op := new(pb.Op)
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("linearize: decode vertex: %w", err)
		}
		if op.Op == nil {
			terminal = op
			continue
		}
		d := digest.FromBytes(dt)
		ops[d], raw[d] = op, dt
	}
	if terminal == nil || len(terminal.Inputs) != 1 {
		return nil, fmt.Errorf("linearize: definition has no result")
	}

	out := &pb.Definition{Metadata: map[string]*pb.OpMetadata{}}
	emit := func(op *pb.Op, dt []byte, meta *pb.OpMetadata) (digest.Digest, error) {
		if dt == nil {
			var err error
			if dt, err = op.MarshalVT(); err != nil {
				return "", fmt.Errorf("linearize: encode vertex: %w", err)
			}
		}
		d := digest.FromBytes(dt)
		out.Def = append(out.Def, dt)
		if meta != nil {
			out.Metadata[string(d)] = meta
		}
		return d, nil
	}
	renamed := map[digest.Digest]digest.Digest{}
	var visit func(d digest.Digest) (digest.Digest, error)
	visit = func(d digest.Digest) (digest.Digest, error) {
		if nd, ok := renamed[d]; ok {
			return nd, nil
		}
		op, ok := ops[d]
		if !ok {
			return "", fmt.Errorf("linearize: input %s is missing", d)
		}
		nop := op.CloneVT()
		changed := false
		for _, inp := range nop.Inputs {
			nd, err := visit(digest.Digest(inp.Digest))
			if err != nil {
				return "", err
			}
			if string(nd) != inp.Digest {
				inp.Digest, changed = string(nd), true
			}
		}
		meta := in.Metadata[string(d)].CloneVT()
		var nd digest.Digest
		var err error
		switch m := nop.GetMerge(); {
		case m != nil:
			nd, err = copyChain(nop, m, meta, emit)
		case changed:
			nd, err = emit(nop, nil, meta)
		default:
			nd, err = emit(nop, raw[d], meta)
		}
		if err != nil {
			return "", err
		}
		renamed[d] = nd
		return nd, nil
	}
	res, err := visit(digest.Digest(terminal.Inputs[0].Digest))
	if err != nil {
		return nil, err
	}
	t := terminal.CloneVT()
	t.Inputs[0].Digest = string(res)
	dt, err := t.MarshalVT()
	if err != nil {
		return nil, fmt.Errorf("linearize: encode result: %w", err)
	}
	out.Def = append(out.Def, dt)
	var lin llb.Definition
	lin.FromPB(out)
	return &lin, nil
}

// copyChain replaces merge op with one file vertex per input after the
// first, each copying that input's root into the root of the one before,
// as COPY --from=input / / does, and returns the last.
func copyChain(op *pb.Op, m *pb.MergeOp, meta *pb.OpMetadata, emit func(*pb.Op, []byte, *pb.OpMetadata) (digest.Digest, error)) (digest.Digest, error) {
	if len(m.Inputs) < 2 {
		return "", fmt.Errorf("linearize: merge of %d inputs", len(m.Inputs))
	}
	input := func(i int64) *pb.Input { return op.Inputs[i].CloneVT() }
	prev := input(m.Inputs[0].Input)
	var last digest.Digest
	n := len(m.Inputs) - 1
	for i, mi := range m.Inputs[1:] {
		fop := &pb.Op{
			Inputs:      []*pb.Input{prev, input(mi.Input)},
			Platform:    op.Platform.CloneVT(),
			Constraints: op.Constraints.CloneVT(),
			Op: &pb.Op_File{File: &pb.FileOp{Actions: []*pb.FileAction{{
				Input:          0,
				SecondaryInput: 1,
				Output:         0,
				Action: &pb.FileAction_Copy{Copy: &pb.FileActionCopy{
					Src:             "/",
					Dest:            "/",
					DirCopyContents: true,
					CreateDestPath:  true,
					Mode:            -1,
					Timestamp:       -1,
				}},
			}}}},
		}
		md := meta.CloneVT()
		if md == nil {
			md = &pb.OpMetadata{}
		}
		md.Caps = map[string]bool{string(pb.CapFileBase): true}
		if i < n-1 {
			md.Description = maps.Clone(md.Description)
			if md.Description == nil {
				md.Description = map[string]string{}
			}
			md.Description["llb.customname"] = fmt.Sprintf("%s (copy %d of %d)", md.Description["llb.customname"], i+1, n)
		}
		d, err := emit(fop, nil, md)
		if err != nil {
			return "", err
		}
		prev, last = &pb.Input{Digest: string(d), Index: 0}, d
	}
	return last, nil
}
