package main

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/dockerpeer"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// TestBenchComposeMissingPeer: --variants compose without the compose
// plugin is refused with exit 1 and a message naming make docker-peer,
// before any daemon is started or anything is made; the other variants
// do not need it.
func TestBenchComposeMissingPeer(t *testing.T) {
	dir := t.TempDir()
	empty := t.TempDir() // a DOCKER_CONFIG with no cli-plugins
	_, _, err := run(context.Background(), "--root", dir, "--run-dir", dir, "bench", "--scenarios", "no-change",
		"--variants", "llb,compose", "--docker-config", empty)
	require.Error(t, err)
	require.ErrorIs(t, err, dockerpeer.ErrMissing)
	var ue *usageError
	assert.False(t, errors.As(err, &ue), "the command line is right, the machine lacks a part: exit 1, not 2")
	assert.ErrorContains(t, err, "--variants compose: ")
	assert.ErrorContains(t, err, "run `make docker-peer`")
	assert.ErrorContains(t, err, empty+"/cli-plugins/docker-compose")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "refused before anything ran")

	o := &benchOptions{dockerConfig: empty}
	assert.NoError(t, o.checkComposePeer(nil), "llb, linear and dockerfile need no peer")
}

// TestWithComposeUp: the compose variant's up figure goes right after the
// engine's up figures in the run-time table, or nowhere without them.
func TestWithComposeUp(t *testing.T) {
	cu := &report.RuntimeResult{Scenario: report.RuntimeUp, Figure: report.FigureComposeFirstBoot}
	rr := &report.RuntimeReport{Results: []report.RuntimeResult{
		{Scenario: report.RuntimeUp, Figure: report.FigureFirstBoot},
		{Scenario: report.RuntimeUp, Figure: report.FigureSecondBoot},
		{Scenario: report.RuntimeHTTPS, Figure: report.FigureRedisCache},
	}}
	got := withComposeUp(rr, cu)
	var figures []string
	for _, r := range got.Results {
		figures = append(figures, r.Figure)
	}
	assert.Equal(t, []string{report.FigureFirstBoot, report.FigureSecondBoot, report.FigureComposeFirstBoot, report.FigureRedisCache}, figures)
	assert.Nil(t, withComposeUp(nil, cu))
	assert.Len(t, withComposeUp(&report.RuntimeReport{}, nil).Results, 0)
}
