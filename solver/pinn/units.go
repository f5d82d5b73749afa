package pinn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
)

// Link is the affine map between the Aliev–Panfilov model's normalized
// potential u (rest 0, plateau ≈ 1) and a recording's transmembrane-like
// heart-surface potential φ in its own units (mV, µV):
//
//	φ = Offset + Scale·u,
//
// so a PINN method trains on the body-surface data mapped into model units,
//
//	y_model = (y − Offset·R1) / Scale,   R1 = R·1 (row sums; 1 for a potential-based R),
//
// since R φ = Offset·R1 + Scale·R u, and its reconstruction is mapped back,
// φ̂ = Offset + Scale·û.
type Link struct {
	Scale, Offset float64
}

// linkBins is the number of histogram bins EstimateLink spreads the
// baseline's values over (between its 0.1% and 99.9% quantiles), and
// linkSmooth the width of the Gaussian it smooths the histogram with, in
// bins.
const (
	linkBins   = 200
	linkSmooth = 3.0
)

// EstimateLink returns the link of a transmembrane-like recording in
// measured units from a linear baseline reconstruction Ub (n x T, in the
// recording's units, e.g. Tikhonov-2 by the default λ rule). An action
// potential dwells at two levels, rest and plateau, so the values of a
// recording that holds whole action potentials pile up at two modes; the
// baseline's two main modes are taken as u = 0 and u = 1,
//
//	Offset = lower mode,  Scale = upper mode − lower mode,
//
// the two highest local maxima of its value histogram (linkBins bins
// between the 0.1% and 99.9% quantiles, smoothed by a Gaussian of
// linkSmooth bins). Modes, not
// quantiles, because a linear reconstruction overshoots: on the default
// dataset in mV (φ = −85 + 90u, σ 0.01) Tikhonov-2's 2% and 98% quantiles
// are −95 and 13 mV, its modes −86 and 4 mV. An error for a baseline
// with fewer than two modes.
func EstimateLink(Ub mat.Matrix) (Link, error) {
	n, T := Ub.Dims()
	v := make([]float64, 0, n*T)
	for i := 0; i < n; i++ {
		for k := 0; k < T; k++ {
			v = append(v, Ub.At(i, k))
		}
	}
	slices.Sort(v)
	q := func(f float64) float64 { return v[int(f*float64(len(v)-1)+0.5)] }
	lo, hi := q(0.001), q(0.999)
	if !(hi > lo) {
		return Link{}, fmt.Errorf("pinn: units link: the baseline reconstruction has no spread (%g to %g): nothing to scale", lo, hi)
	}
	width := (hi - lo) / linkBins
	bin := func(x float64) int { return min(linkBins-1, max(0, int((x-lo)/width))) }
	h := make([]float64, linkBins)
	for _, x := range v {
		if x >= lo && x <= hi {
			h[bin(x)]++
		}
	}
	sm := make([]float64, linkBins)
	r := int(3 * linkSmooth)
	for i := range sm {
		for j := max(0, i-r); j <= min(linkBins-1, i+r); j++ {
			d := float64(i-j) / linkSmooth
			sm[i] += h[j] * math.Exp(-d*d/2)
		}
	}
	// The two highest local maxima of the smoothed histogram.
	var peaks []int
	for i := range sm {
		if (i == 0 || sm[i] > sm[i-1]) && (i == linkBins-1 || sm[i] >= sm[i+1]) {
			peaks = append(peaks, i)
		}
	}
	if len(peaks) < 2 {
		return Link{}, fmt.Errorf("pinn: units link: the baseline reconstruction's values have one mode: no two levels (rest and plateau) to scale by")
	}
	slices.SortFunc(peaks, func(a, b int) int { return cmp.Compare(sm[b], sm[a]) })
	low, high := min(peaks[0], peaks[1]), max(peaks[0], peaks[1])
	center := func(b int) float64 { return lo + (float64(b)+0.5)*width }
	return Link{Scale: center(high) - center(low), Offset: center(low)}, nil
}

// ErrUnits is wrapped by Units.Solve's refusal of a recording the
// Aliev–Panfilov prior does not describe, with inverse.ErrInput: the
// caller's input, not a failure.
var ErrUnits = errors.New("units rule")

// Units is the units rule of the PINN methods, whose Aliev–Panfilov prior
// (Eq. 6–7) holds for the normalized action potential u (rest 0, plateau
// ≈ 1) only:
//
//   - normalized units (synthetic data): Method itself;
//   - transmembrane potentials in mV or uV (inverse.Problem.Potential: the
//     run file's "potential" attribute): Baseline (a linear method, which
//     has no units of its own) is solved to EstimateLink, Method trains on
//     the data mapped into model units, and the reconstruction is mapped
//     back into the file's units (V stays in model units). A warning in the
//     log says that the prior assumes action-potential-like signals; the
//     link is recorded in Result.Values (units_scale, units_offset, and the
//     baseline's values prefixed units_baseline_, its λ among them); the
//     truth, when present, is mapped too, for the monitoring RE only;
//   - extracellular potentials (the default for mV and uV: what a
//     potential-based transfer matrix maps, e.g. unipolar electrograms):
//     refused with an error wrapping ErrUnits. An electrogram's activation
//     is a brief deflection, an action potential's a lasting plateau, so no
//     affine map makes one the other: on the Utah sock's measured
//     epicardial potentials (191-lead tank, σ 0.01) every affine link tried
//     (either sign; rest at the median or at a quantile) gave EAND-ARN RE
//     0.96–1.9 and CC ≤ 0.31 against Tikhonov-2's 0.50 and 0.86.
type Units struct {
	Method   inverse.Method
	Baseline inverse.Method
	Logger   *slog.Logger
}

// Solve implements inverse.Method.
func (u *Units) Solve(ctx context.Context, p *inverse.Problem) (*inverse.Result, error) {
	units := p.Attrs["units"]
	switch {
	case p.Potential() == inverse.Extracellular:
		return nil, inverse.InputError(fmt.Errorf("pinn: %w: the heart-surface potentials in %s are extracellular (electrograms), which the Aliev–Panfilov prior (normalized action potentials) does not describe; "+
			"use tikhonov0/1/2 or stre for them, or, if they are transmembrane (action-potential-like) potentials, mark the run file potential=transmembrane (eandarn-synth -potential transmembrane)",
			ErrUnits, units))
	case units == "normalized":
		return u.Method.Solve(ctx, p)
	}
	log := u.Logger
	if log == nil {
		log = slog.Default()
	}
	base, err := u.Baseline.Solve(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("pinn: units link: baseline: %w", err)
	}
	l, err := EstimateLink(base.U)
	if err != nil {
		return nil, err
	}
	log.Warn("data in "+units+": the Aliev–Panfilov prior assumes action-potential-like signals; training on them mapped to model units by φ = offset + scale·u, estimated from a linear baseline reconstruction (the two main modes of its values are rest and plateau)",
		"units", units, "scale", l.Scale, "offset", l.Offset)
	res, err := u.Method.Solve(ctx, l.toModel(p))
	if err != nil {
		return nil, err
	}
	res.U = l.toFile(res.U)
	if res.Values == nil {
		res.Values = map[string]float64{}
	}
	res.Values["units_scale"], res.Values["units_offset"] = l.Scale, l.Offset
	for k, v := range base.Values {
		res.Values["units_baseline_"+k] = v
	}
	return res, nil
}

// toModel returns a shallow copy of p with the BSPM (and truth) mapped into
// model units.
func (l Link) toModel(p *inverse.Problem) *inverse.Problem {
	q := *p
	m, n := p.R.Dims()
	r1 := mat.NewVecDense(m, nil)
	r1.MulVec(p.R, mat.NewVecDense(n, slices.Repeat([]float64{1}, n)))
	_, T := p.BSPM.Dims()
	y := mat.NewDense(m, T, nil)
	y.Apply(func(i, k int, v float64) float64 { return (v - l.Offset*r1.AtVec(i)) / l.Scale }, p.BSPM)
	q.BSPM = y
	if p.TruthU != nil {
		q.TruthU = mat.DenseCopyOf(p.TruthU)
		q.TruthU.Apply(func(_, _ int, v float64) float64 { return (v - l.Offset) / l.Scale }, q.TruthU)
	}
	return &q
}

// toFile maps a reconstruction in model units into the file's units.
func (l Link) toFile(u *mat.Dense) *mat.Dense {
	out := mat.DenseCopyOf(u)
	out.Apply(func(_, _ int, v float64) float64 { return l.Offset + l.Scale*v }, out)
	return out
}
