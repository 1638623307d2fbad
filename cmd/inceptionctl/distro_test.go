package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDistroExplain: an Alpine build that cannot pull its base says why and
// what to do, offering --base only where the command has it; other errors
// and Debian builds pass through unchanged.
func TestDistroExplain(t *testing.T) {
	pull := errors.New(`step "nginx: base docker.io/library/alpine:3.23": failed to solve`)
	build := distroFlag{name: "alpine"}
	err := build.explain(pull)
	assert.ErrorIs(t, err, pull)
	assert.ErrorContains(t, err, "Alpine images start from a registry")
	assert.ErrorContains(t, err, "--base REG/NS/alpine:3.23")

	bench := distroFlag{name: "alpine", noBase: true}
	err = bench.explain(pull)
	assert.ErrorIs(t, err, pull)
	assert.NotContains(t, err.Error(), "--base")
	assert.ErrorContains(t, err, "use --distro debian")

	other := errors.New("disk full")
	assert.Equal(t, other, build.explain(other))
	assert.Equal(t, pull, (&distroFlag{name: "debian"}).explain(pull))
	assert.NoError(t, build.explain(nil))
}
