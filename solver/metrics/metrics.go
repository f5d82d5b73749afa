// Package metrics scores a reconstruction û against the reference u, both
// n x T (rows = heart nodes s, columns = time frames t), with the paper's
// relative error (Eq. 19), correlation coefficient (Eq. 20) and mean squared
// error (Eq. 21), plus per-frame RE and CC series, RE and CC per region of
// labelled nodes (ByRegion), and the clinical activation measures:
// activation time per node (ActivationTimes: the steepest upstroke or
// downstroke, smoothed, with sub-frame refinement), and the correlation,
// mean absolute error and earliest-site localization error of an
// activation map against the truth's (CompareActivation).
//
// Every function takes (est, ref) = (û, u) and panics with mat.ErrShape when
// their shapes differ, as gonum's own functions do.
//
// Undefined cases are not hidden: a relative error against an all-zero
// reference is 0 when the estimate is zero too and +Inf otherwise; a
// correlation with a zero-variance side (a constant signal) is NaN, so that
// averages over frames or runs must skip such entries deliberately.
package metrics

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// RE returns the relative error of Eq. 19,
//
//	RE = √(Σ_{s,t} (û(s,t) − u(s,t))²) / √(Σ_{s,t} u(s,t)²),
//
// i.e. ‖û − u‖_F / ‖u‖_F; 0 for a perfect estimate.
func RE(est, ref mat.Matrix) float64 {
	n, T := dims(est, ref)
	var sq squares
	for s := 0; s < n; s++ {
		sq.add(T, func(t int) (float64, float64) { return est.At(s, t), ref.At(s, t) })
	}
	return ratio(sq.err, sq.ref)
}

// MSE returns the mean squared error of Eq. 21,
//
//	MSE = (1/N) Σ_{s,t} (û(s,t) − u(s,t))²,   N = n·T.
func MSE(est, ref mat.Matrix) float64 {
	n, T := dims(est, ref)
	var sq squares
	for s := 0; s < n; s++ {
		sq.add(T, func(t int) (float64, float64) { return est.At(s, t), ref.At(s, t) })
	}
	return sq.err / float64(n*T)
}

// CC returns the correlation coefficient of Eq. 20, pooled over the nodes
// with each node's time mean removed:
//
//	CC = Σ_s (û_s − ū̂_s)ᵀ(u_s − ū_s) / √(Σ_s ‖û_s − ū̂_s‖² · Σ_s ‖u_s − ū_s‖²),
//
// where u_s = u(s,·) is node s's time series and ū_s its mean over the T
// frames. 1 for a perfect or positively scaled estimate (plus any per-node
// offset); NaN when either side is constant in time at every node.
func CC(est, ref mat.Matrix) float64 {
	n, T := dims(est, ref)
	var m moments
	for s := 0; s < n; s++ {
		m.add(T, func(t int) (float64, float64) { return est.At(s, t), ref.At(s, t) })
	}
	return m.corr()
}

// FrameRE returns the relative error of every frame t across the nodes,
//
//	RE_t = ‖û(·,t) − u(·,t)‖ / ‖u(·,t)‖,
//
// a series of length T (0 / +Inf on an all-zero reference frame, see the
// package comment).
func FrameRE(est, ref mat.Matrix) []float64 {
	n, T := dims(est, ref)
	re := make([]float64, T)
	for t := 0; t < T; t++ {
		var sq squares
		sq.add(n, func(s int) (float64, float64) { return est.At(s, t), ref.At(s, t) })
		re[t] = ratio(sq.err, sq.ref)
	}
	return re
}

// FrameCC returns the spatial correlation of every frame t, the Pearson
// correlation across the n nodes of û(·,t) and u(·,t), each with its mean over
// the nodes removed,
//
//	CC_t = Σ_s (û(s,t) − m̂_t)(u(s,t) − m_t) / √(Σ_s (û(s,t) − m̂_t)² · Σ_s (u(s,t) − m_t)²),
//
// a series of length T; NaN at frames where either map is spatially constant.
func FrameCC(est, ref mat.Matrix) []float64 {
	n, T := dims(est, ref)
	cc := make([]float64, T)
	for t := 0; t < T; t++ {
		var m moments
		m.add(n, func(s int) (float64, float64) { return est.At(s, t), ref.At(s, t) })
		cc[t] = m.corr()
	}
	return cc
}

func dims(est, ref mat.Matrix) (n, T int) {
	n, T = ref.Dims()
	if r, c := est.Dims(); r != n || c != T {
		panic(mat.ErrShape)
	}
	return n, T
}

// ratio returns √(num/den), defined as 0 for 0/0 (a zero estimate of a zero
// reference is exact) and +Inf for x/0 with x > 0.
func ratio(num, den float64) float64 {
	if den == 0 {
		if num == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Sqrt(num / den)
}

// squares accumulates the sums behind RE and MSE: err = Σ (û − u)² and
// ref = Σ u².
type squares struct{ err, ref float64 }

// add adds the k pairs (û, u) = at(0), …, at(k−1) of one row or column.
func (q *squares) add(k int, at func(i int) (est, ref float64)) {
	for i := 0; i < k; i++ {
		x, u := at(i)
		d := x - u
		q.err += d * d
		q.ref += u * u
	}
}

// moments accumulates the sums behind CC: sxy = Σ (û − m̂)(u − m), sxx =
// Σ (û − m̂)², syy = Σ (u − m)², each line's means m̂, m removed.
type moments struct{ sxy, sxx, syy float64 }

// add adds the k pairs (û, u) = at(0), …, at(k−1) of one row or column,
// centred on their own means over those k pairs.
func (m *moments) add(k int, at func(i int) (est, ref float64)) {
	var mx, my float64
	for i := 0; i < k; i++ {
		x, y := at(i)
		mx += x
		my += y
	}
	mx /= float64(k)
	my /= float64(k)
	for i := 0; i < k; i++ {
		x, y := at(i)
		x, y = x-mx, y-my
		m.sxy += x * y
		m.sxx += x * x
		m.syy += y * y
	}
}

// corr returns sxy/√(sxx·syy), NaN when either variance is zero.
func (m moments) corr() float64 {
	if m.sxx == 0 || m.syy == 0 {
		return math.NaN()
	}
	return m.sxy / math.Sqrt(m.sxx*m.syy)
}

// RegionScore is RE (Eq. 19) and CC (Eq. 20) restricted to the nodes of one
// region: the sums of Eq. 19–20 run over that region's rows only.
type RegionScore struct {
	Nodes  int
	RE, CC float64
}

// ByRegion returns the RegionScore of est against ref for each region
// 0…k−1, where labels[s] is the region of node (row) s; a region without
// nodes gets NaN scores. It panics with mat.ErrShape when labels does not
// have one entry per row or a label is outside [0, k).
func ByRegion(est, ref mat.Matrix, labels []int, k int) []RegionScore {
	n, T := dims(est, ref)
	if len(labels) != n {
		panic(mat.ErrShape)
	}
	sq, mo := make([]squares, k), make([]moments, k)
	out := make([]RegionScore, k)
	for s, r := range labels {
		if r < 0 || r >= k {
			panic(mat.ErrShape)
		}
		at := func(t int) (float64, float64) { return est.At(s, t), ref.At(s, t) }
		sq[r].add(T, at)
		mo[r].add(T, at)
		out[r].Nodes++
	}
	for r := range out {
		out[r].RE, out[r].CC = math.NaN(), math.NaN()
		if out[r].Nodes > 0 {
			out[r].RE, out[r].CC = ratio(sq[r].err, sq[r].ref), mo[r].corr()
		}
	}
	return out
}
