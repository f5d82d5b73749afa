package kernels

// mix computes the adaptive residual mixing of the ARN (paper Eq. 11),
//
//	out[i] = (1−a)·h[i] + a·x[i]   for i < len(out),
//
// each product rounded before the sum (no fused multiply-add), so the AVX2
// kernel and the pure-Go loop give the same bits.
func mix[T float](out, h, x []T, a T) {
	n := len(out)
	h, x = h[:n], x[:n]
	b := 1 - a
	i := 0
	if useAVX2 {
		i = n &^ (lanes[T]() - 1)
		switch out := any(out[:i]).(type) {
		case []float32:
			mixAVX2F32(out, any(h).([]float32), any(x).([]float32), float32(a), float32(b))
		case []float64:
			mixAVX2(out, any(h).([]float64), any(x).([]float64), float64(a), float64(b))
		}
	}
	for ; i < n; i++ {
		out[i] = T(b*h[i]) + T(a*x[i])
	}
}

// mixAdjoint is the reverse pass of mix given g = dL/dout: it writes
//
//	gh[i] = (1−a)·g[i],   gx[i] = a·g[i]   for i < len(g)
//
// and returns dL/da = Σ_i g[i]·(x[i] − h[i]). The sum runs in L interleaved
// partial sums (element i into sum i mod L; L = 4 for float64, 8 for
// float32: one vector register), which are then added pairwise,
// (s0+s1)+(s2+s3) and so on: a fixed order, the same on both paths.
func mixAdjoint[T float](g, h, x, gh, gx []T, a T) T {
	n := len(g)
	h, x, gh, gx = h[:n], x[:n], gh[:n], gx[:n]
	b := 1 - a
	L := lanes[T]()
	var acc [8]T
	i := 0
	if useAVX2 {
		i = n &^ (L - 1)
		switch g := any(g[:i]).(type) {
		case []float32:
			mixAdjointAVX2F32(g, any(h).([]float32), any(x).([]float32), any(gh).([]float32), any(gx).([]float32),
				float32(a), float32(b), any(&acc).(*[8]float32))
		case []float64:
			mixAdjointAVX2(g, any(h).([]float64), any(x).([]float64), any(gh).([]float64), any(gx).([]float64),
				float64(a), float64(b), any(&acc).(*[8]float64))
		}
	}
	for ; i < n; i++ {
		acc[i%L] += T(g[i] * (x[i] - h[i]))
		gh[i] = b * g[i]
		gx[i] = a * g[i]
	}
	return pairwiseSum(acc[:L])
}

// pairwiseSum returns s[0] + … + s[len−1] added pairwise (len a power of 2).
func pairwiseSum[T float](s []T) T {
	if len(s) == 1 {
		return s[0]
	}
	h := len(s) / 2
	return pairwiseSum(s[:h]) + pairwiseSum(s[h:])
}
