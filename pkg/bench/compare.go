package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadReport reads a report that WriteJSON wrote (bench --format json or
// --export-json), to compare a run with. A file that is not one JSON
// object of a report with build or run-time figures is ErrNotReport.
func ReadReport(path string) (*Report, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(dt)) == 0 {
		return nil, fmt.Errorf("%s: %w: the file is empty", path, ErrNotReport)
	}
	dec := json.NewDecoder(bytes.NewReader(dt))
	var rep Report
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", path, ErrNotReport, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w: more after the JSON object", path, ErrNotReport)
	}
	if len(rep.Results) == 0 && (rep.Runtime == nil || len(rep.Runtime.Results) == 0) {
		return nil, fmt.Errorf("%s: %w: no build figures (results) and no run-time figures (runtime)", path, ErrNotReport)
	}
	for i, r := range rep.Results {
		if r.Scenario == "" || r.Scope == "" || r.Variant == "" {
			return nil, fmt.Errorf("%s: %w: result %d has no scenario, scope or variant", path, ErrNotReport, i+1)
		}
	}
	if rep.Runtime != nil {
		for i, r := range rep.Runtime.Results {
			if r.Scenario == "" || r.Figure == "" {
				return nil, fmt.Errorf("%s: %w: run-time result %d has no scenario or figure", path, ErrNotReport, i+1)
			}
		}
	}
	return &rep, nil
}

// WriteJSONFile writes the report as WriteJSON does into path, atomically:
// into a temporary file in path's directory, renamed to path once written.
func (rep *Report) WriteJSONFile(path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = rep.WriteJSON(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
