package kernels

import "math"

// tanhBias applies the biased hyperbolic tangent in place:
//
//	z[c] = tanh(z[c] + b)   for c < len(z)
//
// On CPUs with AVX2 it runs a vectorized kernel (simd_amd64.s) accurate to a
// few ulp of T, otherwise math.Tanh (rounded to T); NaN stays NaN, ±Inf gives
// ±1 and ±0 gives ±0. Every element goes through the same code path (a short
// tail is padded), so a value does not depend on its position.
func tanhBias[T float](z []T, b T) {
	if !useAVX2 {
		for c, v := range z {
			z[c] = T(math.Tanh(float64(v + b)))
		}
		return
	}
	nl := lanes[T]()
	nv := len(z) &^ (nl - 1)
	if nv > 0 {
		tanhBiasVec(z[:nv], b)
	}
	if nv < len(z) {
		var pad [8]T
		p := pad[:nl]
		copy(p, z[nv:])
		tanhBiasVec(p, b)
		copy(z[nv:], p)
	}
}

// tanhBiasVec runs the tanhBiasAVX2 kernel of T; len(z) is a multiple of
// lanes[T]().
func tanhBiasVec[T float](z []T, b T) {
	switch z := any(z).(type) {
	case []float32:
		tanhBiasAVX2F32(z, float32(b))
	case []float64:
		tanhBiasAVX2(z, float64(b))
	}
}

// mulTanhDeriv multiplies g by the derivative of tanh given its values a
// (the adjoint of tanhBias), in place:
//
//	g[c] = g[c] · (1 − a[c]·a[c])   for c < len(g) ≤ len(a)
//
// with every operation rounded (no fused multiply-add), so the AVX2 kernel
// and the pure-Go loop give the same bits.
func mulTanhDeriv[T float](g, a []T) {
	a = a[:len(g)]
	if useAVX2 {
		nv := len(g) &^ (lanes[T]() - 1)
		switch g := any(g[:nv]).(type) {
		case []float32:
			mulTanhDerivAVX2F32(g, any(a).([]float32))
		case []float64:
			mulTanhDerivAVX2(g, any(a).([]float64))
		}
		// The tail in Go: the formula is the same, so is the result.
		g, a = g[nv:], a[nv:]
	}
	for c, v := range a {
		// The conversion rounds a², which forbids fusing 1 − a·a into an
		// FMA (Go may fuse where the hardware has one).
		g[c] *= 1 - T(v*v)
	}
}
