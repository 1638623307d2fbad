package report

import "errors"

var (
	// ErrUnknownVariant is returned for a variant name that is not llb,
	// linear, dockerfile or compose.
	ErrUnknownVariant = errors.New("unknown variant")

	// ErrUnknownScenario is returned for a scenario name bench does not
	// know.
	ErrUnknownScenario = errors.New("unknown scenario")

	// ErrNotReport is returned by Read for a file that is not the JSON of
	// a bench report.
	ErrNotReport = errors.New("not an inceptionctl bench report")
)
