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

// partials returns the number of interleaved partial sums of mixAdjoint and
// sum in T: 16 for float32 (two vector registers, so the additions do not
// wait on one chain), 4 for float64 (one register; the float64 results are
// those of the float64 loops before the float32 kernels got two).
func partials[T float]() int {
	if lanes[T]() == 8 {
		return 16
	}
	return 4
}

// mixAdjoint is the reverse pass of mix given g = dL/dout: it writes
//
//	gh[i] = (1−a)·g[i],   gx[i] = a·g[i]   for i < len(g)
//
// and returns dL/da = Σ_i g[i]·(x[i] − h[i]). The sum runs in P interleaved
// partial sums (element i into sum i mod P; P = partials: 4 for float64, 16
// for float32), which are then added pairwise, (s0+s1)+(s2+s3) and so on: a
// fixed order, the same on both paths.
func mixAdjoint[T float](g, h, x, gh, gx []T, a T) T {
	n := len(g)
	h, x, gh, gx = h[:n], x[:n], gh[:n], gx[:n]
	b := 1 - a
	P := partials[T]()
	var acc [16]T
	i := 0
	if useAVX2 {
		i = n &^ (P - 1)
		switch g := any(g[:i]).(type) {
		case []float32:
			mixAdjointAVX2F32(g, any(h).([]float32), any(x).([]float32), any(gh).([]float32), any(gx).([]float32),
				float32(a), float32(b), any(&acc).(*[16]float32))
		case []float64:
			mixAdjointAVX2(g, any(h).([]float64), any(x).([]float64), any(gh).([]float64), any(gx).([]float64),
				float64(a), float64(b), any(&acc).(*[16]float64))
		}
	}
	for ; i < n; i++ {
		acc[i%P] += T(g[i] * (x[i] - h[i]))
		gh[i] = b * g[i]
		gx[i] = a * g[i]
	}
	return pairwiseSum(&acc, P)
}

// sum returns Σ_c r[c]: the first len(r) rounded down to a multiple of P
// elements in P interleaved partial sums (element c into sum c mod P;
// P = partials), the rest added to sum 0 in order, then the P sums added
// pairwise. A fixed order, the same on the assembly (float32) and the
// pure-Go path.
func sum[T float](r []T) T {
	P := partials[T]()
	var acc [16]T
	n := len(r) &^ (P - 1)
	if f, ok := any(r[:n]).([]float32); ok && useAVX2 {
		sumAVX2F32(f, any(&acc).(*[16]float32))
	} else if P == 4 {
		// The float64 loop: four named sums stay in registers.
		var s0, s1, s2, s3 T
		for c := 0; c < n; c += 4 {
			s0 += r[c]
			s1 += r[c+1]
			s2 += r[c+2]
			s3 += r[c+3]
		}
		acc[0], acc[1], acc[2], acc[3] = s0, s1, s2, s3
	} else {
		for c := range n {
			acc[c%P] += r[c]
		}
	}
	for _, v := range r[n:] {
		acc[0] += v
	}
	return pairwiseSum(&acc, P)
}

// pairwiseSum returns acc[0] + … + acc[n−1] added pairwise (n a power of
// 2 ≤ 16): (s0+s1)+(s2+s3) and so on, a balanced tree over neighbours. It
// works in place, level by level, so it costs n−1 additions and no calls.
func pairwiseSum[T float](acc *[16]T, n int) T {
	for w := 1; w < n; w *= 2 {
		for i := 0; i+w < n; i += 2 * w {
			acc[i] += acc[i+w]
		}
	}
	return acc[0]
}
