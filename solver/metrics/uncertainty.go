package metrics

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Spearman returns Spearman's rank correlation of the pairs (x_i, y_i): the
// Pearson correlation of their ranks, tied values taking the mean of the
// ranks they span (fractional ranking),
//
//	ρ = Σ_i (r_i − r̄)(q_i − q̄) / √(Σ_i (r_i − r̄)² · Σ_i (q_i − q̄)²),
//
// which for untied data is 1 − 6 Σ d_i² / (n(n² − 1)), d_i = r_i − q_i.
// NaN when either side is constant (no ordering to compare) or n < 2; it
// panics with mat.ErrShape when the lengths differ.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic(mat.ErrShape)
	}
	if len(x) < 2 {
		return math.NaN()
	}
	r, q := ranks(x), ranks(y)
	var m moments
	m.add(len(r), func(i int) (float64, float64) { return r[i], q[i] })
	return m.corr()
}

// ranks returns the 1-based fractional ranks of x.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && x[idx[hi]] == x[idx[lo]] {
			hi++
		}
		mid := float64(lo+hi+1) / 2 // mean of the ranks lo+1 … hi
		for _, i := range idx[lo:hi] {
			r[i] = mid
		}
		lo = hi
	}
	return r
}

// NodeRMS returns, per node (row) s, the root mean square over the T
// frames of a(s,·) − b(s,·), or of a(s,·) when b is nil:
// √((1/T) Σ_t (a(s,t) − b(s,t))²).
func NodeRMS(a, b mat.Matrix) []float64 {
	n, T := a.Dims()
	if b != nil {
		n, T = dims(a, b)
	}
	out := make([]float64, n)
	for s := range n {
		var ss float64
		for t := range T {
			d := a.At(s, t)
			if b != nil {
				d -= b.At(s, t)
			}
			ss += d * d
		}
		out[s] = math.Sqrt(ss / float64(T))
	}
	return out
}

// SpreadSkill returns how well an ensemble's spread ranks the nodes by the
// error of its mean: the Spearman correlation (Spearman) between the
// per-node spread NodeRMS(std, nil), the RMS over frames of the members'
// standard deviation, and the per-node error NodeRMS(est, ref) of the mean
// est against the truth ref. 1: the nodes with the most spread are exactly
// those with the largest errors; 0: the spread says nothing about the
// error.
func SpreadSkill(std, est, ref mat.Matrix) float64 {
	dims(std, ref)
	return Spearman(NodeRMS(std, nil), NodeRMS(est, ref))
}
