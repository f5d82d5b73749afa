// Package temporal holds the paper's fourth-order finite-difference time
// derivative (Eq. 17 inside, Eq. 18 at the two first and two last frames) for
// signals sampled at T uniformly spaced frames τ apart.
//
// Every frame uses a 5-point stencil, so the operator is exact for
// polynomials of degree ≤ 4 and has truncation error O(τ⁴) everywhere,
// boundaries included. It needs T ≥ 5 frames: Weights, Matrix and Apply
// panic on fewer (a programming error: the run-file loader rejects T < 5).
package temporal

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/sparse"
)

// MinFrames is the fewest frames the 5-point stencils need.
const MinFrames = 5

// Stencils of Eq. 17 and Eq. 18 for unit spacing, times 12.
var (
	first   = [5]float64{-25, 48, -36, 16, -3} // u'_0 from u_0..u_4
	second  = [5]float64{-3, -10, 18, -6, 1}   // u'_1 from u_0..u_4
	central = [5]float64{1, -8, 0, 8, -1}      // u'_t from u_{t-2}..u_{t+2}
	penult  = [5]float64{-1, 6, -18, 10, 3}    // u'_{T-2} from u_{T-5}..u_{T-1}
	last    = [5]float64{3, -16, 36, -48, 25}  // u'_{T-1} from u_{T-5}..u_{T-1}
)

// Weights returns the stencil of frame t (0-based) of T frames for unit
// spacing: the time derivative at frame t is
//
//	du/dt(t) ≈ (1/τ) Σ_{k=0}^{4} w[k] u[start+k].
//
// Inside (2 ≤ t ≤ T−3) it is Eq. 17, w = (1, −8, 0, 8, −1)/12 with
// start = t−2; at t = 0, 1 it is Eq. 18's forward stencils on u_0..u_4
// ((−25, 48, −36, 16, −3)/12 and (−3, −10, 18, −6, 1)/12) and at t = T−2, T−1
// their mirror images on u_{T−5}..u_{T−1}. It panics if T < 5 or t is
// outside [0, T).
func Weights(t, T int) (start int, w [5]float64) {
	if T < MinFrames {
		panic(fmt.Sprintf("temporal: %d frames, need at least %d", T, MinFrames))
	}
	if t < 0 || t >= T {
		panic(fmt.Sprintf("temporal: frame %d outside 0..%d", t, T-1))
	}
	var s [5]float64
	switch {
	case t == 0:
		start, s = 0, first
	case t == 1:
		start, s = 0, second
	case t == T-2:
		start, s = T-5, penult
	case t == T-1:
		start, s = T-5, last
	default:
		start, s = t-2, central
	}
	for k := range w {
		w[k] = s[k] / 12
	}
	return start, w
}

// Matrix returns the T x T banded differentiation matrix D with
// (D u)_t ≈ du/dt at frame t for frames τ apart: row t holds Weights(t, T)/τ.
// Rows sum to zero. It panics if T < 5 or τ ≤ 0.
func Matrix(T int, tau float64) *sparse.CSR {
	checkTau(tau)
	d := &sparse.CSR{Rows: T, Cols: T, RowPtr: make([]int, T+1)}
	for t := 0; t < T; t++ {
		start, w := Weights(t, T)
		for k, v := range w {
			if v != 0 { // the central stencil's middle weight
				d.ColIdx = append(d.ColIdx, start+k)
				d.Val = append(d.Val, v/tau)
			}
		}
		d.RowPtr[t+1] = len(d.ColIdx)
	}
	return d
}

// Apply sets dst to the time derivative of every row of u (rows = nodes,
// columns = T frames τ apart): dst = u Dᵀ with D = Matrix(T, τ). dst must
// have u's shape and must not alias it. It panics if T < 5, τ ≤ 0 or the
// shapes differ.
func Apply(dst, u *mat.Dense, tau float64) {
	checkTau(tau)
	n, T := u.Dims()
	if r, c := dst.Dims(); r != n || c != T {
		panic(fmt.Sprintf("temporal: dst is %dx%d, u is %dx%d", r, c, n, T))
	}
	if T < MinFrames {
		panic(fmt.Sprintf("temporal: %d frames, need at least %d", T, MinFrames))
	}
	if dst == u {
		panic("temporal: dst aliases u")
	}
	s := 1 / (12 * tau)
	for i := 0; i < n; i++ {
		x, y := u.RawRowView(i), dst.RawRowView(i)
		// Boundary frames (Eq. 18), written out: the loop below is the hot path.
		y[0] = s * (first[0]*x[0] + first[1]*x[1] + first[2]*x[2] + first[3]*x[3] + first[4]*x[4])
		y[1] = s * (second[0]*x[0] + second[1]*x[1] + second[2]*x[2] + second[3]*x[3] + second[4]*x[4])
		e := x[T-5 : T]
		y[T-2] = s * (penult[0]*e[0] + penult[1]*e[1] + penult[2]*e[2] + penult[3]*e[3] + penult[4]*e[4])
		y[T-1] = s * (last[0]*e[0] + last[1]*e[1] + last[2]*e[2] + last[3]*e[3] + last[4]*e[4])
		for t := 2; t < T-2; t++ {
			y[t] = s * (x[t-2] - 8*x[t-1] + 8*x[t+1] - x[t+2]) // Eq. 17
		}
	}
}

func checkTau(tau float64) {
	if !(tau > 0) {
		panic(fmt.Sprintf("temporal: frame spacing τ = %g, want > 0", tau))
	}
}
