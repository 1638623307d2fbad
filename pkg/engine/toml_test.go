package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// parseTOML parses the subset of TOML our templates use: comments, [table]
// headers with dotted and quoted keys, key = value, basic strings, booleans,
// integers and one-line arrays. Anything else is an error, so a template
// that strays from the subset fails the test instead of passing unchecked.
// It exists because the module's go.mod has no TOML parser and the tests
// must not add one; the integration test has the daemons parse the real
// files.
func parseTOML(src string) (map[string]any, error) {
	root := map[string]any{}
	cur := root
	for n, line := range strings.Split(src, "\n") {
		p := &tomlLexer{s: line}
		p.space()
		if p.done() {
			continue
		}
		if p.peek() == '[' {
			p.i++
			keys, err := p.keys(']')
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			p.i++
			if p.space(); !p.done() {
				return nil, fmt.Errorf("line %d: junk after table header: %q", n+1, p.s[p.i:])
			}
			t := root
			for _, k := range keys {
				next, ok := t[k]
				if !ok {
					next = map[string]any{}
					t[k] = next
				}
				nt, ok := next.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("line %d: %s is not a table", n+1, k)
				}
				t = nt
			}
			cur = t
			continue
		}
		keys, err := p.keys('=')
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if len(keys) != 1 {
			return nil, fmt.Errorf("line %d: dotted keys are outside the subset", n+1)
		}
		p.i++
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if p.space(); !p.done() {
			return nil, fmt.Errorf("line %d: junk after value: %q", n+1, p.s[p.i:])
		}
		if _, dup := cur[keys[0]]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %s", n+1, keys[0])
		}
		cur[keys[0]] = v
	}
	return root, nil
}

type tomlLexer struct {
	s string
	i int
}

func (p *tomlLexer) done() bool { return p.i >= len(p.s) || p.s[p.i] == '#' }
func (p *tomlLexer) peek() byte { return p.s[p.i] }

func (p *tomlLexer) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

// keys reads dotted keys up to end, leaving p at end.
func (p *tomlLexer) keys(end byte) ([]string, error) {
	var keys []string
	for {
		p.space()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("missing %q", end)
		}
		var k string
		if p.peek() == '"' {
			s, err := p.str()
			if err != nil {
				return nil, err
			}
			k = s
		} else {
			j := p.i
			for p.i < len(p.s) && isBareKey(p.s[p.i]) {
				p.i++
			}
			if j == p.i {
				return nil, fmt.Errorf("bad key at %q", p.s[j:])
			}
			k = p.s[j:p.i]
		}
		keys = append(keys, k)
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			return keys, nil
		}
		if p.i >= len(p.s) || p.s[p.i] != '.' {
			return nil, fmt.Errorf("missing %q", end)
		}
		p.i++
	}
}

func isBareKey(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *tomlLexer) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("missing value")
	}
	switch c := p.peek(); {
	case c == '"':
		return p.str()
	case c == '[':
		p.i++
		var arr []any
		for {
			p.space()
			if p.i < len(p.s) && p.peek() == ']' {
				p.i++
				return arr, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			p.space()
			if p.i < len(p.s) && p.peek() == ',' {
				p.i++
			}
		}
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	default:
		j := p.i
		for p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
			p.i++
		}
		n, err := strconv.ParseInt(p.s[j:p.i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("value outside the subset at %q", p.s[j:])
		}
		return n, nil
	}
}

// str reads a basic string with TOML's escapes.
func (p *tomlLexer) str() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '"', '\\':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if p.i+4 > len(p.s) {
					return "", fmt.Errorf("short \\u escape")
				}
				r, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
				if err != nil {
					return "", fmt.Errorf("bad \\u escape: %w", err)
				}
				b.WriteRune(rune(r))
				p.i += 4
			default:
				return "", fmt.Errorf("escape \\%c is not TOML", e)
			}
		case c < 0x20:
			return "", fmt.Errorf("control character %#x in string", c)
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", fmt.Errorf("unterminated string")
}
