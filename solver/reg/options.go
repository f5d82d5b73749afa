// Package reg holds the classical regularization baselines of the paper's
// comparison (§IV): Tikhonov regularization of order 0, 1 and 2 (Eq. 10 of
// the paper, Tikh_2nd being order 2) and spatiotemporal regularization STRE
// (Yao & Yang 2016, in the formulation of DESIGN §2). Both implement
// inverse.Method and choose their parameters from the data alone (GCV by
// default), never from the truth.
package reg

import (
	"fmt"
	"log/slog"
	"slices"
)

// Selection rules for the Tikhonov λ.
const (
	// SelectGuarded (the default) is GCV checked against the L-curve: GCV's
	// λ unless its reconstruction is more than GuardNormRatio times larger
	// (Frobenius norm) than that of the L-curve corner, which is then used;
	// also when GCV's minimum is the grid's smallest λ and its
	// reconstruction is larger than the corner's at all.
	// GCV is the better rule for white noise; the check catches its failure
	// on measured data, where correlated noise and modelling error look like
	// signal to GCV and it fits them with a reconstruction orders of
	// magnitude too large.
	SelectGuarded     = "guarded"
	SelectGCV         = "gcv"         // minimize generalized cross-validation
	SelectRGCV        = "rgcv"        // minimize robust GCV (Lukas 2006), γ = 0.1
	SelectLCurve      = "lcurve"      // an L-curve corner, see Options.Select
	SelectDiscrepancy = "discrepancy" // ‖Y − RU‖_F² = m T σ² with the known σ
)

// Selectors lists the λ rules, the default first.
var Selectors = []string{SelectGuarded, SelectGCV, SelectRGCV, SelectLCurve, SelectDiscrepancy}

// Options configures Tikhonov and STRE. Zero values mean defaults.
type Options struct {
	// Lambda fixes the Tikhonov λ (> 0); 0 chooses it by Select.
	Lambda float64
	// Select is the λ rule, one of Selectors (default "guarded").
	// "lcurve" takes, among all corners (local maxima of the log-log
	// curvature, all reported), the one with the smallest λ whose
	// curvature is at least CornerFraction of the largest: the sharpest
	// corner is often the over-smoothing one (DESIGN §2).
	Select string
	// CornerFraction is the curvature fraction of the "lcurve" rule
	// (default 0.5; 1 gives the classical maximum-curvature corner).
	CornerFraction float64
	// ExactData says that the data are R times a heart potential with no
	// noise or model error (inverse.Problem.Exact): the guarded rule then
	// keeps GCV's λ, at the grid's end too (there is no data error for it
	// to fit), and the disagreement of the rules, expected then, does not
	// warn. STRE keeps the guarded λ as its grids' scale even then (see
	// SolveSTRE).
	ExactData bool
	// Sigma is the noise standard deviation of the BSPM, known to the user
	// (not estimated): the discrepancy principle needs it; 0 = unknown.
	Sigma float64
	// GridSize is the number of λ values of the sweep (default 200).
	GridSize int

	// LambdaS, LambdaT fix the STRE spatial and temporal weights (> 0);
	// 0 chooses them by GCV.
	LambdaS, LambdaT float64
	// Window fixes the STRE temporal half-window w ≥ 1; 0 chooses it by
	// GCV among Windows.
	Window int
	// Windows is the STRE window grid (default 1, 2, 3, 5, 8).
	Windows []int
	// LambdaSGridSize and LambdaTGridSize are the STRE grid sizes
	// (default 7 and 10); the best λt is then refined by golden section.
	LambdaSGridSize, LambdaTGridSize int

	// Logger receives the warnings of the λ rules (GCV rejected, rules in
	// disagreement); nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// withDefaults returns o with zero fields replaced by defaults, or an error
// for values out of range.
func (o Options) withDefaults() (Options, error) {
	if o.Select == "" {
		o.Select = SelectGuarded
	}
	if !slices.Contains(Selectors, o.Select) {
		return o, fmt.Errorf("reg: unknown λ selection %q (want one of %v)", o.Select, Selectors)
	}
	if o.CornerFraction == 0 {
		o.CornerFraction = 0.5
	}
	if o.GridSize == 0 {
		o.GridSize = 200
	}
	if len(o.Windows) == 0 {
		o.Windows = []int{1, 2, 3, 5, 8}
	}
	if o.LambdaSGridSize == 0 {
		o.LambdaSGridSize = 7
	}
	if o.LambdaTGridSize == 0 {
		o.LambdaTGridSize = 10
	}
	switch {
	case o.Lambda < 0, o.LambdaS < 0, o.LambdaT < 0:
		return o, fmt.Errorf("reg: negative regularization weight (λ %g, λs %g, λt %g)", o.Lambda, o.LambdaS, o.LambdaT)
	case o.Sigma < 0:
		return o, fmt.Errorf("reg: negative noise std %g", o.Sigma)
	case o.Select == SelectDiscrepancy && o.Lambda == 0 && o.Sigma == 0:
		return o, fmt.Errorf("reg: the discrepancy principle needs the noise std Sigma > 0")
	case o.CornerFraction <= 0 || o.CornerFraction > 1:
		return o, fmt.Errorf("reg: corner fraction %g outside (0, 1]", o.CornerFraction)
	case o.GridSize < 3, o.LambdaSGridSize < 1, o.LambdaTGridSize < 3:
		return o, fmt.Errorf("reg: grids too small (λ %d, λs %d, λt %d; want ≥ 3, 1, 3)", o.GridSize, o.LambdaSGridSize, o.LambdaTGridSize)
	case o.Window < 0:
		return o, fmt.Errorf("reg: negative STRE window %d", o.Window)
	}
	for _, w := range o.Windows {
		if w < 1 {
			return o, fmt.Errorf("reg: STRE window %d < 1", w)
		}
	}
	return o, nil
}
