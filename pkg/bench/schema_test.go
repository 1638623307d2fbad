package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/internal/benchstat"
	"github.com/inceptionctl/inception/pkg/bench/report"
)

// The JSON report's schema is what --baseline reads and what users keep:
// its field names are held here. testdata/report-before.json is a default
// run's report written before the package was reshaped, and
// testdata/report-fields.golden the field paths of a report with every
// part filled (written by the same code; regenerate with
// INCEPTION_UPDATE_GOLDEN=1 only for a change of schema meant as one).

// TestReportSchemaHoldsAnEarlierRun: a report written before reads back
// and writes again with every field it had, and no other.
func TestReportSchemaHoldsAnEarlierRun(t *testing.T) {
	const path = "testdata/report-before.json"
	old, err := os.ReadFile(path)
	require.NoError(t, err)
	rep, err := report.Read(path)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, rep.WriteJSON(&out))
	assert.Equal(t, jsonPaths(t, old), jsonPaths(t, out.Bytes()))
	assert.JSONEq(t, string(old), out.String(), "the same values too")
}

// TestReportSchemaGolden: a report with build, run-time and second-runner
// figures, targets, machine references and a comparison has the golden
// field names.
func TestReportSchemaGolden(t *testing.T) {
	rep, err := report.Read("testdata/report-before.json")
	require.NoError(t, err)
	rep.SecondRunner = secondRunnerReport(true)
	rep.SecondRunner.Started = time.Unix(0, 0).UTC()
	rep.SecondRunner.Passes = 1
	rep.Comparison = &benchstat.Comparison{Baseline: "before.json", Started: rep.Started, Judged: 3, Inside: 2,
		Outside:   []benchstat.Deviation{{Figure: "cold/nginx llb", Median: 12, Min: 9, Max: 11, Unit: "s"}},
		Failed:    []string{"https/no-cache"},
		Unmatched: []string{"site-change/static compose"},
		Machine:   &benchstat.MachineChange{Work: "w", Median: 0.1, Baseline: 0.11}}
	rep.Runtime.Results[4].Failed = "more than 1% errors"
	rep.Runtime.Results[4].Runs[0].Load.FirstError = "EOF"
	rep.Runtime.Results[0].UpSeconds = 1
	rep.Runtime.PageCacheOff = report.PageCacheOffStock
	var out bytes.Buffer
	require.NoError(t, rep.WriteJSON(&out))
	got := strings.Join(jsonPaths(t, out.Bytes()), "\n") + "\n"

	golden := filepath.Join("testdata", "report-fields.golden")
	if os.Getenv("INCEPTION_UPDATE_GOLDEN") == "1" {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "no golden file: run INCEPTION_UPDATE_GOLDEN=1 go test ./pkg/bench/")
	assert.Equal(t, string(want), got, "the report's JSON fields changed: a report written before would not read the same")
}

// jsonPaths lists every field path of a JSON document, sorted, once each:
// "results[].runs[].seconds". The keys of the one map in the report
// (Result.Ran, by image name) are "*".
func jsonPaths(t *testing.T, dt []byte) []string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(dt, &v))
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if strings.HasSuffix(prefix, "results[].ran") {
					k = "*"
				}
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				seen[p] = true
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		}
	}
	walk("", v)
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
