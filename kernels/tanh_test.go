package kernels

import (
	"math"
	"testing"
)

// TestTanhBias compares TanhBias with math.Tanh on a dense sweep of [-25, 25],
// tiny and special values: within 4 ulp-ish relative error (2e-16·4), and
// exact on NaN, ±Inf, ±0.
func TestTanhBias(t *testing.T) {
	var xs []float64
	for x := -25.0; x <= 25; x += 0.000731 {
		xs = append(xs, x)
	}
	xs = append(xs, 1e-300, -1e-300, 1e-9, -3e-12, 0.3465, 0.3466, 19, 19.5, 20, 21, 40, 700, -700, math.MaxFloat64, math.SmallestNonzeroFloat64)
	for _, b := range []float64{0, 0.37} {
		z := make([]float64, len(xs))
		for i, x := range xs {
			z[i] = x - b
		}
		TanhBias(z, b)
		var worst float64
		for i, x := range xs {
			want := math.Tanh(x - b + b)
			e := math.Abs(z[i]-want) / math.Max(math.Abs(want), 1e-300)
			worst = math.Max(worst, e)
			if e > 1e-15 {
				t.Fatalf("tanh(%v) = %v, want %v (relative error %g)", x, z[i], want, e)
			}
		}
		t.Logf("bias %v: %d values, worst relative error %.2g (avx2 %v)", b, len(xs), worst, useAVX2)
	}
	sp := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}
	TanhBias(sp, 0)
	if !math.IsNaN(sp[0]) || sp[1] != 1 || sp[2] != -1 || sp[3] != 0 || sp[4] != 0 {
		t.Errorf("specials: got %v", sp)
	}
}
