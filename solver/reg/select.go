package reg

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/solver/inverse"
)

// spectrum is what the λ-selection rules of one Tikhonov problem need: the
// generalized singular values σ_i, the squared data coefficients
// β_i² = Σ_t (Vᵀ Q₂ᵀ Y)_it² summed over the T frames (one λ for the whole
// recording), the unfittable residual δ², the number of leads m, the null
// space dimension k of Γ (fitted exactly) and the frame count T.
type spectrum struct {
	sigma, beta2 []float64
	delta2       float64
	m, k, t      int
}

// underflows reports whether σ², the square of a generalized singular
// value, is zero or subnormal: such a direction counts as outside the
// range of R. Its filter factor φ = σ²/(σ²+λ²) is zero (or loses all
// precision) at every λ of the grid (≥ 1e-12 σ_max), while β²/σ² is +Inf
// or imprecise, so φ²·β²/σ² would be 0·Inf = NaN: an R of rank 1 (singular
// values 3e3, 8e-13, …, 2e-189) made the L-curve, the seminorm and the
// L-curve rule NaN, written with exit status 0.
func underflows(s2 float64) bool { return s2 < 0x1p-1022 }

// curves evaluates, at one λ, with filter factors φ_i = σ_i²/(σ_i²+λ²):
//
//	res²  = ‖Y − R U_λ‖_F² = Σ (1−φ_i)² β_i² + δ²
//	semi² = ‖Γ U_λ‖_F²     = Σ φ_i² β_i²/σ_i²
//	dof   = m − tr H_λ     = m − k − Σ φ_i      (H_λ: the influence matrix of one frame)
//	dSemi = d(semi²)/dλ    = −(4/λ) Σ (1−φ_i) φ_i² β_i²/σ_i²
func (s *spectrum) curves(lambda float64) (res2, semi2, dof, dSemi float64) {
	l2 := lambda * lambda
	res2 = s.delta2
	dof = float64(s.m - s.k)
	for i, sg := range s.sigma {
		s2 := sg * sg
		if underflows(s2) {
			res2 += s.beta2[i]
			continue
		}
		phi := s2 / (s2 + l2)
		res2 += (1 - phi) * (1 - phi) * s.beta2[i]
		x2 := s.beta2[i] / s2
		semi2 += phi * phi * x2
		dSemi -= 4 / lambda * (1 - phi) * phi * phi * x2
		dof -= phi
	}
	return res2, semi2, dof, dSemi
}

// gcv is the generalized cross-validation function for one λ shared by all
// frames (Golub, Heath & Wahba 1979):
//
//	G(λ) = (‖Y − R U_λ‖_F² / (mT)) / (dof/m)²
func (s *spectrum) gcv(lambda float64) float64 {
	res2, _, dof, _ := s.curves(lambda)
	m := float64(s.m)
	return res2 / (m * float64(s.t)) / ((dof / m) * (dof / m))
}

// curvature is the signed curvature of the L-curve
// (x, y) = (log ‖Y − RU_λ‖_F, log ‖ΓU_λ‖_F) at λ, traversed with λ
// increasing, so that corners of the L are positive local maxima:
//
//	κ = (x'·y2 − x2·y') / (x'² + y'²)^{3/2}   (x2, y2: second derivatives)
//
// with the λ-derivatives in closed form (cf. Hansen, Discrete Inverse
// Problems, 2010, §5.3): for η = semi², ρ = res², φ' = −2φ(1−φ)/λ and
// φ2 = 2φ(1−φ)(3−4φ)/λ² (second derivative), η' = Σ 2φφ' ξ²,
// η2 = Σ 2(φ'² + φ·φ2) ξ² (ξ_i² = β_i²/σ_i²), ρ' = −λ²η',
// ρ2 = −2λη' − λ²·η2; x' = ρ'/(2ρ), x2 = (ρ2·ρ − ρ'²)/(2ρ²), and likewise
// y from η.
func (s *spectrum) curvature(lambda float64) float64 {
	rho, eta, _, d1 := s.curves(lambda)
	var d2 float64
	l2 := lambda * lambda
	for i, sg := range s.sigma {
		s2 := sg * sg
		if underflows(s2) {
			continue
		}
		phi := s2 / (s2 + l2)
		p1 := -2 * phi * (1 - phi) / lambda
		p2 := 2 * phi * (1 - phi) * (3 - 4*phi) / l2
		d2 += 2 * (p1*p1 + phi*p2) * s.beta2[i] / s2
	}
	if eta == 0 || rho == 0 {
		return 0
	}
	r1 := -l2 * d1
	r2 := -2*lambda*d1 - l2*d2
	x1, x2 := r1/(2*rho), (r2*rho-r1*r1)/(2*rho*rho)
	y1, y2 := d1/(2*eta), (d2*eta-d1*d1)/(2*eta*eta)
	den := math.Pow(x1*x1+y1*y1, 1.5)
	if den == 0 {
		return 0
	}
	return (x1*y2 - x2*y1) / den
}

// grid returns size λ values log-spaced from σ_max down to
// max(σ_min, 1e-12 σ_max), descending: the range where the filter factors
// move from 1 to 0 (below 1e-12 σ_max they are noise in float64).
func (s *spectrum) grid(size int) []float64 {
	hi := s.sigma[0]
	lo := hi * 1e-12
	for i := len(s.sigma) - 1; i >= 0; i-- {
		if s.sigma[i] > 0 {
			lo = math.Max(lo, s.sigma[i])
			break
		}
	}
	return logGrid(hi, lo, size)
}

// logGrid returns size values from a to b, equally spaced in log.
func logGrid(a, b float64, size int) []float64 {
	g := make([]float64, size)
	if size == 1 {
		g[0] = a
		return g
	}
	la, lb := math.Log(a), math.Log(b)
	for i := range g {
		g[i] = math.Exp(la + (lb-la)*float64(i)/float64(size-1))
	}
	return g
}

// goldenMin minimizes f over [a, b] in log λ by golden-section search until
// the bracket is narrower than tol (in log λ); f is assumed unimodal on the
// bracket (a grid neighbourhood of the grid optimum).
func goldenMin(f func(float64) float64, a, b, tol float64) float64 {
	la, lb := math.Log(math.Min(a, b)), math.Log(math.Max(a, b))
	g := (math.Sqrt(5) - 1) / 2
	c, d := lb-g*(lb-la), la+g*(lb-la)
	fc, fd := f(math.Exp(c)), f(math.Exp(d))
	for i := 0; i < 100 && lb-la > tol; i++ {
		if fc < fd {
			lb, d, fd = d, c, fc
			c = lb - g*(lb-la)
			fc = f(math.Exp(c))
		} else {
			la, c, fc = c, d, fd
			d = la + g*(lb-la)
			fd = f(math.Exp(d))
		}
	}
	return math.Exp((la + lb) / 2)
}

// bracket returns the grid neighbours of index i (clamped at the ends).
func bracket(grid []float64, i int) (float64, float64) {
	return grid[max(i-1, 0)], grid[min(i+1, len(grid)-1)]
}

// pickMin returns the λ minimizing f on the grid, refined by golden section
// between its grid neighbours, and f on the grid.
func pickMin(f func(float64) float64, grid []float64) (float64, []float64) {
	g := make([]float64, len(grid))
	best := 0
	for i, l := range grid {
		g[i] = f(l)
		if g[i] < g[best] {
			best = i
		}
	}
	a, b := bracket(grid, best)
	return goldenMin(f, a, b, 1e-10), g
}

// corner is one local maximum of the L-curve curvature.
type corner struct {
	lambda, curvature, res, semi float64
}

// corners returns every local maximum of the curvature on the grid with
// κ > 0, each refined by golden section between its grid neighbours, in
// the grid's (descending λ) order, and the curvature on the grid.
func (s *spectrum) corners(grid []float64) ([]corner, []float64) {
	k := make([]float64, len(grid))
	for i, l := range grid {
		k[i] = s.curvature(l)
	}
	var cs []corner
	neg := func(l float64) float64 { return -s.curvature(l) }
	for i := 1; i+1 < len(grid); i++ {
		if k[i] > 0 && k[i] > k[i-1] && k[i] >= k[i+1] {
			l := goldenMin(neg, grid[i-1], grid[i+1], 1e-10)
			res2, semi2, _, _ := s.curves(l)
			cs = append(cs, corner{lambda: l, curvature: s.curvature(l), res: math.Sqrt(res2), semi: math.Sqrt(semi2)})
		}
	}
	return cs, k
}

// pickDiscrepancy returns the λ with ‖Y − R U_λ‖_F² = m T σ² (Morozov's
// discrepancy principle with the known noise std σ), by bisection in log λ:
// the residual increases monotonically with λ from δ² to Σβ² + δ².
func (s *spectrum) pickDiscrepancy(sigma float64) (float64, error) {
	target := float64(s.m*s.t) * sigma * sigma
	var all float64
	for _, b := range s.beta2 {
		all += b
	}
	if target <= s.delta2 || target >= all+s.delta2 {
		return 0, inverse.InputError(fmt.Errorf("reg: discrepancy principle: target residual mTσ² = %.4g outside the attainable range (%.4g, %.4g)", target, s.delta2, all+s.delta2))
	}
	lo, hi := math.Log(s.sigma[0]*1e-16), math.Log(s.sigma[0]*1e8)
	for i := 0; i < 200 && hi-lo > 1e-13; i++ {
		mid := (lo + hi) / 2
		res2, _, _, _ := s.curves(math.Exp(mid))
		if res2 < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Exp((lo + hi) / 2), nil
}

// traceH2 returns tr H_λ² of one frame's influence matrix
// H_λ = R (RᵀR + λ²ΓᵀΓ)⁻¹ Rᵀ: its eigenvalues are 1 on the k null-space
// directions, φ_i on the generalized singular directions and 0 elsewhere.
func (s *spectrum) traceH2(lambda float64) float64 {
	tr2 := float64(s.k)
	l2 := lambda * lambda
	for _, sg := range s.sigma {
		phi := sg * sg / (sg*sg + l2)
		tr2 += phi * phi
	}
	return tr2
}

// rgcvGamma is the robustness parameter γ of robust GCV (smaller is more
// robust). Of 0.1, 0.3 and 0.5, measured on the cases with modelling error
// (README "Which λ rule, and why"), 0.1 came closest to the best RE on every
// one: the measured sock within 0.5%, the heart moved by 10 mm within 4%
// (0.3: 10%, 0.5: 15%).
const rgcvGamma = 0.1

// rgcv is robust GCV (Lukas 2006, Inverse Problems 22:1883):
//
//	R(λ) = (γ + (1−γ) μ(λ)) G(λ),  μ(λ) = tr(H_λ²)/m,
//
// G the GCV function. μ → 1 − (dimensions not fitted)/m as λ → 0 and
// → k/m as λ → ∞, so R penalizes the small λ at which GCV trusts every
// data component: an estimate of the prediction error that stays bounded
// when one data point (here: one lead's component) is an outlier.
func (s *spectrum) rgcv(lambda float64) float64 {
	return (rgcvGamma + (1-rgcvGamma)*s.traceH2(lambda)/float64(s.m)) * s.gcv(lambda)
}
