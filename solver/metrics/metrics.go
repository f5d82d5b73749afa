// Package metrics scores a reconstruction û against the reference u, both
// n x T (rows = heart nodes s, columns = time frames t), with the paper's
// relative error (Eq. 19), correlation coefficient (Eq. 20) and mean squared
// error (Eq. 21), plus per-frame RE and CC series.
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
	var num, den float64
	for s := 0; s < n; s++ {
		for t := 0; t < T; t++ {
			u := ref.At(s, t)
			d := est.At(s, t) - u
			num += d * d
			den += u * u
		}
	}
	return ratio(num, den)
}

// MSE returns the mean squared error of Eq. 21,
//
//	MSE = (1/N) Σ_{s,t} (û(s,t) − u(s,t))²,   N = n·T.
func MSE(est, ref mat.Matrix) float64 {
	n, T := dims(est, ref)
	var sum float64
	for s := 0; s < n; s++ {
		for t := 0; t < T; t++ {
			d := est.At(s, t) - ref.At(s, t)
			sum += d * d
		}
	}
	return sum / float64(n*T)
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
	var sxy, sxx, syy float64
	for s := 0; s < n; s++ {
		var mx, my float64
		for t := 0; t < T; t++ {
			mx += est.At(s, t)
			my += ref.At(s, t)
		}
		mx /= float64(T)
		my /= float64(T)
		for t := 0; t < T; t++ {
			x, y := est.At(s, t)-mx, ref.At(s, t)-my
			sxy += x * y
			sxx += x * x
			syy += y * y
		}
	}
	return corr(sxy, sxx, syy)
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
		var num, den float64
		for s := 0; s < n; s++ {
			u := ref.At(s, t)
			d := est.At(s, t) - u
			num += d * d
			den += u * u
		}
		re[t] = ratio(num, den)
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
		var mx, my float64
		for s := 0; s < n; s++ {
			mx += est.At(s, t)
			my += ref.At(s, t)
		}
		mx /= float64(n)
		my /= float64(n)
		var sxy, sxx, syy float64
		for s := 0; s < n; s++ {
			x, y := est.At(s, t)-mx, ref.At(s, t)-my
			sxy += x * y
			sxx += x * x
			syy += y * y
		}
		cc[t] = corr(sxy, sxx, syy)
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

// corr returns sxy/√(sxx·syy), NaN when either variance is zero.
func corr(sxy, sxx, syy float64) float64 {
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}
