// Package synth builds synthetic recordings the way the paper made its data
// (DESIGN §3): geometry → BEM transfer matrix → Aliev–Panfilov simulation on
// the heart surface → body-surface potentials Y = R U. Simulate runs the
// heart-surface part on any heart mesh, optionally on a refined copy, and
// reports how far the wave got; cmd/eandarn-synth writes such recordings to
// run files, and Default builds the default one in memory for the tests and
// benchmarks.
package synth

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/sparse"
)

// Laplacians names the simulation operators Options.Laplacian accepts.
var Laplacians = []string{"cotangent", "eq15"}

// Options selects how the heart surface is simulated.
type Options struct {
	// Laplacian is the simulation's surface operator: "cotangent" (default:
	// mesh.LaplaceBeltrami, consistent, so the data do not share the inverse
	// methods' discretization) or "eq15" (mesh.Laplacian, the paper's Eq. 15).
	Laplacian string
	// Refine, when > 0, simulates on a midpoint-subdivided copy of the heart
	// whose mean edge is at most Refine mm (mesh.RefineTo) and samples the
	// result back at the heart's own nodes, which the subdivision keeps as
	// its first nodes. A coarse mesh under-resolves the front, slows it and
	// may block it altogether: on the 257-node ECGSim ventricles (mean edge
	// 16.5 mm) paced with its one-ring, the wave reaches 222 of 257 nodes
	// unrefined and all 257 at 8.3 mm (one level).
	Refine float64
}

// Simulation is an AP simulation sampled at the heart's nodes.
type Simulation struct {
	// Solution has one row of U and V per heart node (sampled back from the
	// refined mesh when Options.Refine is set); Site and Stimulated index
	// the simulation mesh, whose first len(heart.Nodes) nodes are the
	// heart's.
	*ap.Solution
	Mesh   *mesh.Mesh // the simulation mesh: the heart, or its refined copy
	Levels int        // subdivision levels (0: the heart itself)
	// Activation is the wave's reach over the heart's nodes.
	Activation Activation
}

// Activation summarizes how far a simulated wave got: per node the time u
// first crosses 0.5 upward (ap.ActivationTimes; NaN for a node that never
// activates), how many nodes activated, and the span of the times.
type Activation struct {
	Times       []float64
	Activated   int
	First, Last float64 // earliest and latest activation time (NaN when none)
}

// Fraction is the fraction of nodes that activate.
func (a Activation) Fraction() float64 {
	if len(a.Times) == 0 {
		return 0
	}
	return float64(a.Activated) / float64(len(a.Times))
}

// ActivationOf summarizes the activation of u crossing 0.5 upward in sol.
func ActivationOf(sol *ap.Solution) Activation {
	a := Activation{Times: ap.ActivationTimes(sol, 0.5), First: math.NaN(), Last: math.NaN()}
	for _, t := range a.Times {
		if math.IsNaN(t) {
			continue
		}
		if a.Activated == 0 || t < a.First {
			a.First = t
		}
		if a.Activated == 0 || t > a.Last {
			a.Last = t
		}
		a.Activated++
	}
	return a
}

// setup returns the simulation mesh (heart, or its refinement to
// opt.Refine), its subdivision levels and its Laplacian.
func setup(heart *mesh.Mesh, opt Options) (*mesh.Mesh, int, *sparse.CSR, error) {
	sim, levels := heart, 0
	if opt.Refine > 0 {
		var err error
		if sim, levels, err = heart.RefineTo(opt.Refine); err != nil {
			return nil, 0, nil, fmt.Errorf("synth: %w", err)
		}
	}
	switch opt.Laplacian {
	case "", "cotangent":
		return sim, levels, mesh.LaplaceBeltrami(sim), nil
	case "eq15":
		return sim, levels, mesh.Laplacian(sim), nil
	}
	return nil, 0, nil, fmt.Errorf("synth: unknown Laplacian %q (want cotangent or eq15)", opt.Laplacian)
}

// Simulate runs ap.Simulate with cfg on heart (cfg.Heart is ignored and
// replaced by the simulation mesh) and returns u, v at the heart's
// nodes with the activation summary. A pacing site given as a node index
// refers to the heart's nodes, which keep their indices in the refined
// mesh. An unstable cfg.Dt fails wrapping ap.ErrUnstableStep.
func Simulate(heart *mesh.Mesh, cfg ap.Config, opt Options) (*Simulation, error) {
	sim, levels, lap, err := setup(heart, opt)
	if err != nil {
		return nil, err
	}
	cfg.Heart = sim
	sol, err := ap.Simulate(lap, cfg)
	if err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if n := len(heart.Nodes); levels > 0 {
		_, T := sol.U.Dims()
		sol.U = mat.DenseCopyOf(sol.U.Slice(0, n, 0, T))
		sol.V = mat.DenseCopyOf(sol.V.Slice(0, n, 0, T))
	}
	return &Simulation{Solution: sol, Mesh: sim, Levels: levels, Activation: ActivationOf(sol)}, nil
}

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
	sim, err := Simulate(heart, ap.DefaultConfig(), Options{})
	if err != nil {
		return nil, fmt.Errorf("default dataset: %w", err)
	}
	y := mat.NewDense(len(leads), len(sim.Time), nil)
	y.Mul(r, sim.U)
	return &inverse.Problem{Heart: heart, Torso: torso, Leads: leads, R: r, BSPM: y,
		Time: sim.Time, TruthU: sim.U, TruthV: sim.V,
		Attrs: map[string]string{"units": "normalized", "generator": "synth.Default"}}, nil
}
