package kernels

import "math"

// TanhBias applies the biased hyperbolic tangent in place:
//
//	z[c] = tanh(z[c] + b)   for c < len(z)
//
// On CPUs with AVX2 it runs a vectorized kernel (simd_amd64.s) accurate to a
// few ulp, otherwise math.Tanh; NaN stays NaN and ±Inf gives ±1. Every element
// goes through the same code path (a short tail is padded), so a value does
// not depend on its position.
func TanhBias(z []float64, b float64) {
	if !useAVX2 {
		for c, v := range z {
			z[c] = math.Tanh(v + b)
		}
		return
	}
	n4 := len(z) &^ 3
	if n4 > 0 {
		tanhBiasAVX2(z[:n4], b)
	}
	if n4 < len(z) {
		var pad [4]float64
		copy(pad[:], z[n4:])
		tanhBiasAVX2(pad[:], b)
		copy(z[n4:], pad[:])
	}
}
