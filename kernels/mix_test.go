package kernels

import (
	"math"
	"testing"
)

// TestMix checks Mix and mixAdjoint in float64 and float32 for lengths
// around the vector widths: Mix and the adjoints gh, gx are the rounded
// formulas bit for bit on both paths; dL/da is the same bits on the
// assembly and the pure-Go path and agrees with a float64 sum to rounding.
func TestMix(t *testing.T) {
	testMix[float64](t)
	testMix[float32](t)
}

func testMix[T float](t *testing.T) {
	t.Helper()
	defer func(v bool) { useAVX2 = v }(useAVX2)
	a := T(0.3)
	h0, x0, g0 := randSlice[T](70, 1), randSlice[T](70, 2), randSlice[T](70, 3)
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 17, 64, 69} {
		var sums []T
		for _, asm := range asmPaths() {
			useAVX2 = asm
			out := randSlice[T](n, 4) // garbage: overwritten
			mix(out, h0, x0, a)
			gh, gx := randSlice[T](n, 5), randSlice[T](n, 6)
			da := mixAdjoint(g0[:n], h0, x0, gh, gx, a)
			var ref, mag float64
			for i := range n {
				if want := T((1-a)*h0[i]) + T(a*x0[i]); out[i] != want {
					t.Fatalf("%T asm=%v n=%d: mix[%d] = %v, want %v", want, asm, n, i, out[i], want)
				}
				if gh[i] != (1-a)*g0[i] || gx[i] != a*g0[i] {
					t.Fatalf("%T asm=%v n=%d: gh, gx[%d] = %v, %v, want %v, %v", a, asm, n, i, gh[i], gx[i], (1-a)*g0[i], a*g0[i])
				}
				d := float64(g0[i]) * (float64(x0[i]) - float64(h0[i]))
				ref += d
				mag += math.Abs(d)
			}
			if e := math.Abs(float64(da) - ref); e > 8*epsilon[T]()*mag {
				t.Errorf("%T asm=%v n=%d: dL/da = %v, float64 sum %v", a, asm, n, da, ref)
			}
			sums = append(sums, da)
		}
		if len(sums) == 2 && sums[0] != sums[1] {
			t.Errorf("%T n=%d: dL/da pure Go %v, assembly %v", a, n, sums[0], sums[1])
		}
	}
}
