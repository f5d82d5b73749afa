// Package inverse defines what every inverse-ECG method shares: the Problem it
// solves (paper §II: y = R u + ε), the Method interface, and the Result it
// returns. Methods (Tikhonov, STRE, the PINN variants) live in their own
// packages; cmd/eandarn-batch chooses one by name.
package inverse

import (
	"context"
	"errors"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/mesh"
)

// Problem is one recording to invert: the body-surface potentials Y (m x T)
// measured at m torso leads, the transfer matrix R (m x n) from the n heart
// nodes to the leads, the geometry, the time axis and, for synthetic data, the
// true heart-surface potentials.
type Problem struct {
	Heart *mesh.Mesh // n nodes, closed surface, mm
	// Region optionally labels the heart nodes: node s lies in region
	// Region[s], named RegionNames[Region[s]] (e.g. epicardium, LV and RV
	// endocardium); nil when the recording has no labels.
	Region      []int
	RegionNames []string
	// Torso is the torso surface (mm), whose nodes include the leads, and
	// Leads the m indices into Torso.Nodes: row i of R and BSPM is lead
	// Leads[i]. Both are nil for a recording whose R came without torso
	// geometry; the rows of R are then the leads, in order.
	Torso *mesh.Mesh
	Leads []int

	R    *mat.Dense // m x n transfer matrix
	BSPM *mat.Dense // m x T body-surface potentials (normalized units)
	Time []float64  // T frame times in AP time units (1 unit ≈ 12.9 ms), increasing, uniform

	TruthU *mat.Dense // n x T true heart-surface potential u; nil when unknown
	TruthV *mat.Dense // n x T true recovery variable v; nil when unknown

	Attrs map[string]string // units and provenance attributes of the run file

	// Exact reports that BSPM is R times a heart-surface potential with
	// nothing added: a simulation or an import with -bspm forward, solved
	// without noise (runfile.ExactBSPM). The λ rules rely on it: with no
	// data error, GCV's minimum at the smallest λ of its grid is right.
	Exact bool
}

// Kinds of heart-surface potential (the run file's "potential" attribute).
const (
	// Extracellular potentials are what a potential-based transfer matrix
	// maps to the body surface: unipolar electrograms, whose activation is
	// a sharp downstroke; measured heart-surface potentials (mV, uV) are
	// this unless the file says otherwise.
	Extracellular = "extracellular"
	// Transmembrane potentials are action-potential-like (rest, upstroke,
	// plateau): the normalized Aliev–Panfilov u of synthetic data, or
	// transmembrane potentials in mV with a transfer matrix made for them.
	Transmembrane = "transmembrane"
)

// Potential returns the kind of heart-surface potential of the recording:
// the "potential" attribute when set, else Transmembrane for "normalized"
// units and Extracellular for measured ones.
func (p *Problem) Potential() string {
	if k := p.Attrs["potential"]; k != "" {
		return k
	}
	if p.Attrs["units"] == "normalized" {
		return Transmembrane
	}
	return Extracellular
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
	// UStd is the n x T per-node, per-frame standard deviation of u over an
	// ensemble's members (U is then their mean); nil for a single run.
	UStd *mat.Dense

	// Values holds chosen parameters and scalar diagnostics by name
	// (e.g. "lambda", "lambda_s", "lambda_t", "window", "ratio0").
	Values map[string]float64
	// Series holds curves by name (e.g. "lambda_grid", "gcv", "lcurve_residual",
	// "lcurve_seminorm", "loss_data", "loss_ep"), each written as a 1-D dataset.
	Series map[string][]float64
	// Config is the method's full configuration, written as JSON.
	Config map[string]any
}

// ErrInput is matched (errors.Is) by the errors a Method returns when the
// problem or the method's settings are at fault rather than the method: a
// setting the data cannot support (a temporal window longer than the
// recording), data the method cannot use (a transfer matrix that maps
// constants to zero), a checkpoint that does not belong to the run.
// Commands report them as bad input (exit status 2) instead of an internal
// failure.
var ErrInput = errors.New("bad input")

// InputError marks err as the input's fault: errors.Is(InputError(err),
// ErrInput) holds and the message is err's. A nil err stays nil.
func InputError(err error) error {
	if err == nil {
		return nil
	}
	return inputError{err}
}

type inputError struct{ err error }

func (e inputError) Error() string   { return e.err.Error() }
func (e inputError) Unwrap() []error { return []error{e.err, ErrInput} }

// noiseStream is the second PCG word of AddNoise ("noise" in ASCII), so
// that the noise and a method seeded with the same seed draw from
// different streams.
const noiseStream = 0x6e6f697365

// AddNoise returns y + σ·Z with Z_ij independent standard normal draws,
// taken row by row (lead by lead, frames in order) from a PCG generator
// seeded with (seed, "noise"), so a (σ, seed) pair always gives the same
// noisy BSPM. It is the one noise generator: eandarn-batch -noise σ -seed s
// solves exactly the data that the accuracy tests and benchmarks score at
// (σ, s). σ = 0 returns y itself.
func AddNoise(y *mat.Dense, sigma float64, seed uint64) *mat.Dense {
	if sigma == 0 {
		return y
	}
	rng := rand.New(rand.NewPCG(seed, noiseStream))
	r, c := y.Dims()
	out := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.Set(i, j, y.At(i, j)+sigma*rng.NormFloat64())
		}
	}
	return out
}
