package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDensePrimitives checks matMul, matMulT, outerAcc and rowSumAcc in
// float64 and float32 against float64 loops, with strided operands and column
// counts that exercise every chunk size of the assembly (32, 4, 1 float64;
// 64, 8, 1 float32), on the assembly path (when the CPU has AVX2) and on the
// pure-Go path.
func TestDensePrimitives(t *testing.T) {
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, asm := range asmPaths() {
		useAVX2 = asm
		testDense[float64](t)
		testDense[float32](t)
	}
}

// testDense checks the dense kernels in T. Each result must be within
// 64·ε(T) times the sum of the magnitudes of its terms of the float64 sum of
// the same (T-valued) terms.
func testDense[T float](t *testing.T) {
	t.Helper()
	tol := 64 * epsilon[T]()
	check := func(sz any, op string, i, j int, got T, want, mag float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > tol*mag {
			t.Fatalf("%T asm=%v %v: %s [%d,%d] = %v, want %v", got, useAVX2, sz, op, i, j, got, want)
		}
	}
	for _, sz := range []struct{ out, in, ncols int }{
		{1, 1, 1}, {2, 3, 5}, {15, 15, 256}, {15, 4, 71}, {2, 15, 37}, {7, 2, 33}, {3, 1, 4}, {3, 5, 150},
	} {
		ld := sz.ncols + 3 // strided rows
		w := randSlice[T](sz.out*sz.in, 1)
		x := randSlice[T](sz.in*ld, 2)
		gz := randSlice[T](sz.out*ld, 3)
		z := randSlice[T](sz.out*ld, 4) // garbage: matMul must overwrite
		matMul(sz.out, sz.in, sz.ncols, w, x, ld, z, ld)
		gx := randSlice[T](sz.in*ld, 5)
		matMulT(sz.out, sz.in, sz.ncols, w, gz, ld, gx, ld)
		gw := randSlice[T](sz.out*sz.in, 6)
		gw0 := append([]T(nil), gw...)
		outerAcc(sz.out, sz.in, sz.ncols, gz, ld, x, ld, gw)
		gb := randSlice[T](sz.out, 7)
		gb0 := append([]T(nil), gb...)
		rowSumAcc(sz.out, sz.ncols, gz, ld, gb)
		for i := range sz.out {
			for c := range sz.ncols {
				var s, m float64
				for j := range sz.in {
					p := float64(w[i*sz.in+j]) * float64(x[j*ld+c])
					s, m = s+p, m+math.Abs(p)
				}
				check(sz, "matMul", i, c, z[i*ld+c], s, m)
			}
			for j := range sz.in {
				s := float64(gw0[i*sz.in+j])
				m := math.Abs(s)
				for c := range sz.ncols {
					p := float64(gz[i*ld+c]) * float64(x[j*ld+c])
					s, m = s+p, m+math.Abs(p)
				}
				check(sz, "outerAcc", i, j, gw[i*sz.in+j], s, m)
			}
			s := float64(gb0[i])
			m := math.Abs(s)
			for c := range sz.ncols {
				s, m = s+float64(gz[i*ld+c]), m+math.Abs(float64(gz[i*ld+c]))
			}
			check(sz, "rowSumAcc", i, 0, gb[i], s, m)
		}
		for j := range sz.in {
			for c := range sz.ncols {
				var s, m float64
				for i := range sz.out {
					p := float64(w[i*sz.in+j]) * float64(gz[i*ld+c])
					s, m = s+p, m+math.Abs(p)
				}
				check(sz, "matMulT", j, c, gx[j*ld+c], s, m)
			}
		}
	}
}

// asmPaths returns the values of useAVX2 to test: false (pure Go), and true
// when the CPU has AVX2.
func asmPaths() []bool {
	if useAVX2 {
		return []bool{false, true}
	}
	return []bool{false}
}

// randSlice returns randVec(n, seed) rounded to T.
func randSlice[T float](n int, seed uint64) []T {
	rng := rand.New(rand.NewPCG(seed, 3))
	v := make([]T, n)
	for i := range v {
		v[i] = T(rng.NormFloat64())
	}
	return v
}

// epsilon returns the machine epsilon of T (the spacing of T at 1).
func epsilon[T float]() float64 {
	var v T
	if _, ok := any(v).(float32); ok {
		return 0x1p-23
	}
	return 0x1p-52
}

// TestMatVec3SameBits checks that matMul and matMulT, which run three rows
// at a time, give the same bits as matVec row by row (the summation order
// of every element is the same), in both types and for column counts that
// exercise every chunk size.
func TestMatVec3SameBits(t *testing.T) {
	testMatVec3[float64](t)
	testMatVec3[float32](t)
}

func testMatVec3[T float](t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2: matMul is matVec row by row")
	}
	for _, sz := range []struct{ out, in, ncols int }{{15, 15, 256}, {7, 4, 37}, {3, 1, 9}, {4, 15, 129}, {2, 5, 70}} {
		ld := sz.ncols + 5
		w := randSlice[T](sz.out*sz.in, 7)
		x := randSlice[T](max(sz.in, sz.out)*ld, 8)
		z := make([]T, max(sz.in, sz.out)*ld)
		matMul(sz.out, sz.in, sz.ncols, w, x, ld, z, ld)
		for i := range sz.out {
			row := make([]T, sz.ncols)
			matVec(row, w[i*sz.in:], 1, sz.in, x, ld)
			for c, v := range row {
				if z[i*ld+c] != v {
					t.Fatalf("%T %v: matMul[%d,%d] = %v, matVec %v", v, sz, i, c, z[i*ld+c], v)
				}
			}
		}
		matMulT(sz.out, sz.in, sz.ncols, w, x, ld, z, ld)
		for j := range sz.in {
			row := make([]T, sz.ncols)
			matVec(row, w[j:], sz.in, sz.out, x, ld)
			for c, v := range row {
				if z[j*ld+c] != v {
					t.Fatalf("%T %v: matMulT[%d,%d] = %v, matVec %v", v, sz, j, c, z[j*ld+c], v)
				}
			}
		}
	}
}
