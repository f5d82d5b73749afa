package kernels

import (
	"math"
	"testing"
)

// TestDensePrimitives checks MatMul, MatMulT and OuterAcc against naive loops
// with strided operands and column counts that exercise every chunk size of
// the assembly (32, 4, 1), on the assembly path (when the CPU has AVX2) and
// on the pure-Go path.
func TestDensePrimitives(t *testing.T) {
	paths := []bool{false}
	if useAVX2 {
		paths = append(paths, true)
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, asm := range paths {
		useAVX2 = asm
		for _, sz := range []struct{ out, in, ncols int }{
			{1, 1, 1}, {2, 3, 5}, {15, 15, 256}, {15, 4, 71}, {2, 15, 37}, {7, 2, 33}, {3, 1, 4},
		} {
			ld := sz.ncols + 3 // strided rows
			w := randVec(sz.out*sz.in, 1)
			x := randVec(sz.in*ld, 2)
			gz := randVec(sz.out*ld, 3)
			z := randVec(sz.out*ld, 4) // garbage: MatMul must overwrite
			MatMul(sz.out, sz.in, sz.ncols, w, x, ld, z, ld)
			gx := randVec(sz.in*ld, 5)
			MatMulT(sz.out, sz.in, sz.ncols, w, gz, ld, gx, ld)
			gw := randVec(sz.out*sz.in, 6)
			gw0 := append([]float64(nil), gw...)
			OuterAcc(sz.out, sz.in, sz.ncols, gz, ld, x, ld, gw)
			for i := range sz.out {
				for c := range sz.ncols {
					var s float64
					for j := range sz.in {
						s += w[i*sz.in+j] * x[j*ld+c]
					}
					if math.Abs(z[i*ld+c]-s) > 1e-13 {
						t.Fatalf("asm=%v %v: MatMul [%d,%d] = %v, want %v", asm, sz, i, c, z[i*ld+c], s)
					}
				}
				for j := range sz.in {
					s := gw0[i*sz.in+j]
					for c := range sz.ncols {
						s += gz[i*ld+c] * x[j*ld+c]
					}
					if math.Abs(gw[i*sz.in+j]-s) > 1e-12 {
						t.Fatalf("asm=%v %v: OuterAcc [%d,%d] = %v, want %v", asm, sz, i, j, gw[i*sz.in+j], s)
					}
				}
			}
			for j := range sz.in {
				for c := range sz.ncols {
					var s float64
					for i := range sz.out {
						s += w[i*sz.in+j] * gz[i*ld+c]
					}
					if math.Abs(gx[j*ld+c]-s) > 1e-13 {
						t.Fatalf("asm=%v %v: MatMulT [%d,%d] = %v, want %v", asm, sz, j, c, gx[j*ld+c], s)
					}
				}
			}
		}
	}
}
