// Package synth builds the default synthetic recording of DESIGN §3, the
// way the paper made its data: geometry → BEM transfer matrix → Aliev–Panfilov
// simulation on the heart surface → body-surface potentials Y = R U.
// cmd/eandarn-synth writes such recordings to run files; this package serves
// the tests and benchmarks that need the default one in memory.
package synth

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Default returns the default dataset without noise: geometry.Heart inside
// geometry.Torso (all 352 nodes are leads), the BEM transfer matrix R, an
// Aliev–Panfilov run with the cotangent Laplace–Beltrami operator paced at
// the apex (ap.DefaultConfig: 661 frames over [0, 56]), BSPM = R U, and the
// simulated u and v as truth.
func Default() (*inverse.Problem, error) {
	heart := geometry.Heart()
	torso, leads := geometry.Torso(heart)
	r, err := forward.TransferMatrix(heart, torso, leads)
	if err != nil {
		return nil, fmt.Errorf("default dataset: %w", err)
	}
	cfg := ap.DefaultConfig()
	cfg.Heart = heart
	sol, err := ap.Simulate(mesh.LaplaceBeltrami(heart), cfg)
	if err != nil {
		return nil, fmt.Errorf("default dataset: %w", err)
	}
	y := mat.NewDense(len(leads), len(sol.Time), nil)
	y.Mul(r, sol.U)
	return &inverse.Problem{Heart: heart, Torso: torso, Leads: leads, R: r, BSPM: y,
		Time: sol.Time, TruthU: sol.U, TruthV: sol.V,
		Attrs: map[string]string{"units": "normalized", "generator": "synth.Default"}}, nil
}
