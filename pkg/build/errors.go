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
