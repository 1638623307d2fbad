package dockerfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// render names the stages, orders them so each comes after the stages it
// uses, and writes the text and the vertex map.
func (c *converter) render(final *stage) (*Result, error) {
	var order []*stage
	seen := map[*stage]bool{}
	var visit func(st *stage)
	visit = func(st *stage) {
		if seen[st] {
			return
		}
		seen[st] = true
		for _, dep := range st.deps {
			visit(dep)
		}
		order = append(order, st)
	}
	visit(final)

	used := map[string]bool{}
	final.name = cmpOr(slug(c.image), "image")
	used[final.name] = true
	for _, st := range order {
		if st == final {
			continue
		}
		name := c.names[st.last]
		if _, rest, ok := strings.Cut(name, ": "); ok {
			name = rest
		}
		base := cmpOr(slug(name), "stage-"+strconv.Itoa(st.id))
		st.name = base
		for i := 2; used[st.name]; i++ {
			st.name = base + "-" + strconv.Itoa(i)
		}
		used[st.name] = true
	}
	byID := map[string]string{}
	for _, st := range c.stages {
		byID[strconv.Itoa(st.id)] = st.name
	}
	dirs := c.contextDirs()
	names := func(s string) string {
		s = resolve(s, dirs)
		return stageRef.ReplaceAllStringFunc(s, func(m string) string { return byID[strings.Trim(m, "\x00")] })
	}

	var b bytes.Buffer
	line := 1
	write := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
		line += strings.Count(s, "\n") + 1
	}
	lines := map[digest.Digest][]int{}
	write(fmt.Sprintf("# %s: Dockerfile converted from its LLB graph by `inceptionctl dockerfile %s`.", c.image, c.image))
	switch {
	case c.opts.dialect == DialectDocker20:
		write("# Docker 20.10 and later build it with BuildKit on (RUN --mount): DOCKER_BUILDKIT=1 docker build DIR")
	case len(c.files) > 0:
		write(fmt.Sprintf("# The files it copies are in its build context: `inceptionctl dockerfile %s --context DIR`", c.image))
		write("# writes both. Build it with BuildKit's Dockerfile frontend, the base image from the engine's store:")
		write("#   buildctl build --frontend dockerfile.v0 --local context=DIR --local dockerfile=DIR --opt image-resolve-mode=local")
	}
	for _, st := range order {
		write("")
		from := st.base
		if st.parent != nil {
			from = st.parent.name
		}
		if len(st.fromOps) > 0 && c.names[st.fromOps[0]] != "" {
			write("# " + c.names[st.fromOps[0]])
		}
		for _, d := range st.fromOps {
			lines[d] = append(lines[d], line)
		}
		write("FROM " + from + " AS " + st.name)
		for _, in := range st.body {
			if in.comment != "" {
				write("# " + in.comment)
			}
			for _, d := range in.ops {
				if l := lines[d]; len(l) == 0 || l[len(l)-1] != line {
					lines[d] = append(lines[d], line)
				}
			}
			write(names(in.text))
		}
	}

	res := &Result{Dockerfile: b.Bytes(), Context: c.contextFiles(dirs)}
	for _, d := range c.order {
		if len(lines[d]) == 0 {
			return nil, c.unsupported(d, "no instruction stands for it")
		}
		name := c.names[d]
		res.Vertices = append(res.Vertices, Vertex{Digest: d, Name: name, Kind: kind(c.ops[d]), Lines: lines[d]})
	}
	return res, nil
}

var stageRef = regexp.MustCompile("\x00[0-9]+\x00")

// slug makes a stage or directory name from a vertex name: lower case,
// words joined with '-', at most about 32 characters.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	out := b.String()
	for len(out) > 32 {
		i := strings.LastIndexByte(out, '-')
		if i <= 0 {
			return out[:32]
		}
		out = out[:i]
	}
	return out
}

// jsonArray is the JSON form of an instruction's arguments, without the
// HTML escapes encoding/json adds by default.
func jsonArray(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = jsonString(a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// quote is a double-quoted word for ENV and LABEL: the Dockerfile expands
// $ there, so it is escaped with the quote and the backslash.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`)
	return `"` + r.Replace(s) + `"`
}

// word is a value for ARG and ENV, quoted only when it needs to be.
func word(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return quote(s)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9._/:@%+=,-]+$`)

func quoteKey(s string) string {
	if plainWord.MatchString(s) && !strings.Contains(s, "=") {
		return s
	}
	return quote(s)
}

// escape is a word for WORKDIR, USER and STOPSIGNAL.
func escape(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return quote(s)
}

// copyArgs are COPY's source and destination: the JSON form when a path
// has white space or quotes.
func copyArgs(src, dst string) string {
	if strings.ContainsAny(src+dst, " \t\"'\\") {
		return jsonArray([]string{src, dst})
	}
	r := strings.NewReplacer(`$`, `\$`)
	return r.Replace(src) + " " + r.Replace(dst)
}

// mountFlag is a RUN --mount flag. Its value is CSV: a field with a comma
// or a quote is quoted.
func mountFlag(fields []string) string {
	q := make([]string, len(fields))
	for i, f := range fields {
		if strings.ContainsAny(f, ",\"\n ") {
			f = `"` + strings.ReplaceAll(f, `"`, `""`) + `"`
		}
		q[i] = f
	}
	return "--mount=" + strings.Join(q, ",")
}

// shq quotes a word for /bin/sh.
func shq(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
