package dockerfile

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// docker20Flags are the instruction flags Docker 20.10's built-in
// Dockerfile frontend (1.2) knows.
var docker20Flags = map[string][]string{
	"from":        {"platform"},
	"run":         {"mount"},
	"copy":        {"from", "chown"},
	"add":         {"chown"},
	"healthcheck": {"interval", "timeout", "start-period", "retries"},
}

// docker20Mounts are the RUN --mount types it knows.
var docker20Mounts = []string{"bind", "cache", "tmpfs", "secret", "ssh"}

var directive = regexp.MustCompile(`(?i)^#\s*(syntax|check)\s*=`)

// Check parses df and reports every construct that dialect d cannot
// build, by line. DialectCurrent accepts whatever parses.
//
//	err := dockerfile.Check(res.Dockerfile, dockerfile.DialectDocker20)
func Check(df []byte, d Dialect) error {
	res, err := parser.Parse(bytes.NewReader(df))
	if err != nil {
		return fmt.Errorf("parse Dockerfile: %w", err)
	}
	if d == DialectCurrent {
		return nil
	}
	var bad []string
	for i, l := range strings.Split(string(df), "\n") {
		if directive.MatchString(l) {
			bad = append(bad, fmt.Sprintf("line %d: a parser directive needs a frontend image to pull", i+1))
		}
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		break
	}
	for _, n := range res.AST.Children {
		instr := strings.ToLower(n.Value)
		if len(n.Heredocs) > 0 {
			bad = append(bad, fmt.Sprintf("line %d: %s with a heredoc", n.StartLine, instr))
		}
		for _, f := range n.Flags {
			name, value, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			if !slices.Contains(docker20Flags[instr], name) {
				bad = append(bad, fmt.Sprintf("line %d: %s --%s", n.StartLine, instr, name))
				continue
			}
			if instr == "run" && name == "mount" {
				typ := "bind"
				for _, field := range strings.Split(value, ",") {
					if t, ok := strings.CutPrefix(field, "type="); ok {
						typ = t
					}
				}
				if !slices.Contains(docker20Mounts, typ) {
					bad = append(bad, fmt.Sprintf("line %d: run --mount=type=%s", n.StartLine, typ))
				}
			}
		}
		if instr == "arg" && n.Next != nil && n.Next.Next != nil {
			bad = append(bad, fmt.Sprintf("line %d: arg with more than one name", n.StartLine))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w in the %s dialect: %s", ErrUnsupported, d, strings.Join(bad, "; "))
	}
	return nil
}
