//go:build !amd64 || purego

package kernels

// useAVX2 is false: this build has no assembly kernels.
var useAVX2 = false

func matVecAVX2(z, w []float64, ldw, n int, x []float64, ldx int) {
	panic("kernels: matVecAVX2 without amd64 assembly")
}

func matVecAVX2F32(z, w []float32, ldw, n int, x []float32, ldx int) {
	panic("kernels: matVecAVX2F32 without amd64 assembly")
}

func matVec3AVX2(z []float64, ldz int, w []float64, dw, ldw, n int, x []float64, ldx int) {
	panic("kernels: matVec3AVX2 without amd64 assembly")
}

func matVec3AVX2F32(z []float32, ldz int, w []float32, dw, ldw, n int, x []float32, ldx int) {
	panic("kernels: matVec3AVX2F32 without amd64 assembly")
}

func dotAVX2(a, b []float64) float64 { panic("kernels: dotAVX2 without amd64 assembly") }

func dotAVX2F32(a, b []float32) float32 { panic("kernels: dotAVX2F32 without amd64 assembly") }

func outer2x4AVX2(a0, a1, x []float64, ldx int, out *[8]float64) {
	panic("kernels: outer2x4AVX2 without amd64 assembly")
}

func outer2x4AVX2F32(a0, a1, x []float32, ldx int, out *[8]float32) {
	panic("kernels: outer2x4AVX2F32 without amd64 assembly")
}

func outer3x4AVX2F32(a0, a1, a2, x0, x1, x2, x3 []float32, out *[12]float32) {
	panic("kernels: outer3x4AVX2F32 without amd64 assembly")
}

func tanhBiasAVX2(z []float64, b float64) { panic("kernels: tanhBiasAVX2 without amd64 assembly") }

func tanhBiasAVX2F32(z []float32, b float32) {
	panic("kernels: tanhBiasAVX2F32 without amd64 assembly")
}

func mulTanhDerivAVX2(g, a []float64) { panic("kernels: mulTanhDerivAVX2 without amd64 assembly") }

func mulTanhDerivAVX2F32(g, a []float32) {
	panic("kernels: mulTanhDerivAVX2F32 without amd64 assembly")
}

func mixAVX2(out, h, x []float64, a, b float64) { panic("kernels: mixAVX2 without amd64 assembly") }

func mixAVX2F32(out, h, x []float32, a, b float32) {
	panic("kernels: mixAVX2F32 without amd64 assembly")
}

func mixAdjointAVX2(g, h, x, gh, gx []float64, a, b float64, acc *[16]float64) {
	panic("kernels: mixAdjointAVX2 without amd64 assembly")
}

func mixAdjointAVX2F32(g, h, x, gh, gx []float32, a, b float32, acc *[16]float32) {
	panic("kernels: mixAdjointAVX2F32 without amd64 assembly")
}

func sumAVX2F32(a []float32, acc *[16]float32) { panic("kernels: sumAVX2F32 without amd64 assembly") }
