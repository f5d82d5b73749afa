package reg

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Guard and warning thresholds of the λ rules (README "Which λ rule", with
// the measurements behind them).
const (
	// GuardNormRatio: the "guarded" rule rejects GCV's λ when its
	// reconstruction is more than this many times larger (Frobenius norm)
	// than the L-curve corner's. Measured ‖U_gcv‖/‖U_corner‖: 1.03–1.47 on
	// every white-noise case; 2.55 to 470 where GCV fitted modelling error
	// or correlated noise.
	GuardNormRatio = 2
	// DisagreementFactor: the ratio of the largest to the smallest λ of the
	// rules (gcv, rgcv, lcurve, discrepancy) above which the result warns.
	// Measured: at most 8.3 on white noise with a well-placed corner (29
	// once, an over-smoothing corner); at least 22 where GCV failed.
	DisagreementFactor = 10
)

// choice is the outcome of every λ rule on one Tikhonov problem.
type choice struct {
	lambda float64    // the λ of the selected rule (or the fixed one)
	u      *mat.Dense // U at lambda
	values map[string]float64
	series map[string][]float64
}

// choose evaluates every λ rule on the spectrum s of the problem factorized
// by f (c = Vᵀ Q₂ᵀ Y), picks the one o.Select names (or o.Lambda when
// fixed), computes U there, and logs a warning when GCV is rejected or the
// rules disagree by more than DisagreementFactor.
//
// Values: lambda, lambda_gcv, lambda_rgcv, lambda_lcurve (a corner exists),
// lambda_discrepancy (Sigma > 0 and attainable), lambda_disagreement,
// gcv_norm_ratio (‖U_gcv‖/‖U_corner‖, when the corner's λ is larger),
// gcv_at_grid_end (1 when GCV's grid minimum is the grid's smallest λ),
// gcv_rejected (1 when "guarded" replaced GCV's λ by the corner's),
// noise_estimate, corners, residual_norm, seminorm, gcv. Series:
// lambda_grid, gcv, rgcv, lcurve_residual, lcurve_seminorm,
// lcurve_curvature, lcurve_corners, lcurve_corner_curvature.
func choose(f *stdForm, s *spectrum, c, y *mat.Dense, o Options) (*choice, error) {
	grid := s.grid(o.GridSize)
	lgcv, gcvCurve := pickMin(s.gcv, grid)
	lrgcv, rgcvCurve := pickMin(s.rgcv, grid)
	cs, kappa := s.corners(grid)
	resN := make([]float64, len(grid))
	semiN := make([]float64, len(grid))
	for i, l := range grid {
		r2, s2, _, _ := s.curves(l)
		resN[i], semiN[i] = math.Sqrt(r2), math.Sqrt(s2)
	}
	values := map[string]float64{
		"lambda_gcv":     lgcv,
		"lambda_rgcv":    lrgcv,
		"corners":        float64(len(cs)),
		"noise_estimate": NoiseEstimate(y),
		"exact_data":     0,
	}
	if o.ExactData {
		values["exact_data"] = 1
	}
	rules := []float64{lgcv, lrgcv}
	var lcurve float64
	if len(cs) > 0 {
		lcurve = pickCorner(cs, o.CornerFraction)
		values["lambda_lcurve"] = lcurve
		rules = append(rules, lcurve)
	}
	var disc float64
	if o.Sigma > 0 {
		var err error
		if disc, err = s.pickDiscrepancy(o.Sigma); err != nil {
			if o.Select == SelectDiscrepancy && o.Lambda == 0 {
				return nil, err
			}
			disc = 0
		} else {
			values["lambda_discrepancy"] = disc
			rules = append(rules, disc)
		}
	}
	values["lambda_disagreement"] = slices.Max(rules) / slices.Min(rules)

	// The guard: GCV's reconstruction against the corner's.
	sols := map[float64]*mat.Dense{}
	solve := func(l float64) *mat.Dense {
		if u, ok := sols[l]; ok {
			return u
		}
		sols[l] = f.solution(l, c, y)
		return sols[l]
	}
	// GCV's minimum at the grid's smallest λ: no regularization on the
	// grid predicts better than (almost) none. On exact data that is right
	// (and the reconstruction is no larger than the corner's); on an
	// extremely ill-conditioned R with error in the data it fits the error
	// through singular values down to 1e-12 σ_max, and the reconstruction
	// grows past the corner's by less than GuardNormRatio when those
	// directions are few. At the grid's end GCV's λ is no minimum, so any
	// growth beyond the corner's size rejects it.
	atEnd := gcvCurve[len(grid)-1] <= slices.Min(gcvCurve)
	values["gcv_at_grid_end"] = indicator(atEnd)
	guarded := lgcv
	if lcurve > lgcv {
		ratio := mat.Norm(solve(lgcv), 2) / mat.Norm(solve(lcurve), 2)
		values["gcv_norm_ratio"] = ratio
		rejected := !o.ExactData && (ratio > GuardNormRatio || atEnd && ratio > 1)
		values["gcv_rejected"] = indicator(rejected)
		if rejected {
			guarded = lcurve
		}
	}

	lambda := o.Lambda
	if lambda == 0 {
		switch o.Select {
		case SelectGuarded:
			lambda = guarded
		case SelectGCV:
			lambda = lgcv
		case SelectRGCV:
			lambda = lrgcv
		case SelectLCurve:
			if len(cs) == 0 {
				return nil, fmt.Errorf("reg: the L-curve has no corner on the λ grid [%.3g, %.3g]", grid[len(grid)-1], grid[0])
			}
			lambda = lcurve
		case SelectDiscrepancy:
			lambda = disc
		}
	}
	r2, s2, _, _ := s.curves(lambda)
	values["lambda"] = lambda
	values["residual_norm"] = math.Sqrt(r2)
	values["seminorm"] = math.Sqrt(s2)
	values["gcv"] = s.gcv(lambda)

	cl := make([]float64, len(cs))
	ck := make([]float64, len(cs))
	for i, cr := range cs {
		cl[i], ck[i] = cr.lambda, cr.curvature
	}
	ch := &choice{
		lambda: lambda,
		u:      solve(lambda),
		values: values,
		series: map[string][]float64{
			"lambda_grid":             grid,
			"gcv":                     gcvCurve,
			"rgcv":                    rgcvCurve,
			"lcurve_residual":         resN,
			"lcurve_seminorm":         semiN,
			"lcurve_curvature":        kappa,
			"lcurve_corners":          cl,
			"lcurve_corner_curvature": ck,
		},
	}
	ch.warn(o.logger(), o)
	return ch, nil
}

// warn logs what a user of measured data must know about the choice made
// with options o: the guard's rejection when the guarded rule chose, GCV
// barely regularizing, the rules' disagreement (not on exact data, where
// GCV rightly sits at the grid's end).
func (ch *choice) warn(log *slog.Logger, o Options) {
	v := ch.values
	keptAtEnd := v["gcv_at_grid_end"] == 1 && v["lambda"] == v["lambda_gcv"]
	if o.ExactData {
		if keptAtEnd {
			log.Info("exact data (R times a heart potential, no noise added): GCV's minimum at the smallest λ of the grid kept",
				"lambda", v["lambda"])
		}
		return
	}
	if o.Select == SelectGuarded && o.Lambda == 0 && v["gcv_rejected"] == 1 {
		if v["gcv_at_grid_end"] == 1 {
			log.Warn("GCV's λ rejected: GCV has its minimum at the smallest λ of the grid (1e-12 of the largest singular value), so it fits the data's error with almost no regularization; using the L-curve corner's λ",
				"lambda_gcv", v["lambda_gcv"], "lambda_lcurve", v["lambda_lcurve"], "norm_ratio", v["gcv_norm_ratio"])
		} else {
			log.Warn("GCV's λ rejected: its reconstruction is much larger than the L-curve corner's, so GCV fitted correlated noise or modelling error; using the corner's λ",
				"lambda_gcv", v["lambda_gcv"], "lambda_lcurve", v["lambda_lcurve"], "norm_ratio", v["gcv_norm_ratio"], "limit", GuardNormRatio)
		}
	}
	if keptAtEnd {
		log.Warn("GCV has its minimum at the smallest λ of the grid and its λ was kept: the reconstruction is barely regularized; check series/gcv and series/lcurve_*, or fix -lambda",
			"lambda", v["lambda"])
	}
	if d := v["lambda_disagreement"]; d > DisagreementFactor {
		args := []any{"disagreement", d, "limit", DisagreementFactor, "lambda", v["lambda"]}
		keys := make([]string, 0, 4)
		for k := range v {
			if k != "lambda" && k != "lambda_disagreement" && len(k) > 7 && k[:7] == "lambda_" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, k, v[k])
		}
		log.Warn("λ rules disagree: the data may carry correlated noise or modelling error (check series/lcurve_* and series/gcv)", args...)
	}
}

// NoiseEstimate estimates the std of white noise in Y (m x T, frames in
// order) from second differences in time: for a signal smooth at the frame
// spacing, y_{t+1} − 2y_t + y_{t−1} is the noise's second difference, of std
// σ√6, and the median absolute value over all leads and frames divided by
// 0.6745·√6 estimates σ robustly (Donoho's MAD estimate on the finest
// scale). It sees only noise that is white in time: correlated noise and
// modelling error do not show, and a signal that changes sharply from one
// frame to the next (a coarse sampling) inflates it. 0 for T < 3.
func NoiseEstimate(y *mat.Dense) float64 {
	m, tf := y.Dims()
	if tf < 3 {
		return 0
	}
	d := make([]float64, 0, m*(tf-2))
	for i := 0; i < m; i++ {
		row := y.RawRowView(i)
		for t := 1; t+1 < tf; t++ {
			d = append(d, math.Abs(row[t+1]-2*row[t]+row[t-1]))
		}
	}
	sort.Float64s(d)
	med := d[len(d)/2]
	if len(d)%2 == 0 {
		med = (d[len(d)/2-1] + d[len(d)/2]) / 2
	}
	return med / (0.6745 * math.Sqrt(6))
}
