package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/result"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// PredicateSPDX is the in-toto predicate type of an SPDX document.
const PredicateSPDX = "https://spdx.dev/Document"

// attestationPath is where the document is in the attestation's own layer.
const attestationPath = "/sbom.spdx.json"

// Attach scans the solved image res (a single-platform result whose image
// config is in its metadata) and attaches its SPDX document as an in-toto
// attestation, as BuildKit's own SBOM attestations are: the exporters put
// it in an attestation manifest of the image index. name is the image
// name the document is about. It returns the document's JSON.
func Attach(ctx context.Context, c gateway.Client, res *gateway.Result, name string) ([]byte, error) {
	ref, err := res.SingleRef()
	if err != nil {
		return nil, fmt.Errorf("sbom attestation: %w", err)
	}
	if ref == nil {
		return nil, fmt.Errorf("sbom attestation: the image %s is empty", name)
	}
	inv, err := ScanFS(ctx, gatewayFS{ref})
	if err != nil {
		return nil, fmt.Errorf("sbom of %s: %w", name, err)
	}
	ps, err := exptypes.ParsePlatforms(res.Metadata)
	if err != nil {
		return nil, fmt.Errorf("sbom attestation: %w", err)
	}
	created, err := configCreated(res.Metadata[exptypes.ExporterImageConfigKey])
	if err != nil {
		return nil, fmt.Errorf("sbom attestation: %w", err)
	}
	if created.IsZero() {
		// The exporter dates the image by the build's SOURCE_DATE_EPOCH.
		if sec, err := strconv.ParseInt(c.BuildOpts().Opts["build-arg:SOURCE_DATE_EPOCH"], 10, 64); err == nil {
			created = time.Unix(sec, 0)
		}
	}
	// The document cannot name the image's digest, which only the exporter
	// knows: the attestation's subject does.
	var b bytes.Buffer
	if err := WriteJSON(&b, inv.SPDX(Subject{Name: name, Created: created})); err != nil {
		return nil, err
	}
	fileTime := created
	if fileTime.IsZero() {
		fileTime = time.Unix(0, 0)
	}
	def, err := llb.Scratch().File(
		llb.Mkfile(attestationPath, 0o644, b.Bytes(), llb.WithCreatedTime(fileTime.UTC())),
		llb.WithCustomNamef("sbom of %s", name),
	).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	att, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, fmt.Errorf("sbom attestation: %w", err)
	}
	attRef, err := att.SingleRef()
	if err != nil {
		return nil, fmt.Errorf("sbom attestation: %w", err)
	}
	for _, p := range ps.Platforms {
		res.AddAttestation(p.ID, gateway.Attestation{
			Kind:   gwpb.AttestationKind_InToto,
			Ref:    attRef,
			Path:   attestationPath,
			InToto: result.InTotoAttestation{PredicateType: PredicateSPDX},
		})
	}
	return b.Bytes(), nil
}

func configCreated(cfg []byte) (time.Time, error) {
	if cfg == nil {
		return time.Time{}, nil
	}
	var c struct {
		Created *time.Time `json:"created"`
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return time.Time{}, fmt.Errorf("image config: %w", err)
	}
	if c.Created == nil {
		return time.Time{}, nil
	}
	return *c.Created, nil
}

// gatewayFS reads a solved reference through the BuildKit gateway.
type gatewayFS struct{ ref gateway.Reference }

func (g gatewayFS) ReadFile(ctx context.Context, name string, off, n int) ([]byte, error) {
	req := gateway.ReadRequest{Filename: "/" + name}
	if n > 0 {
		req.Range = &gateway.FileRange{Offset: off, Length: n}
	}
	b, err := g.ref.ReadFile(ctx, req)
	return b, notExist(err)
}

func (g gatewayFS) ReadDir(ctx context.Context, name string) ([]*fstypes.Stat, error) {
	ents, err := g.ref.ReadDir(ctx, gateway.ReadDirRequest{Path: "/" + name})
	return ents, notExist(err)
}
