//go:build !amd64 || purego

package kernels

// useAVX2 is false: this build has no assembly kernels.
var useAVX2 = false

func matVecAVX2(z, w []float64, ldw, n int, x []float64, ldx int) {
	panic("kernels: matVecAVX2 without amd64 assembly")
}

func dotAVX2(a, b []float64) float64 { panic("kernels: dotAVX2 without amd64 assembly") }

func tanhBiasAVX2(z []float64, b float64) { panic("kernels: tanhBiasAVX2 without amd64 assembly") }

func outer2x4AVX2(a0, a1, x []float64, ldx int, out *[8]float64) {
	panic("kernels: outer2x4AVX2 without amd64 assembly")
}
