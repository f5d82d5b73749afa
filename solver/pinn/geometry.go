package pinn

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/sparse"
)

// physicsMesh is the mesh the residuals live on and the per-node network
// inputs there: the heart mesh subdivided Levels times (its first Heart
// nodes are the heart's own, in order), and feat, the In−1 rows of
// per-node inputs [x, y, z, φ1 … φK] (the eigenfunctions of
// Config.LBInputs, computed on the heart mesh and carried to the midpoints
// by linear interpolation, mesh.SubdivideValues).
type physicsMesh struct {
	mesh   *mesh.Mesh
	levels int
	heart  int
	feat   [][]float64
}

// newPhysicsMesh builds the physics mesh of cfg on heart.
func newPhysicsMesh(cfg *Config, heart *mesh.Mesh) (*physicsMesh, error) {
	levels := cfg.PhysicsRefine
	if levels < 0 {
		levels = AutoRefine(heart)
	}
	n := len(heart.Nodes)
	switch {
	case cfg.LBInputs >= n:
		return nil, inverse.InputError(fmt.Errorf("lb inputs %d: a %d-node heart has %d non-constant eigenfunctions; use -lb-inputs %d or fewer", cfg.LBInputs, n, n-1, n-1))
	case cfg.LBInputs > 0 && n > mesh.MaxEigenNodes:
		return nil, inverse.InputError(fmt.Errorf("lb inputs %d: the eigenfunctions of a %d-node heart would take hours (the dense decomposition takes at most %d nodes); use -lb-inputs 0", cfg.LBInputs, n, mesh.MaxEigenNodes))
	}
	lb, _, err := mesh.Eigenfunctions(heart, cfg.LBInputs)
	if err != nil {
		return nil, fmt.Errorf("lb inputs: %w", err)
	}
	m := heart
	for range levels {
		for c, f := range lb {
			lb[c] = m.SubdivideValues(f)
		}
		m = m.Subdivide()
	}
	pm := &physicsMesh{mesh: m, levels: levels, heart: len(heart.Nodes)}
	for j := range 3 {
		x := make([]float64, len(m.Nodes))
		for i, p := range m.Nodes {
			x[i] = p[j]
		}
		pm.feat = append(pm.feat, x)
	}
	pm.feat = append(pm.feat, lb...)
	return pm, nil
}

// lb returns the eigenfunction inputs, one row per function.
func (pm *physicsMesh) lb() [][]float64 { return pm.feat[3:] }

// laplacian returns the ND Laplacian of the physics mesh (Config.Operator).
func (pm *physicsMesh) laplacian(op string) *sparse.CSR {
	if op == "cotangent" {
		return mesh.LaplaceBeltrami(pm.mesh)
	}
	return mesh.Laplacian(pm.mesh)
}

// upstrokeWidth is the width over which the Aliev–Panfilov upstroke rises
// from 10% to 90% in space (mm): the travelling front of the bistable
// u-equation u_t = DΔu + k u(1−u)(u−a) has the profile 1/(1+e^{x/ℓ}) with
// ℓ = √(2D/k) (1.58 mm for D = 10, k = 8), and 1/(1+e^{x/ℓ}) goes from 0.9
// to 0.1 over 2 ln 9 · ℓ (6.95 mm). Its speed (1−2a)√(kD/2) = 5.06 mm per
// AP unit is the 5.0 mm/unit the simulator shows on the default heart.
func upstrokeWidth() float64 {
	p := ap.DefaultParams()
	return 2 * math.Log(9) * math.Sqrt(2*p.D/p.K)
}

// autoEdgeRatio is the automatic rule's bound on the physics mesh's mean
// edge as a multiple of the upstroke width: a mesh whose edges are longer
// than about one and a half upstroke widths cannot carry the front (the
// 257-node ECGSim ventricles, mean edge 16.5 mm = 2.4 widths, stop the
// simulated wave; once subdivided, 8.3 mm = 1.2 widths, it reaches every
// node), and the residuals of such a mesh do not pin the wave either:
// EAND-ARN's RE on ECGSim (LV free wall, σ 0.05) was 0.392 with the
// residuals on the 257 nodes, 0.274 on the once-subdivided copy, and 0.345
// on the twice-subdivided one (4.1 mm, for 4× the CPU), so the bound is
// not one width (README, How EAND-ARN's defaults were chosen).
const autoEdgeRatio = 1.5

// AutoRefine is the number of subdivisions PhysicsRefine −1 chooses: the
// fewest (at most maxPhysicsRefine) that bring the heart mesh's mean edge
// to at most autoEdgeRatio upstroke widths (10.4 mm): none for the default
// heart (4.0 mm), one for the ECGSim ventricles (16.5 → 8.3 mm).
func AutoRefine(heart *mesh.Mesh) int {
	e, bound := heart.MeanEdgeLength(), autoEdgeRatio*upstrokeWidth()
	levels := 0
	for e > bound && levels < maxPhysicsRefine {
		e /= 2 // each subdivision halves the mean edge (exactly on a closed mesh)
		levels++
	}
	return levels
}
