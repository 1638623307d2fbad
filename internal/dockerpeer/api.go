package dockerpeer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiVersion is Docker 20.10's API: every call here is in it.
const apiVersion = "v1.41"

// ErrNotFound is returned for an image dockerd does not have.
var ErrNotFound = errors.New("not found in the private dockerd")

// CacheRecord is one record of dockerd's build cache (GET /system/df).
type CacheRecord struct {
	ID        string    `json:"ID"`
	Type      string    `json:"Type"` // regular, internal, frontend, source.local, exec.cachemount, ...
	InUse     bool      `json:"InUse"`
	CreatedAt time.Time `json:"CreatedAt"`
}

// CacheMountType is the record type of a cache mount (RUN --mount=type=cache).
const CacheMountType = "exec.cachemount"

// do sends one API request; a status of 400 and over is an error with the
// daemon's message.
func (d *Daemon) do(ctx context.Context, method, path string, query url.Values, body io.Reader, out any) error {
	u := "http://docker/" + apiVersion + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	resp, err := d.api.Do(req)
	if err != nil {
		return fmt.Errorf("dockerd %s %s: %w", method, path, err)
	}
	defer drain(resp.Body)
	if resp.StatusCode >= 400 {
		var msg struct {
			Message string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&msg)
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNotFound, msg.Message)
		}
		return fmt.Errorf("dockerd %s %s: %s: %s", method, path, resp.Status, msg.Message)
	}
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("dockerd %s %s: decode: %w", method, path, err)
	}
	return nil
}

func (d *Daemon) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/_ping", nil)
	if err != nil {
		return err
	}
	resp, err := d.api.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ping: %s", resp.Status)
	}
	return nil
}

// BuildCache lists the build cache's records.
func (d *Daemon) BuildCache(ctx context.Context) ([]CacheRecord, error) {
	var df struct {
		BuildCache []CacheRecord `json:"BuildCache"`
	}
	if err := d.do(ctx, http.MethodGet, "/system/df", nil, nil, &df); err != nil {
		return nil, fmt.Errorf("list the build cache: %w", err)
	}
	return df.BuildCache, nil
}

// PruneBuildCache prunes the build cache records that match the filter,
// a key and one value (dockerd takes one value per key: id, type, ...),
// used or not (docker builder prune --all).
func (d *Daemon) PruneBuildCache(ctx context.Context, key, value string) error {
	filters, err := json.Marshal(map[string]map[string]bool{key: {value: true}})
	if err != nil {
		return err
	}
	q := url.Values{"all": {"1"}, "filters": {string(filters)}}
	if err := d.do(ctx, http.MethodPost, "/build/prune", q, nil, nil); err != nil {
		return fmt.Errorf("prune the build cache (%s=%s): %w", key, value, err)
	}
	return nil
}

// ImageID is the id of the image ref in dockerd's image store;
// ErrNotFound when it has none.
func (d *Daemon) ImageID(ctx context.Context, ref string) (string, error) {
	var img struct {
		ID string `json:"Id"`
	}
	if err := d.do(ctx, http.MethodGet, "/images/"+url.PathEscape(ref)+"/json", nil, nil, &img); err != nil {
		return "", fmt.Errorf("image %s: %w", ref, err)
	}
	return img.ID, nil
}

// Load loads a docker image archive (docker load; containerd's exporter
// writes the manifest.json it reads) into dockerd's image store.
func (d *Daemon) Load(ctx context.Context, archive io.Reader) error {
	var out strings.Builder
	if err := d.do(ctx, http.MethodPost, "/images/load", url.Values{"quiet": {"1"}}, archive, &out); err != nil {
		return fmt.Errorf("docker load: %w", err)
	}
	// Errors of a load come in the JSON stream, with status 200.
	for _, line := range strings.Split(out.String(), "\n") {
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.Error != "" {
			return fmt.Errorf("docker load: %s", msg.Error)
		}
	}
	return nil
}
