// Package inverse defines what every inverse-ECG method shares: the Problem it
// solves (paper §II: y = R u + ε), the Method interface, and the Result it
// returns. Methods (Tikhonov, STRE, the PINN variants) live in their own
// packages; cmd/eandarn-batch chooses one by name.
package inverse

import (
	"context"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Problem is one recording to invert: the body-surface potentials Y (m x T)
// measured at m torso leads, the transfer matrix R (m x n) from the n heart
// nodes to the leads, the geometry, the time axis and, for synthetic data, the
// true heart-surface potentials.
type Problem struct {
	Heart *mesh.Mesh // n nodes, closed surface, mm
	Torso *mesh.Mesh // torso surface, mm; its nodes include the leads
	Leads []int      // m indices into Torso.Nodes: row i of R and BSPM is lead Leads[i]

	R    *mat.Dense // m x n transfer matrix
	BSPM *mat.Dense // m x T body-surface potentials (normalized units)
	Time []float64  // T frame times in AP time units (1 unit ≈ 12.9 ms), increasing, uniform

	TruthU *mat.Dense // n x T true heart-surface potential u; nil when unknown
	TruthV *mat.Dense // n x T true recovery variable v; nil when unknown

	Attrs map[string]string // units and provenance attributes of the run file
}

// Method reconstructs the heart-surface potentials of a Problem. A Method is
// constructed with its configuration; Solve must not read p.TruthU or
// p.TruthV except to record monitoring metrics that never steer the solve.
type Method interface {
	Solve(ctx context.Context, p *Problem) (*Result, error)
}

// Result is what a Method returns. The caller adds metrics against truth,
// timings, version and seed when it writes the result file.
type Result struct {
	U *mat.Dense // n x T reconstructed heart-surface potential
	V *mat.Dense // n x T reconstructed recovery variable; nil when the method has none

	// Values holds chosen parameters and scalar diagnostics by name
	// (e.g. "lambda", "lambda_s", "lambda_t", "window", "ratio0").
	Values map[string]float64
	// Series holds curves by name (e.g. "lambda_grid", "gcv", "lcurve_residual",
	// "lcurve_seminorm", "loss_data", "loss_ep"), each written as a 1-D dataset.
	Series map[string][]float64
	// Config is the method's full configuration, written as JSON.
	Config map[string]any
}
