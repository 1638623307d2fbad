package build

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidOutput means an --output or cache specification could not be used.
var ErrInvalidOutput = errors.New("invalid output")

// ErrNoRecipe is returned for a service Targets cannot build: no build
// section, or a recipe name the recipes do not have.
var ErrNoRecipe = errors.New("no build recipe")

// StepError is a failed build step: which vertex, and the end of its log.
type StepError struct {
	Image string   // the image being built
	Step  string   // the vertex name, e.g. "nginx: install packages"
	Log   []string // last lines the step printed
	Err   error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "build %s: step %q: %v", e.Image, e.Step, e.Err)
	if len(e.Log) > 0 {
		b.WriteString("\nlast lines of the step's log:\n")
		for _, l := range e.Log {
			b.WriteString("  | " + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func (e *StepError) Unwrap() error { return e.Err }

// PushError is a push to a registry that failed: which image, where to, and
// what the registry answered (in Err, as BuildKit reports it).
type PushError struct {
	Image string // the service
	Refs  string // the references pushed, comma-separated
	Err   error
}

func (e *PushError) Error() string {
	return fmt.Sprintf("push %s to %s: %v (check the registry's address and the credentials in the docker config: DOCKER_CONFIG or ~/.docker/config.json)",
		e.Image, e.Registry(), e.Err)
}

func (e *PushError) Unwrap() error { return e.Err }

// Registry is the registry host of the first reference pushed.
func (e *PushError) Registry() string {
	first, _, _ := strings.Cut(e.Refs, ",")
	host, _, _ := strings.Cut(first, "/")
	return host
}

// isPushError reports whether a solve error came from talking to a
// registry rather than from a build step.
func isPushError(err error) bool {
	msg := err.Error()
	for _, s := range []string{"push", "authorize", "401 Unauthorized", "403 Forbidden", "unexpected status"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
