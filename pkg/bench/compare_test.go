package bench

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/inceptionctl/inception/pkg/bench/report"
)

func TestReportRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	var js bytes.Buffer
	require.NoError(t, testReport().WriteJSON(&js))

	t.Run("a report", func(t *testing.T) {
		rep, err := report.Read(write("ok.json", js.String()))
		require.NoError(t, err)
		assert.Equal(t, testReport().Results, rep.Results)
	})
	t.Run("run-time figures only", func(t *testing.T) {
		rt := report.New()
		rt.Runtime = testRuntimeReport()
		var b bytes.Buffer
		require.NoError(t, rt.WriteJSON(&b))
		rep, err := report.Read(write("rt.json", b.String()))
		require.NoError(t, err)
		require.NotNil(t, rep.Runtime)
		assert.Len(t, rep.Runtime.Results, 6)
	})
	t.Run("missing", func(t *testing.T) {
		_, err := report.Read(filepath.Join(dir, "nope.json"))
		require.Error(t, err)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.NotErrorIs(t, err, report.ErrNotReport)
	})
	bad := []struct {
		name, content, want string
	}{
		{"empty", " \n", "the file is empty"},
		{"the table", "SCENARIO  SCOPE  LLB s [min-max] ran\n", "invalid character 'S'"},
		{"an array", "[]", "cannot unmarshal array"},
		{"another report", `{"images": [{"ref": "nginx:bookworm"}]}`, "no build figures (results) and no run-time figures (runtime)"},
		{"no figures", `{"results": [], "runtime": {"results": []}}`, "no build figures"},
		{"a result without a case", `{"results": [{"median_s": 1}]}`, "result 1 has no scenario, scope or variant"},
		{"a figure without a name", `{"results": [], "runtime": {"results": [{"scenario": "up"}]}}`, "run-time result 1 has no scenario or figure"},
		{"two reports", js.String() + js.String(), "more after the JSON object"},
		{"cut short", js.String()[:js.Len()/2], "unexpected EOF"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tc.name, " ", "-")+".json", tc.content)
			_, err := report.Read(p)
			require.Error(t, err)
			assert.ErrorIs(t, err, report.ErrNotReport)
			assert.Contains(t, err.Error(), p+": not an inceptionctl bench report")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestWriteJSONFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bench.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	rep := testReport()
	require.NoError(t, rep.WriteJSONFile(path))
	var want bytes.Buffer
	require.NoError(t, rep.WriteJSON(&want))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want.String(), string(got), "the same as --format json, replacing the old file")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm())
	back, err := report.Read(path)
	require.NoError(t, err)
	assert.Equal(t, rep.Results, back.Results, "a baseline for the next run")

	err = rep.WriteJSONFile(filepath.Join(dir, "missing", "bench.json"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "%v", err)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}
