//go:build !purego

package kernels

// useAVX2 reports whether the AVX2+FMA kernels of simd_amd64.s may run: the
// CPU has AVX, AVX2 and FMA and the OS saves the YMM registers.
var useAVX2 = detectAVX2()

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// The kernels of simd_amd64.s, each in a float64 and a float32 (F32) version.

//go:noescape
func matVecAVX2(z, w []float64, ldw, n int, x []float64, ldx int)

//go:noescape
func matVecAVX2F32(z, w []float32, ldw, n int, x []float32, ldx int)

//go:noescape
func matVec3AVX2(z []float64, ldz int, w []float64, dw, ldw, n int, x []float64, ldx int)

//go:noescape
func matVec3AVX2F32(z []float32, ldz int, w []float32, dw, ldw, n int, x []float32, ldx int)

//go:noescape
func dotAVX2(a, b []float64) float64

//go:noescape
func dotAVX2F32(a, b []float32) float32

//go:noescape
func outer2x4AVX2(a0, a1, x []float64, ldx int, out *[8]float64)

//go:noescape
func outer2x4AVX2F32(a0, a1, x []float32, ldx int, out *[8]float32)

//go:noescape
func outer3x4AVX2F32(a0, a1, a2, x0, x1, x2, x3 []float32, out *[12]float32)

//go:noescape
func tanhBiasAVX2(z []float64, b float64)

//go:noescape
func tanhBiasAVX2F32(z []float32, b float32)

//go:noescape
func mulTanhDerivAVX2(g, a []float64)

//go:noescape
func mulTanhDerivAVX2F32(g, a []float32)

//go:noescape
func mixAVX2(out, h, x []float64, a, b float64)

//go:noescape
func mixAVX2F32(out, h, x []float32, a, b float32)

//go:noescape
func mixAdjointAVX2(g, h, x, gh, gx []float64, a, b float64, acc *[16]float64)

//go:noescape
func mixAdjointAVX2F32(g, h, x, gh, gx []float32, a, b float32, acc *[16]float32)

//go:noescape
func sumAVX2F32(a []float32, acc *[16]float32)
