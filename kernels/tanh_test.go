package kernels

import (
	"math"
	"testing"
)

// TestTanhBias compares tanhBias in float64 and float32, on the assembly
// path (when the CPU has AVX2) and on the pure-Go path, with math.Tanh
// rounded to T: on a dense sweep of [-25, 25] and a geometric one of
// ±[1e-30, 1e4], the error is at most maxULP ulp of T (the pure-Go path is
// exact) and |tanh| ≤ 1; NaN, ±Inf and ±0 are exact.
func TestTanhBias(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, asm := range asmPaths() {
		useAVX2 = asm
		testTanhBias[float64](t, 4)
		// 3 ulp is also the worst over every float32 in [0, 11) (95% exact);
		// it bounds the absolute error by 1.8e-7.
		testTanhBias[float32](t, 3)
	}
}

func testTanhBias[T float](t *testing.T, maxULP float64) {
	t.Helper()
	var xs []float64
	for x := -25.0; x <= 25; x += 0.000731 {
		xs = append(xs, x)
	}
	for x := 1e-30; x <= 1e4; x *= 1.001 {
		xs = append(xs, x, -x)
	}
	xs = append(xs, 1e-300, -1e-300, 1e-9, -3e-12, 0.3465, 0.3466, 9, 9.1, 19, 19.5, 20, 21, 40, 700, -700, math.MaxFloat64, math.SmallestNonzeroFloat64)
	for _, b := range []T{0, 0.37} {
		z := make([]T, len(xs))
		for i, x := range xs {
			z[i] = T(x) - b
		}
		arg := make([]T, len(z))
		for i, v := range z {
			arg[i] = v + b // the argument tanhBias computes
		}
		tanhBias(z, b)
		var worst, worstAbs float64
		for i, a := range arg {
			want := T(math.Tanh(float64(a)))
			e := ulpErr(z[i], want)
			if e > maxULP || math.Abs(float64(z[i])) > 1 {
				t.Fatalf("%T asm=%v: tanh(%v) = %v, want %v (%.3g ulp)", want, useAVX2, a, z[i], want, e)
			}
			worst = math.Max(worst, e)
			worstAbs = math.Max(worstAbs, math.Abs(float64(z[i]-want)))
		}
		t.Logf("%T asm=%v bias %v: %d values, worst error %.3g ulp (%.3g absolute)", b, useAVX2, b, len(xs), worst, worstAbs)
	}
	// Specials, with the bias −0 so that z + b = z keeps the sign of a zero
	// (−0 + 0 = +0); and a short tail (padded) must give what a full vector
	// gives.
	nan, inf, negz := T(math.NaN()), T(math.Inf(1)), T(math.Copysign(0, -1))
	sp := []T{nan, inf, -inf, 0, negz, 0.5, -3, 1e-3, 7, 0.25, -0.1}
	tanhBias(sp, negz)
	if !math.IsNaN(float64(sp[0])) || sp[1] != 1 || sp[2] != -1 || sp[3] != 0 || math.Signbit(float64(sp[3])) ||
		sp[4] != 0 || !math.Signbit(float64(sp[4])) {
		t.Errorf("%T asm=%v: specials: got %v", nan, useAVX2, sp)
	}
	for i, x := range []T{0.5, -3, 1e-3, 7, 0.25, -0.1} {
		one := []T{x}
		tanhBias(one, negz)
		if one[0] != sp[5+i] {
			t.Errorf("%T asm=%v: tanh(%v) alone = %v, in a vector %v", x, useAVX2, x, one[0], sp[5+i])
		}
	}
}

// ulpErr returns |got − want| in units of the spacing of T below |want|
// (+Inf if want is ±0 and got is not the same zero).
func ulpErr[T float](got, want T) float64 {
	if want == 0 {
		if got == 0 && math.Signbit(float64(got)) == math.Signbit(float64(want)) {
			return 0
		}
		return math.Inf(1)
	}
	var next float64
	switch w := any(want).(type) {
	case float32:
		next = float64(math.Nextafter32(w, 0))
	case float64:
		next = math.Nextafter(w, 0)
	}
	return math.Abs(float64(got)-float64(want)) / math.Abs(float64(want)-next)
}

// TestMulTanhDeriv checks mulTanhDeriv in float64 and float32, on the
// assembly path (when the CPU has AVX2) and on the pure-Go path: the result is
// g·(1 − a²) with every operation rounded, bit for bit, for lengths around the
// vector widths and len(a) > len(g).
func TestMulTanhDeriv(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, asm := range asmPaths() {
		useAVX2 = asm
		testMulTanhDeriv[float64](t)
		testMulTanhDeriv[float32](t)
	}
}

func testMulTanhDeriv[T float](t *testing.T) {
	t.Helper()
	a := randSlice[T](70, 1)
	for i := range a {
		a[i] = T(math.Tanh(float64(a[i])))
	}
	g0 := randSlice[T](69, 2)
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 17, 64, 69} {
		g := append([]T(nil), g0[:n]...)
		mulTanhDeriv(g, a)
		for c := range g {
			// The conversion rounds a² (no fused multiply-add).
			if want := g0[c] * (1 - T(a[c]*a[c])); g[c] != want {
				t.Fatalf("%T asm=%v n=%d: g[%d] = %v, want %v", want, useAVX2, n, c, g[c], want)
			}
		}
	}
}
