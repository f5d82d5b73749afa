package kernels

// This file holds the slice-level reference kernels for small dense layers
// over many points. Matrices of activations are feature-major: feature j of
// column c lives at x[j*ldx+c], so the inner loops run over contiguous
// columns (points, or points times Taylor channels in solver/nn). Weights are
// row-major out x in: w[i*in+j]. The backend ops and solver/nn's fused
// per-block network passes are built from these loops; a device backend
// implements the same formulas.

// MatMul computes, for i < out and c < ncols,
//
//	z[i*ldz+c] = Σ_{j<in} w[i*in+j] · x[j*ldx+c]
//
// overwriting z (j in increasing order). z must not alias x.
func MatMul(out, in, ncols int, w, x []float64, ldx int, z []float64, ldz int) {
	for i := 0; i < out; i++ {
		matVec(z[i*ldz:i*ldz+ncols], w[i*in:], 1, in, x, ldx)
	}
}

// MatMulT computes the transposed product (the input adjoint of a dense
// layer), for j < in and c < ncols,
//
//	gx[j*ldx+c] = Σ_{i<out} w[i*in+j] · gz[i*ldz+c]
//
// overwriting gx (i in increasing order). gx must not alias gz.
func MatMulT(out, in, ncols int, w, gz []float64, ldz int, gx []float64, ldx int) {
	for j := 0; j < in; j++ {
		matVec(gx[j*ldx:j*ldx+ncols], w[j:], in, out, gz, ldz)
	}
}

// matVec computes z[c] = Σ_{j<n} w[j*ldw] · x[j*ldx+c] for c < len(z), j in
// increasing order, with the AVX2 kernel when the CPU has it.
func matVec(z, w []float64, ldw, n int, x []float64, ldx int) {
	if n == 0 {
		clear(z)
		return
	}
	// Bounds for the assembly, which does not check them.
	_ = w[(n-1)*ldw]
	_ = x[(n-1)*ldx+len(z)-1]
	if useAVX2 {
		matVecAVX2(z, w, ldw, n, x, ldx)
		return
	}
	nc := len(z)
	j := 0
	if n >= 2 {
		w0, w1 := w[0], w[ldw]
		x0, x1 := x[0:nc], x[ldx:ldx+nc]
		for c := range z {
			z[c] = w0*x0[c] + w1*x1[c]
		}
		j = 2
	} else {
		w0, x0 := w[0], x[0:nc]
		for c := range z {
			z[c] = w0 * x0[c]
		}
		j = 1
	}
	for ; j+2 <= n; j += 2 {
		w0, w1 := w[j*ldw], w[(j+1)*ldw]
		x0, x1 := x[j*ldx:j*ldx+nc], x[(j+1)*ldx:(j+1)*ldx+nc]
		for c := range z {
			z[c] += w0*x0[c] + w1*x1[c]
		}
	}
	for ; j < n; j++ {
		wj, xj := w[j*ldw], x[j*ldx:j*ldx+nc]
		for c := range z {
			z[c] += wj * xj[c]
		}
	}
}

// OuterAcc accumulates the weight adjoint of a dense layer, for i < out and
// j < in,
//
//	gw[i*in+j] += Σ_{c<ncols} gz[i*ldz+c] · x[j*ldx+c]
//
// with a fixed summation order (deterministic). With AVX2, tiles of 2 rows
// of gz by 4 rows of x share their loads (outer2x4AVX2) over the columns in
// multiples of 4, and the last ncols mod 4 columns are added in order.
func OuterAcc(out, in, ncols int, gz []float64, ldz int, x []float64, ldx int, gw []float64) {
	i := 0
	if useAVX2 && ncols >= 4 {
		n4 := ncols &^ 3
		var acc [8]float64
		for ; i+2 <= out; i += 2 {
			z0, z1 := gz[i*ldz:i*ldz+ncols], gz[(i+1)*ldz:(i+1)*ldz+ncols]
			j := 0
			for ; j+4 <= in; j += 4 {
				_ = x[(j+3)*ldx+ncols-1] // bounds for the assembly
				outer2x4AVX2(z0[:n4], z1[:n4], x[j*ldx:], ldx, &acc)
				for k := range 4 {
					xk := x[(j+k)*ldx : (j+k)*ldx+ncols]
					s0, s1 := acc[k], acc[4+k]
					for c := n4; c < ncols; c++ {
						s0 += z0[c] * xk[c]
						s1 += z1[c] * xk[c]
					}
					gw[i*in+j+k] += s0
					gw[(i+1)*in+j+k] += s1
				}
			}
			for ; j < in; j++ {
				xj := x[j*ldx : j*ldx+ncols]
				gw[i*in+j] += dot(z0, xj)
				gw[(i+1)*in+j] += dot(z1, xj)
			}
		}
	}
	for ; i < out; i++ {
		zi := gz[i*ldz : i*ldz+ncols]
		for j := 0; j < in; j++ {
			gw[i*in+j] += dot(zi, x[j*ldx:j*ldx+ncols])
		}
	}
}

// dot returns Σ a[c]·b[c] over len(a) ≤ len(b), in a fixed order.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	if useAVX2 {
		return dotAVX2(a, b)
	}
	var s0, s1, s2, s3 float64
	c := 0
	for ; c+4 <= len(a); c += 4 {
		s0 += a[c] * b[c]
		s1 += a[c+1] * b[c+1]
		s2 += a[c+2] * b[c+2]
		s3 += a[c+3] * b[c+3]
	}
	for ; c < len(a); c++ {
		s0 += a[c] * b[c]
	}
	return (s0 + s1) + (s2 + s3)
}

// RowSumAcc accumulates the bias adjoint of a dense layer, for i < out,
//
//	gb[i] += Σ_{c<ncols} gz[i*ldz+c]
//
// with four interleaved partial sums (a fixed order: deterministic, and not
// bound by the latency of one chain of additions).
func RowSumAcc(out, ncols int, gz []float64, ldz int, gb []float64) {
	for i := 0; i < out; i++ {
		r := gz[i*ldz : i*ldz+ncols]
		var s0, s1, s2, s3 float64
		c := 0
		for ; c+4 <= len(r); c += 4 {
			s0 += r[c]
			s1 += r[c+1]
			s2 += r[c+2]
			s3 += r[c+3]
		}
		for ; c < len(r); c++ {
			s0 += r[c]
		}
		gb[i] += (s0 + s1) + (s2 + s3)
	}
}
