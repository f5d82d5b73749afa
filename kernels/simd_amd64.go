//go:build !purego

package kernels

// useAVX2 reports whether the AVX2+FMA kernels of simd_amd64.s may run: the
// CPU has AVX, AVX2 and FMA and the OS saves the YMM registers.
var useAVX2 = detectAVX2()

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

//go:noescape
func matVecAVX2(z, w []float64, ldw, n int, x []float64, ldx int)

//go:noescape
func dotAVX2(a, b []float64) float64

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

//go:noescape
func tanhBiasAVX2(z []float64, b float64)

//go:noescape
func outer2x4AVX2(a0, a1, x []float64, ldx int, out *[8]float64)
