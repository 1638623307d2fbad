package dockerfile

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/system"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"

	"github.com/inceptionctl/inception/pkg/llbdefs"
)

// Result is an image converted to a Dockerfile.
type Result struct {
	// Dockerfile is the text, ready for the Dockerfile frontend.
	Dockerfile []byte
	// Context lists the files the Dockerfile copies or mounts from its
	// build context, directories and symlinks included.
	Context []File
	// Vertices lists every vertex of the graph, in dependency order, with
	// the Dockerfile lines that stand for it.
	Vertices []Vertex
}

// File is one entry of the build context.
type File struct {
	Path    string      // slash-separated, relative to the context directory
	Mode    fs.FileMode // fs.ModeDir, fs.ModeSymlink or none, with the permission bits
	Data    []byte      // a file's content; a symlink's target
	ModTime time.Time   // zero when the graph gives no time
}

// Vertex is one vertex of the graph and where the Dockerfile has it.
type Vertex struct {
	Digest digest.Digest `json:"digest"`
	Name   string        `json:"name"`
	Kind   string        `json:"kind"`  // source, exec, file, merge
	Lines  []int         `json:"lines"` // 1-based lines of the instructions that stand for it
}

// FromImage marshals img and converts it.
//
//	res, err := dockerfile.FromImage(ctx, img)
func FromImage(ctx context.Context, img llbdefs.Image, opts ...Option) (*Result, error) {
	def, err := img.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	return Convert(img.Name, def, img.Config, opts...)
}

// Convert turns the marshalled graph def of the image called name, and its
// config, into a Dockerfile. Its last stage is named name.
//
//	res, err := dockerfile.Convert("nginx", def, img.Config)
func Convert(name string, def *llb.Definition, cfg dockerspec.DockerOCIImage, opts ...Option) (*Result, error) {
	c, err := newConverter(name, def)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&c.opts)
	}
	final, err := c.appendable(c.result)
	if err != nil {
		return nil, err
	}
	final.final = true
	if err := c.config(final, cfg); err != nil {
		return nil, err
	}
	return c.render(final)
}

// ref is one output of a vertex: the filesystem an input names.
type ref struct {
	d   digest.Digest // "" is scratch
	out int64
}

// converter holds one conversion's graph and the stages made so far.
type converter struct {
	opts   options
	image  string
	ops    map[digest.Digest]*pb.Op
	names  map[digest.Digest]string
	order  []digest.Digest // dependencies first
	result ref

	// baseUses counts the uses of a ref as the filesystem the user
	// continues (exec root, first file action, first merge input, the
	// result); otherUses the others (mounts, copy sources, merged layers).
	baseUses, otherUses map[ref]int

	stages []*stage
	done   map[ref]*stage            // stages that end at a ref others name
	ctx    map[digest.Digest]string  // context directory of a vertex
	groups map[digest.Digest]int     // context groups made for a vertex
	files  map[string]File           // context entries by path
	taken  map[string]bool           // context directory names
	execs  map[digest.Digest]*stage  // the stage of an exec whose mount outputs are used
	outs   map[digest.Digest][]int64 // used outputs of each vertex
}

func newConverter(image string, def *llb.Definition) (*converter, error) {
	c := &converter{
		image:     image,
		ops:       map[digest.Digest]*pb.Op{},
		names:     map[digest.Digest]string{},
		baseUses:  map[ref]int{},
		otherUses: map[ref]int{},
		done:      map[ref]*stage{},
		ctx:       map[digest.Digest]string{},
		groups:    map[digest.Digest]int{},
		files:     map[string]File{},
		taken:     map[string]bool{},
		execs:     map[digest.Digest]*stage{},
		outs:      map[digest.Digest][]int64{},
	}
	var terminal *pb.Op
	for _, dt := range def.Def {
		op := new(pb.Op)
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("decode vertex: %w", err)
		}
		if op.Op == nil {
			terminal = op
			continue
		}
		d := digest.FromBytes(dt)
		c.ops[d] = op
		c.names[d] = def.Metadata[d].Description["llb.customname"]
	}
	if terminal == nil || len(terminal.Inputs) != 1 {
		return nil, fmt.Errorf("definition of %s has no result", image)
	}
	c.result = c.input(terminal, 0)
	c.baseUses[c.result]++

	seen := map[digest.Digest]bool{}
	var walk func(d digest.Digest) error
	walk = func(d digest.Digest) error {
		if seen[d] {
			return nil
		}
		seen[d] = true
		op, ok := c.ops[d]
		if !ok {
			return fmt.Errorf("definition of %s: input %s is missing", image, d)
		}
		for _, in := range op.Inputs {
			if err := walk(digest.Digest(in.Digest)); err != nil {
				return err
			}
		}
		c.order = append(c.order, d)
		c.countUses(op)
		return nil
	}
	if err := walk(c.result.d); err != nil {
		return nil, err
	}
	return c, nil
}

// input is the ref that input i of op names; scratch for i < 0.
func (c *converter) input(op *pb.Op, i int64) ref {
	if i < 0 || int(i) >= len(op.Inputs) {
		return ref{}
	}
	in := op.Inputs[i]
	return ref{d: digest.Digest(in.Digest), out: in.Index}
}

func (c *converter) use(r ref, base bool) {
	if r.d == "" {
		return
	}
	if base {
		c.baseUses[r]++
	} else {
		c.otherUses[r]++
	}
	if !slices.Contains(c.outs[r.d], r.out) {
		c.outs[r.d] = append(c.outs[r.d], r.out)
	}
}

func (c *converter) countUses(op *pb.Op) {
	switch o := op.Op.(type) {
	case *pb.Op_Exec:
		for _, m := range o.Exec.Mounts {
			if m.Input >= 0 {
				c.use(c.input(op, m.Input), m.Dest == "/")
			}
		}
	case *pb.Op_File:
		for i, a := range o.File.Actions {
			if i == 0 && a.Input >= 0 && int(a.Input) < len(op.Inputs) {
				c.use(c.input(op, a.Input), true)
			}
			if a.SecondaryInput >= 0 && int(a.SecondaryInput) < len(op.Inputs) {
				c.use(c.input(op, a.SecondaryInput), false)
			}
		}
	case *pb.Op_Merge:
		for i, in := range o.Merge.Inputs {
			c.use(c.input(op, in.Input), i == 0)
		}
	case *pb.Op_Diff:
		if o.Diff.Lower != nil {
			c.use(c.input(op, o.Diff.Lower.Input), false)
		}
		if o.Diff.Upper != nil {
			c.use(c.input(op, o.Diff.Upper.Input), false)
		}
	}
}

func (c *converter) unsupported(d digest.Digest, format string, args ...any) error {
	name := c.names[d]
	if name == "" {
		name = kind(c.ops[d])
	}
	return &UnsupportedError{Vertex: name, Digest: d, Reason: fmt.Sprintf(format, args...)}
}

func kind(op *pb.Op) string {
	switch op.GetOp().(type) {
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
	case *pb.Op_Build:
		return "build"
	}
	return "unknown"
}

// stage is one FROM ... AS ... block.
type stage struct {
	id      int
	base    string // image reference or "scratch" when parent is nil
	parent  *stage
	fromOps []digest.Digest // vertices the FROM line stands for
	shell   bool            // the filesystem has /bin/sh (it comes from an image)
	env     map[string]string
	args    map[string]bool // env names this stage set with ARG
	workdir string          // the config's WORKDIR: "" until one is set, which runs commands in /
	user    string
	last    digest.Digest // the last vertex built in the stage: its name
	body    []instr
	deps    []*stage
	final   bool
	name    string
}

// instr is one instruction, maybe spread over continuation lines, with the
// vertices it stands for.
type instr struct {
	comment string
	text    string
	ops     []digest.Digest
}

func (c *converter) newStage(parent *stage, base string) *stage {
	st := &stage{id: len(c.stages), base: base, parent: parent,
		env: map[string]string{"PATH": system.DefaultPathEnvUnix}, args: map[string]bool{}}
	if parent != nil {
		st.shell = parent.shell
		st.workdir, st.user = parent.workdir, parent.user
		// ENV is inherited, ARG is not: only what the parent had before
		// its own ARGs.
		for k, v := range parent.env {
			if !parent.args[k] {
				st.env[k] = v
			}
		}
		st.deps = append(st.deps, parent)
	}
	c.stages = append(c.stages, st)
	return st
}

// refTo names stage to inside from; rendered once stages have names.
func (st *stage) refTo(to *stage) string {
	st.deps = append(st.deps, to)
	return "\x00" + strconv.Itoa(to.id) + "\x00"
}

// add appends an instruction standing for the vertices ds, the first of
// which it writes; the first instruction of a vertex carries its name as a
// comment.
func (c *converter) add(st *stage, text string, ds ...digest.Digest) {
	in := instr{text: text, ops: ds}
	if len(ds) > 0 {
		d := ds[0]
		if st.last != d || len(st.body) == 0 {
			in.comment = c.names[d]
		}
		st.last = d
	}
	st.body = append(st.body, in)
}

// isContext says whether d is files made on scratch: they go into the
// build context.
func (c *converter) isContext(d digest.Digest) bool {
	op := c.ops[d]
	fo := op.GetFile()
	if fo == nil || len(op.Inputs) != 0 || len(fo.Actions) == 0 {
		return false
	}
	for _, a := range fo.Actions {
		switch x := a.Action.(type) {
		case *pb.FileAction_Mkfile:
			if !isRoot(x.Mkfile.Owner) {
				return false
			}
		case *pb.FileAction_Mkdir:
			if !isRoot(x.Mkdir.Owner) {
				return false
			}
		case *pb.FileAction_Symlink:
			if !isRoot(x.Symlink.Owner) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// continues says whether the one user of r may append to r's stage.
func (c *converter) continues(r ref) bool {
	if c.baseUses[r] != 1 || c.otherUses[r] != 0 {
		return false
	}
	// An exec whose mount outputs are used ends its stage: the mounts'
	// files live in that stage's filesystem (see origin).
	return len(c.outs[r.d]) <= 1
}

// appendable returns a stage whose filesystem is r, for the caller to add
// instructions to.
func (c *converter) appendable(r ref) (*stage, error) {
	switch {
	case r.d == "":
		return c.newStage(nil, "scratch"), nil
	case c.isContext(r.d):
		st := c.newStage(nil, "scratch")
		dir, err := c.contextDir(r.d)
		if err != nil {
			return nil, err
		}
		c.add(st, "COPY "+copyArgs(dir+"/", "/"), r.d)
		return st, nil
	case c.isMountOutput(r):
		o, err := c.origin(r)
		if err != nil {
			return nil, err
		}
		st := c.newStage(nil, "scratch")
		c.add(st, "COPY --from="+st.refTo(o.st)+" "+copyArgs(o.path+"/", "/"), r.d)
		return st, nil
	case c.continues(r):
		return c.build(r)
	}
	parent, err := c.finished(r)
	if err != nil {
		return nil, err
	}
	return c.newStage(parent, ""), nil
}

// finished returns the stage that ends at r, made once.
func (c *converter) finished(r ref) (*stage, error) {
	if st, ok := c.done[r]; ok {
		return st, nil
	}
	st, err := c.build(r)
	if err != nil {
		return nil, err
	}
	c.done[r] = st
	return st, nil
}

// isMountOutput says whether r is the output of an exec's mount other than
// its root.
func (c *converter) isMountOutput(r ref) bool {
	e := c.ops[r.d].GetExec()
	if e == nil {
		return false
	}
	for _, m := range e.Mounts {
		if m.Output == r.out {
			return m.Dest != "/"
		}
	}
	return false
}

// origin is where a COPY --from or a bind mount takes a ref's files.
type origin struct {
	st   *stage // nil: the build context
	path string // absolute in st; relative to the context
}

func (c *converter) origin(r ref) (origin, error) {
	switch {
	case c.isContext(r.d):
		dir, err := c.contextDir(r.d)
		return origin{path: dir}, err
	case c.isMountOutput(r):
		// The mount's files are written into the RUN's own filesystem: a
		// Dockerfile keeps nothing of a mount.
		op := c.ops[r.d]
		var dest string
		for _, m := range op.GetExec().Mounts {
			if m.Output == r.out {
				dest = m.Dest
			}
		}
		st, ok := c.execs[r.d]
		if !ok {
			var err error
			if st, err = c.build(ref{d: r.d, out: rootOutput(op.GetExec())}); err != nil {
				return origin{}, err
			}
			c.execs[r.d] = st
		}
		return origin{st: st, path: dest}, nil
	}
	st, err := c.finished(r)
	return origin{st: st, path: "/"}, err
}

func rootOutput(e *pb.ExecOp) int64 {
	for _, m := range e.Mounts {
		if m.Dest == "/" {
			return m.Output
		}
	}
	return -1
}

// build writes the instructions that make r and returns their stage.
func (c *converter) build(r ref) (*stage, error) {
	op, ok := c.ops[r.d]
	if !ok {
		return nil, fmt.Errorf("vertex %s is not in the definition", r.d)
	}
	switch o := op.Op.(type) {
	case *pb.Op_Source:
		return c.source(r.d, o.Source)
	case *pb.Op_Exec:
		if e := c.execs[r.d]; e != nil {
			return e, nil
		}
		var root *pb.Mount
		for _, m := range o.Exec.Mounts {
			if m.Dest == "/" {
				root = m
			}
		}
		if root == nil {
			return nil, c.unsupported(r.d, "exec has no root mount")
		}
		st, err := c.appendable(c.input(op, root.Input))
		if err != nil {
			return nil, err
		}
		if st, err = c.run(st, r.d, op, o.Exec); err != nil {
			return nil, err
		}
		c.execs[r.d] = st
		return st, nil
	case *pb.Op_File:
		return c.fileOp(r.d, op, o.File)
	case *pb.Op_Merge:
		return c.merge(r.d, op, o.Merge)
	}
	return nil, c.unsupported(r.d, "a %s vertex has no Dockerfile instruction", kind(op))
}

func (c *converter) source(d digest.Digest, src *pb.SourceOp) (*stage, error) {
	id := src.Identifier
	switch {
	case strings.HasPrefix(id, "docker-image://"):
		ref := strings.TrimPrefix(id, "docker-image://")
		if named, err := reference.ParseNormalizedNamed(ref); err == nil {
			ref = reference.FamiliarString(named)
		}
		st := c.newStage(nil, ref)
		st.shell = true
		st.fromOps = append(st.fromOps, d)
		st.last = d
		return st, nil
	case strings.HasPrefix(id, "https://"), strings.HasPrefix(id, "http://"):
		st := c.newStage(nil, "scratch")
		name := src.Attrs[pb.AttrHTTPFilename]
		if name == "" {
			name = path.Base(id)
		}
		var flags []string
		if sum := src.Attrs[pb.AttrHTTPChecksum]; sum != "" {
			if c.opts.dialect == DialectDocker20 {
				return nil, c.unsupported(d, "ADD --checksum: Docker 20.10 cannot check a download")
			}
			flags = append(flags, "--checksum="+sum)
		}
		if perm := src.Attrs[pb.AttrHTTPPerm]; perm != "" {
			p, err := strconv.ParseInt(perm, 0, 32)
			if err != nil {
				return nil, c.unsupported(d, "file mode %q", perm)
			}
			if c.opts.dialect == DialectDocker20 {
				return nil, c.unsupported(d, "ADD --chmod: Docker 20.10 cannot set a mode")
			}
			flags = append(flags, fmt.Sprintf("--chmod=%04o", p))
		}
		if uid, gid := src.Attrs[pb.AttrHTTPUID], src.Attrs[pb.AttrHTTPGID]; uid != "" && uid != "0" || gid != "" && gid != "0" {
			flags = append(flags, "--chown="+cmpOr(uid, "0")+":"+cmpOr(gid, "0"))
		}
		c.add(st, "ADD "+strings.Join(append(flags, copyArgs(id, "/"+name)), " "), d)
		return st, nil
	}
	return nil, c.unsupported(d, "source %q: only images and HTTP downloads have a Dockerfile form", id)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// run writes an exec as RUN, with the ARG, WORKDIR and USER it needs, and
// returns the stage it ends up in: a new one, built FROM st, when the exec
// runs without an ARG that st set (a stage does not inherit ARGs).
func (c *converter) run(st *stage, d digest.Digest, op *pb.Op, e *pb.ExecOp) (*stage, error) {
	m := e.Meta
	if m == nil || len(m.Args) == 0 {
		return nil, c.unsupported(d, "exec without arguments")
	}
	switch {
	case len(e.Secretenv) > 0:
		return nil, c.unsupported(d, "secret environment variables")
	case len(e.CdiDevices) > 0:
		return nil, c.unsupported(d, "CDI devices")
	case m.ProxyEnv != nil:
		return nil, c.unsupported(d, "proxy environment")
	case len(m.ExtraHosts) > 0, m.Hostname != "":
		return nil, c.unsupported(d, "extra hosts or hostname")
	case len(m.Ulimit) > 0, m.CgroupParent != "":
		return nil, c.unsupported(d, "ulimits or cgroup parent")
	case len(m.ValidExitCodes) > 0:
		return nil, c.unsupported(d, "valid exit codes")
	}
	want := map[string]string{}
	for _, kv := range m.Env {
		k, v, _ := strings.Cut(kv, "=")
		want[k] = v
	}
	for k := range st.env {
		if _, ok := want[k]; !ok && st.args[k] {
			st = c.newStage(st, "")
			break
		}
	}
	for _, k := range slices.Sorted(maps.Keys(st.env)) {
		if _, ok := want[k]; !ok {
			return nil, c.unsupported(d, "exec runs without %s, which its stage has in its image config", k)
		}
	}

	var flags []string
	if c.opts.dialect == DialectDocker20 && (e.Network != pb.NetMode_UNSET || e.Security != pb.SecurityMode_SANDBOX) {
		return nil, c.unsupported(d, "RUN --network or --security: Docker 20.10's built-in frontend has neither")
	}
	switch e.Network {
	case pb.NetMode_UNSET:
	case pb.NetMode_HOST:
		flags = append(flags, "--network=host")
	case pb.NetMode_NONE:
		flags = append(flags, "--network=none")
	default:
		return nil, c.unsupported(d, "network mode %s", e.Network)
	}
	switch e.Security {
	case pb.SecurityMode_SANDBOX:
	case pb.SecurityMode_INSECURE:
		flags = append(flags, "--security=insecure")
	default:
		return nil, c.unsupported(d, "security mode %s", e.Security)
	}
	ds := []digest.Digest{d}
	for _, mnt := range e.Mounts {
		if mnt.Dest == "/" {
			continue
		}
		f, mds, err := c.mount(st, d, op, mnt)
		if err != nil {
			return nil, err
		}
		if f != "" {
			flags = append(flags, f)
		}
		ds = append(ds, mds...)
	}

	// The environment: ARG for what differs from the stage's.
	var args []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if cur, ok := st.env[k]; ok && cur == want[k] {
			continue
		}
		if strings.ContainsAny(want[k], "\n") {
			return nil, c.unsupported(d, "environment variable %s spans lines", k)
		}
		args = append(args, k+"="+word(want[k]))
		st.env[k] = want[k]
		st.args[k] = true
	}
	switch {
	case len(args) == 0:
	case c.opts.dialect == DialectDocker20:
		// One name per ARG: the frontend of Docker 20.10 takes no more.
		for _, a := range args {
			c.add(st, "ARG "+a, d)
		}
	default:
		c.add(st, "ARG "+strings.Join(args, " "), d)
	}
	if cwd := cmpOr(m.Cwd, "/"); cwd != cmpOr(st.workdir, "/") {
		c.add(st, "WORKDIR "+escape(cwd), d)
		st.workdir = cwd
	}
	if m.User != st.user {
		user := m.User
		if user == "" {
			user = "root"
		}
		c.add(st, "USER "+escape(user), d)
		st.user = m.User
	}
	c.add(st, runLine(flags, command(m.Args)), ds...)
	return st, nil
}

// mount is the RUN --mount flag for one mount, with the vertices it names.
func (c *converter) mount(st *stage, d digest.Digest, op *pb.Op, m *pb.Mount) (string, []digest.Digest, error) {
	switch m.MountType {
	case pb.MountType_CACHE:
		opt := []string{"type=cache"}
		if id := m.CacheOpt.GetID(); id != "" {
			opt = append(opt, "id="+id)
		}
		opt = append(opt, "target="+m.Dest)
		switch m.CacheOpt.GetSharing() {
		case pb.CacheSharingOpt_SHARED:
		case pb.CacheSharingOpt_PRIVATE:
			opt = append(opt, "sharing=private")
		case pb.CacheSharingOpt_LOCKED:
			opt = append(opt, "sharing=locked")
		}
		if m.Readonly {
			opt = append(opt, "ro")
		}
		return mountFlag(opt), nil, nil
	case pb.MountType_TMPFS:
		opt := []string{"type=tmpfs", "target=" + m.Dest}
		if size := m.TmpfsOpt.GetSize(); size > 0 {
			opt = append(opt, "size="+strconv.FormatInt(size, 10))
		}
		return mountFlag(opt), nil, nil
	case pb.MountType_BIND:
	default:
		return "", nil, c.unsupported(d, "%s mount at %s", m.MountType, m.Dest)
	}
	if m.Input < 0 {
		if m.Output < 0 {
			return "", nil, c.unsupported(d, "read-only empty mount at %s", m.Dest)
		}
		// A writable mount of scratch. When its output is used, the
		// command writes into the stage's own filesystem instead, where
		// COPY --from finds it (origin); otherwise a tmpfs throws it away.
		if slices.Contains(c.outs[d], m.Output) {
			return "", nil, nil
		}
		return mountFlag([]string{"type=tmpfs", "target=" + m.Dest}), nil, nil
	}
	if m.Output >= 0 && slices.Contains(c.outs[d], m.Output) {
		return "", nil, c.unsupported(d, "the files written into the mount at %s are used: a Dockerfile keeps nothing of a mount", m.Dest)
	}
	in := c.input(op, m.Input)
	o, err := c.origin(in)
	if err != nil {
		return "", nil, err
	}
	opt := []string{"type=bind"}
	src := path.Join(o.path, m.Selector)
	if o.st != nil {
		opt = append(opt, "from="+st.refTo(o.st))
		if src != "/" {
			opt = append(opt, "source="+src)
		}
	} else {
		opt = append(opt, "source="+strings.TrimPrefix(src, "/"))
	}
	opt = append(opt, "target="+m.Dest)
	if !m.Readonly {
		opt = append(opt, "rw")
	}
	return mountFlag(opt), []digest.Digest{in.d}, nil
}

// command is a RUN command: shell form for a one-line /bin/sh -c script,
// as a person writes it; exec form for everything else.
func command(args []string) string {
	if len(args) == 3 && args[0] == "/bin/sh" && args[1] == "-c" {
		s := args[2]
		if s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s, "\n\r") &&
			!strings.HasSuffix(s, `\`) && !strings.HasPrefix(s, "[") && !strings.Contains(s, "<<") {
			return s
		}
	}
	return jsonArray(args)
}

func runLine(flags []string, cmd string) string {
	if len(flags) == 0 {
		return "RUN " + cmd
	}
	return "RUN " + strings.Join(append(flags, cmd), " \\\n    ")
}

// fileOp writes a file vertex: on the stage of its input, or on scratch.
func (c *converter) fileOp(d digest.Digest, op *pb.Op, fo *pb.FileOp) (*stage, error) {
	if len(fo.Actions) == 0 {
		return nil, c.unsupported(d, "file vertex without actions")
	}
	var st *stage
	if first := fo.Actions[0].Input; first < 0 {
		st = c.newStage(nil, "scratch")
	} else {
		var err error
		if st, err = c.appendable(c.input(op, first)); err != nil {
			return nil, err
		}
	}
	if err := c.fileActions(st, d, op, fo); err != nil {
		return nil, err
	}
	return st, nil
}

// fileActions writes a file vertex's actions onto st: RUN for rm, mkdir
// and ln where the stage has a shell, COPY for files and copies.
func (c *converter) fileActions(st *stage, d digest.Digest, op *pb.Op, fo *pb.FileOp, also ...digest.Digest) error {
	ds := append([]digest.Digest{d}, also...)
	var sh []string
	var group []*pb.FileAction
	flush := func() error {
		if len(sh) > 0 {
			c.add(st, "RUN "+strings.Join(sh, " && "), ds...)
			sh = nil
		}
		if len(group) > 0 {
			dir, err := c.contextGroup(d, group)
			if err != nil {
				return err
			}
			c.add(st, "COPY "+copyArgs(dir+"/", "/"), ds...)
			group = nil
		}
		return nil
	}
	n := int64(len(op.Inputs))
	for i, a := range fo.Actions {
		if i > 0 && a.Input != n+int64(i-1) {
			return c.unsupported(d, "file actions do not form a chain (action %d)", i)
		}
		switch x := a.Action.(type) {
		case *pb.FileAction_Mkfile:
			if !st.shell {
				group = append(group, a)
				continue
			}
			if err := flush(); err != nil {
				return err
			}
			dir, err := c.contextGroup(d, []*pb.FileAction{a})
			if err != nil {
				return err
			}
			src := path.Join(dir, x.Mkfile.Path)
			c.add(st, "COPY "+chown(x.Mkfile.Owner)+copyArgs(src, x.Mkfile.Path), ds...)
		case *pb.FileAction_Mkdir:
			if !st.shell {
				group = append(group, a)
				continue
			}
			mk := "mkdir "
			if x.Mkdir.MakeParents {
				mk += "-p "
			}
			sh = append(sh, fmt.Sprintf("%s-m %o %s", mk, x.Mkdir.Mode, shq(x.Mkdir.Path)))
			if o := owner(x.Mkdir.Owner); o != "" {
				sh = append(sh, "chown "+shq(o)+" "+shq(x.Mkdir.Path))
			}
		case *pb.FileAction_Symlink:
			if !st.shell {
				group = append(group, a)
				continue
			}
			sh = append(sh, "ln -s "+shq(x.Symlink.Oldpath)+" "+shq(x.Symlink.Newpath))
			if o := owner(x.Symlink.Owner); o != "" {
				sh = append(sh, "chown -h "+shq(o)+" "+shq(x.Symlink.Newpath))
			}
		case *pb.FileAction_Rm:
			if !st.shell {
				return c.unsupported(d, "rm %s on a filesystem without a shell", x.Rm.Path)
			}
			p := shq(x.Rm.Path)
			if x.Rm.AllowWildcard {
				p = x.Rm.Path
			}
			if x.Rm.AllowNotFound {
				sh = append(sh, "rm -rf "+p)
			} else {
				sh = append(sh, "rm -r "+p)
			}
		case *pb.FileAction_Copy:
			if err := flush(); err != nil {
				return err
			}
			if err := c.copyAction(st, d, op, a, x.Copy, ds); err != nil {
				return err
			}
		default:
			return c.unsupported(d, "file action %T", a.Action)
		}
	}
	return flush()
}

func (c *converter) copyAction(st *stage, d digest.Digest, op *pb.Op, a *pb.FileAction, cp *pb.FileActionCopy, ds []digest.Digest) error {
	switch {
	case cp.AttemptUnpackDockerCompatibility:
		return c.unsupported(d, "copy that unpacks archives")
	case len(cp.IncludePatterns) > 0 || len(cp.ExcludePatterns) > 0 || len(cp.RequiredPaths) > 0:
		return c.unsupported(d, "copy with include or exclude patterns")
	case a.SecondaryInput < 0 || int(a.SecondaryInput) >= len(op.Inputs):
		return c.unsupported(d, "copy from another action's output")
	}
	in := c.input(op, a.SecondaryInput)
	o, err := c.origin(in)
	if err != nil {
		return err
	}
	var flags []string
	if o.st != nil {
		flags = append(flags, "--from="+st.refTo(o.st))
	}
	if own := owner(cp.Owner); own != "" {
		flags = append(flags, "--chown="+own)
	}
	if c.opts.dialect == DialectDocker20 && (cp.ModeStr != "" || cp.Mode >= 0) {
		return c.unsupported(d, "COPY --chmod: Docker 20.10's built-in frontend has no --chmod")
	}
	switch {
	case cp.ModeStr != "":
		flags = append(flags, "--chmod="+cp.ModeStr)
	case cp.Mode >= 0:
		flags = append(flags, fmt.Sprintf("--chmod=%04o", cp.Mode))
	}
	src := path.Join(o.path, cp.Src)
	if o.st == nil {
		src = strings.TrimPrefix(src, "/")
	}
	if cp.DirCopyContents && src != "/" {
		src += "/"
	}
	flags = append(flags, copyArgs(src, cp.Dest))
	c.add(st, "COPY "+strings.Join(flags, " "), append(ds, in.d)...)
	return nil
}

// merge writes a Merge as a Dockerfile author does: the first input's
// stage, then every other input copied on top of it.
func (c *converter) merge(d digest.Digest, op *pb.Op, m *pb.MergeOp) (*stage, error) {
	if len(m.Inputs) < 2 {
		return nil, c.unsupported(d, "merge of %d inputs", len(m.Inputs))
	}
	st, err := c.appendable(c.input(op, m.Inputs[0].Input))
	if err != nil {
		return nil, err
	}
	for _, in := range m.Inputs[1:] {
		r := c.input(op, in.Input)
		if r.d == "" {
			continue
		}
		lop := c.ops[r.d]
		// Files copied from elsewhere onto scratch, used here only: the
		// copies themselves, as a person writes them.
		if fo := lop.GetFile(); fo != nil && onlyCopies(fo) && fo.Actions[0].Input < 0 &&
			c.baseUses[r] == 0 && c.otherUses[r] == 1 {
			if err := c.fileActions(st, r.d, lop, fo, d); err != nil {
				return nil, err
			}
			continue
		}
		o, err := c.origin(r)
		if err != nil {
			return nil, err
		}
		src := strings.TrimSuffix(o.path, "/") + "/"
		if o.st == nil {
			c.add(st, "COPY "+copyArgs(src, "/"), d, r.d)
			continue
		}
		c.add(st, "COPY --from="+st.refTo(o.st)+" "+copyArgs(src, "/"), d, r.d)
	}
	return st, nil
}

func onlyCopies(fo *pb.FileOp) bool {
	for _, a := range fo.Actions {
		if a.GetCopy() == nil {
			return false
		}
	}
	return len(fo.Actions) > 0
}

// config closes the final stage with the image config.
func (c *converter) config(st *stage, img dockerspec.DockerOCIImage) error {
	cfg := img.Config
	var env []string
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if cur, ok := st.env[k]; ok && cur == v && !st.args[k] {
			continue
		}
		if strings.ContainsAny(v, "\n") {
			return fmt.Errorf("%s: image config: environment variable %s spans lines: %w", c.image, k, ErrUnsupported)
		}
		env = append(env, k+"="+word(v))
	}
	if len(env) > 0 {
		c.add(st, "ENV "+strings.Join(env, " \\\n    "))
	}
	if len(cfg.Labels) > 0 {
		var ls []string
		for _, k := range slices.Sorted(maps.Keys(cfg.Labels)) {
			ls = append(ls, quoteKey(k)+"="+quote(cfg.Labels[k]))
		}
		c.add(st, "LABEL "+strings.Join(ls, " \\\n    "))
	}
	if len(cfg.ExposedPorts) > 0 {
		ports := slices.Collect(maps.Keys(cfg.ExposedPorts))
		slices.SortFunc(ports, comparePorts)
		c.add(st, "EXPOSE "+strings.Join(ports, " "))
	}
	if len(cfg.Volumes) > 0 {
		c.add(st, "VOLUME "+jsonArray(slices.Sorted(maps.Keys(cfg.Volumes))))
	}
	// Exact, "/" against "": an image's config says what it says, even
	// where both run commands in the same directory.
	if wd := cfg.WorkingDir; wd != st.workdir && wd != "" {
		c.add(st, "WORKDIR "+escape(wd))
	}
	if cfg.User != st.user {
		c.add(st, "USER "+escape(cmpOr(cfg.User, "root")))
	}
	if len(cfg.Shell) > 0 {
		c.add(st, "SHELL "+jsonArray(cfg.Shell))
	}
	for _, ob := range cfg.OnBuild {
		c.add(st, "ONBUILD "+ob)
	}
	if cfg.StopSignal != "" {
		c.add(st, "STOPSIGNAL "+escape(cfg.StopSignal))
	}
	if hc := cfg.Healthcheck; hc != nil {
		line, err := healthcheck(hc, c.opts.dialect)
		if err != nil {
			return fmt.Errorf("%s: image config: %w", c.image, err)
		}
		c.add(st, line)
	}
	if len(cfg.Entrypoint) > 0 {
		c.add(st, "ENTRYPOINT "+jsonArray(cfg.Entrypoint))
	}
	if len(cfg.Cmd) > 0 {
		c.add(st, "CMD "+jsonArray(cfg.Cmd))
	}
	return nil
}

func healthcheck(hc *dockerspec.HealthcheckConfig, dialect Dialect) (string, error) {
	if len(hc.Test) == 0 {
		return "", nil
	}
	var flags []string
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"interval", hc.Interval}, {"timeout", hc.Timeout}, {"start-period", hc.StartPeriod}, {"start-interval", hc.StartInterval}} {
		if f.name == "start-interval" && dialect == DialectDocker20 {
			continue
		}
		if f.d > 0 {
			flags = append(flags, "--"+f.name+"="+f.d.String())
		}
	}
	if hc.Retries > 0 {
		flags = append(flags, "--retries="+strconv.Itoa(hc.Retries))
	}
	var cmd string
	switch hc.Test[0] {
	case "NONE":
		return "HEALTHCHECK NONE", nil
	case "CMD":
		cmd = "CMD " + jsonArray(hc.Test[1:])
	case "CMD-SHELL":
		if len(hc.Test) != 2 || strings.ContainsAny(hc.Test[1], "\n") {
			return "", fmt.Errorf("health check %q: %w", hc.Test, ErrUnsupported)
		}
		cmd = "CMD " + hc.Test[1]
	default:
		return "", fmt.Errorf("health check %q: %w", hc.Test, ErrUnsupported)
	}
	return "HEALTHCHECK " + strings.Join(append(flags, cmd), " "), nil
}

func comparePorts(a, b string) int {
	pa, protoA, _ := strings.Cut(a, "/")
	pb, protoB, _ := strings.Cut(b, "/")
	na, errA := strconv.Atoi(pa)
	nb, errB := strconv.Atoi(pb)
	if errA == nil && errB == nil && na != nb {
		return na - nb
	}
	if pa != pb {
		return strings.Compare(pa, pb)
	}
	return strings.Compare(protoA, protoB)
}

func isRoot(o *pb.ChownOpt) bool { return owner(o) == "" }

// owner renders a ChownOpt as user[:group]; "" for root or none.
func owner(o *pb.ChownOpt) string {
	if o == nil {
		return ""
	}
	u, g := userString(o.User), userString(o.Group)
	if (u == "" || u == "0" || u == "root") && (g == "" || g == "0" || g == "root") {
		return ""
	}
	if g == "" {
		return u
	}
	return cmpOr(u, "0") + ":" + g
}

func userString(u *pb.UserOpt) string {
	switch x := u.GetUser().(type) {
	case *pb.UserOpt_ByID:
		return strconv.FormatUint(uint64(x.ByID), 10)
	case *pb.UserOpt_ByName:
		return x.ByName.Name
	}
	return ""
}

func chown(o *pb.ChownOpt) string {
	if own := owner(o); own != "" {
		return "--chown=" + own + " "
	}
	return ""
}
