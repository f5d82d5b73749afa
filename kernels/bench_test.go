package kernels

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The dense kernels against gonum's Gemm on one width-15 layer over a block
// of 256 points (the shape of solver/nn's passes), in float64 and float32.
const benchOut, benchIn, benchCols = 15, 15, 256

func BenchmarkMatMul15x256(b *testing.B) {
	b.Run("float64", benchMatMul[float64])
	b.Run("float32", benchMatMul[float32])
}

func benchMatMul[T float](b *testing.B) {
	w, x, z := randSlice[T](benchOut*benchIn, 1), randSlice[T](benchIn*benchCols, 2), make([]T, benchOut*benchCols)
	for range b.N {
		matMul(benchOut, benchIn, benchCols, w, x, benchCols, z, benchCols)
	}
}

func BenchmarkGonumGemm15x256(b *testing.B) {
	w, x, z := randSlice[float64](benchOut*benchIn, 1), randSlice[float64](benchIn*benchCols, 2), make([]float64, benchOut*benchCols)
	for range b.N {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: benchOut, Cols: benchIn, Stride: benchIn, Data: w},
			blas64.General{Rows: benchIn, Cols: benchCols, Stride: benchCols, Data: x},
			0, blas64.General{Rows: benchOut, Cols: benchCols, Stride: benchCols, Data: z})
	}
}

func BenchmarkOuterAcc15x256(b *testing.B) {
	b.Run("float64", benchOuterAcc[float64])
	b.Run("float32", benchOuterAcc[float32])
}

func benchOuterAcc[T float](b *testing.B) {
	gz, x, gw := randSlice[T](benchOut*benchCols, 1), randSlice[T](benchIn*benchCols, 2), make([]T, benchOut*benchIn)
	for range b.N {
		outerAcc(benchOut, benchIn, benchCols, gz, benchCols, x, benchCols, gw)
	}
}

func BenchmarkGonumGemmNT15x256(b *testing.B) {
	gz, x, gw := randSlice[float64](benchOut*benchCols, 1), randSlice[float64](benchIn*benchCols, 2), make([]float64, benchOut*benchIn)
	for range b.N {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1,
			blas64.General{Rows: benchOut, Cols: benchCols, Stride: benchCols, Data: gz},
			blas64.General{Rows: benchIn, Cols: benchCols, Stride: benchCols, Data: x},
			1, blas64.General{Rows: benchOut, Cols: benchIn, Stride: benchIn, Data: gw})
	}
}

func BenchmarkTanhBias256(b *testing.B) {
	b.Run("float64", benchTanhBias[float64])
	b.Run("float32", benchTanhBias[float32])
}

func benchTanhBias[T float](b *testing.B) {
	z := randSlice[T](benchCols, 1)
	for range b.N {
		tanhBias(z, 0.1)
	}
}

func BenchmarkMulTanhDeriv256(b *testing.B) {
	b.Run("float64", benchMulTanhDeriv[float64])
	b.Run("float32", benchMulTanhDeriv[float32])
}

func benchMulTanhDeriv[T float](b *testing.B) {
	g, a := randSlice[T](benchCols, 1), randSlice[T](benchCols, 2)
	for range b.N {
		mulTanhDeriv(g, a)
	}
}

func BenchmarkMixAdjoint256(b *testing.B) {
	b.Run("float64", benchMixAdjoint[float64])
	b.Run("float32", benchMixAdjoint[float32])
}

func benchMixAdjoint[T float](b *testing.B) {
	g, h, x := randSlice[T](benchCols, 1), randSlice[T](benchCols, 2), randSlice[T](benchCols, 3)
	gh, gx := make([]T, benchCols), make([]T, benchCols)
	for range b.N {
		mixAdjoint(g, h, x, gh, gx, 0.3)
	}
}
