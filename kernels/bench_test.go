package kernels

import (
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The dense kernels against gonum's Gemm on one width-15 layer over a block
// of 256 points (the shape of solver/nn's passes).
const benchOut, benchIn, benchCols = 15, 15, 256

func BenchmarkMatMul15x256(b *testing.B) {
	w, x, z := randVec(benchOut*benchIn, 1), randVec(benchIn*benchCols, 2), make([]float64, benchOut*benchCols)
	for range b.N {
		MatMul(benchOut, benchIn, benchCols, w, x, benchCols, z, benchCols)
	}
}

func BenchmarkGonumGemm15x256(b *testing.B) {
	w, x, z := randVec(benchOut*benchIn, 1), randVec(benchIn*benchCols, 2), make([]float64, benchOut*benchCols)
	for range b.N {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
			blas64.General{Rows: benchOut, Cols: benchIn, Stride: benchIn, Data: w},
			blas64.General{Rows: benchIn, Cols: benchCols, Stride: benchCols, Data: x},
			0, blas64.General{Rows: benchOut, Cols: benchCols, Stride: benchCols, Data: z})
	}
}

func BenchmarkOuterAcc15x256(b *testing.B) {
	gz, x, gw := randVec(benchOut*benchCols, 1), randVec(benchIn*benchCols, 2), make([]float64, benchOut*benchIn)
	for range b.N {
		OuterAcc(benchOut, benchIn, benchCols, gz, benchCols, x, benchCols, gw)
	}
}

func BenchmarkGonumGemmNT15x256(b *testing.B) {
	gz, x, gw := randVec(benchOut*benchCols, 1), randVec(benchIn*benchCols, 2), make([]float64, benchOut*benchIn)
	for range b.N {
		blas64.Gemm(blas.NoTrans, blas.Trans, 1,
			blas64.General{Rows: benchOut, Cols: benchCols, Stride: benchCols, Data: gz},
			blas64.General{Rows: benchIn, Cols: benchCols, Stride: benchCols, Data: x},
			1, blas64.General{Rows: benchOut, Cols: benchIn, Stride: benchIn, Data: gw})
	}
}

func BenchmarkTanhBias256(b *testing.B) {
	z := randVec(benchCols, 1)
	for range b.N {
		TanhBias(z, 0.1)
	}
}
