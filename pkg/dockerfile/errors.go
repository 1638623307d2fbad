package dockerfile

import (
	"errors"
	"fmt"

	digest "github.com/opencontainers/go-digest"
)

// ErrUnsupported is what every *UnsupportedError matches with errors.Is.
var ErrUnsupported = errors.New("no Dockerfile equivalent")

// ErrContextDir is returned by WriteContext for a directory that already
// holds files: the converter never writes over a user's files.
var ErrContextDir = errors.New("context directory not empty")

// UnsupportedError names the vertex of the graph that has no Dockerfile
// equivalent, and why.
type UnsupportedError struct {
	Vertex string        // the vertex's name (llb.customname), or its kind
	Digest digest.Digest // the vertex's digest
	Reason string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("vertex %q (%s): %s: %s", e.Vertex, shortDigest(e.Digest), ErrUnsupported, e.Reason)
}

// Is makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

func shortDigest(d digest.Digest) string {
	s := d.Encoded()
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}
