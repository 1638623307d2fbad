package bench

import "github.com/inceptionctl/inception/internal/benchstat"

// WithMachineReference times the reference work (the report's reference) at the
// start of every case and run-time scenario, and before every HTTPS run:
// about a tenth of a second each, with every CPU busy and nothing else
// measured meanwhile.
func WithMachineReference() Option { return func(c *config) { c.reference = true } }

// newReference is the reference a bench times: nil unless asked for
// (WithMachineReference).
func (c *config) newReference() *benchstat.Reference {
	if !c.reference {
		return nil
	}
	return benchstat.NewReference()
}
