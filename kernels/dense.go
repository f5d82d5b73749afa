package kernels

// This file holds the slice-level reference kernels for small dense layers
// over many points. Matrices of activations are feature-major: feature j of
// column c lives at x[j*ldx+c], so the inner loops run over contiguous
// columns (points, or points times Taylor channels in solver/nn). Weights are
// row-major out x in: w[i*in+j]. The backend ops and solver/nn's fused
// per-block network passes are built from these loops; a device backend
// implements the same formulas.
//
// The kernels are generic over the element type. The loops of the pure-Go
// path are written once; the assembly has one function per type, chosen by
// the type switches of the small dispatch helpers below (each instantiation
// takes one branch, so the dispatch costs a type comparison per call).

// float is the element type of the slice-level kernels.
type float interface{ float32 | float64 }

// lanes returns the number of T in a 32-byte YMM register: the column
// granularity of the assembly kernels.
func lanes[T float]() int {
	var v T
	if _, ok := any(v).(float32); ok {
		return 8
	}
	return 4
}

// matMul computes, for i < out and c < ncols,
//
//	z[i*ldz+c] = Σ_{j<in} w[i*in+j] · x[j*ldx+c]
//
// overwriting z (j in increasing order). z must not alias x. With AVX2 the
// rows go three at a time, sharing the loads of x (matVec3).
func matMul[T float](out, in, ncols int, w, x []T, ldx int, z []T, ldz int) {
	i := 0
	if useAVX2 && in > 0 && ncols > 0 {
		for ; i+3 <= out; i += 3 {
			matVec3(z[i*ldz:i*ldz+ncols], ldz, w[i*in:], in, 1, in, x, ldx)
		}
	}
	for ; i < out; i++ {
		matVec(z[i*ldz:i*ldz+ncols], w[i*in:], 1, in, x, ldx)
	}
}

// matMulT computes the transposed product (the input adjoint of a dense
// layer), for j < in and c < ncols,
//
//	gx[j*ldx+c] = Σ_{i<out} w[i*in+j] · gz[i*ldz+c]
//
// overwriting gx (i in increasing order). gx must not alias gz. With AVX2
// the rows go three at a time (matVec3).
func matMulT[T float](out, in, ncols int, w, gz []T, ldz int, gx []T, ldx int) {
	j := 0
	if useAVX2 && out > 0 && ncols > 0 {
		for ; j+3 <= in; j += 3 {
			matVec3(gx[j*ldx:j*ldx+ncols], ldx, w[j:], 1, in, out, gz, ldz)
		}
	}
	for ; j < in; j++ {
		matVec(gx[j*ldx:j*ldx+ncols], w[j:], in, out, gz, ldz)
	}
}

// matVec3 is three matVecs at once: for r < 3 and c < len(z),
// z[r*ldz+c] = Σ_{j<n} w[r*dw+j*ldw] · x[j*ldx+c], each element the same
// chain of operations as matVec's (the same bits), the loads of x shared.
// It runs the AVX2 kernels; n ≥ 1.
func matVec3[T float](z []T, ldz int, w []T, dw, ldw, n int, x []T, ldx int) {
	nc := len(z)
	// Bounds for the assembly, which does not check them.
	_ = z[:2*ldz+nc]
	_ = w[2*dw+(n-1)*ldw]
	_ = x[(n-1)*ldx+nc-1]
	switch z := any(z).(type) {
	case []float32:
		matVec3AVX2F32(z, ldz, any(w).([]float32), dw, ldw, n, any(x).([]float32), ldx)
	case []float64:
		matVec3AVX2(z, ldz, any(w).([]float64), dw, ldw, n, any(x).([]float64), ldx)
	}
}

// matVec computes z[c] = Σ_{j<n} w[j*ldw] · x[j*ldx+c] for c < len(z), j in
// increasing order, with the AVX2 kernel when the CPU has it.
func matVec[T float](z, w []T, ldw, n int, x []T, ldx int) {
	if n == 0 {
		clear(z)
		return
	}
	// Bounds for the assembly, which does not check them.
	_ = w[(n-1)*ldw]
	_ = x[(n-1)*ldx+len(z)-1]
	if useAVX2 {
		switch z := any(z).(type) {
		case []float32:
			matVecAVX2F32(z, any(w).([]float32), ldw, n, any(x).([]float32), ldx)
		case []float64:
			matVecAVX2(z, any(w).([]float64), ldw, n, any(x).([]float64), ldx)
		}
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

// outerAcc accumulates the weight adjoint of a dense layer, for i < out and
// j < in,
//
//	gw[i*in+j] += Σ_{c<ncols} gz[i*ldz+c] · x[j*ldx+c]
//
// with a fixed summation order (deterministic). With AVX2, in float32,
// tiles of 3 rows of gz by 4 rows of x (outer3x4AVX2F32; the last tiles
// repeat a row to fill up) cover every (i, j): each sum in 8 lanes over the
// columns in multiples of 8, the lanes added pairwise, then the remaining
// columns in order. In float64, tiles of 2 rows by 4 (outer2x4AVX2) cover
// what they can and dot the rest.
func outerAcc[T float](out, in, ncols int, gz []T, ldz int, x []T, ldx int, gw []T) {
	if useAVX2 && ncols >= 8 {
		if g, ok := any(gz).([]float32); ok {
			outerAcc3x4(out, in, ncols, g, ldz, any(x).([]float32), ldx, any(gw).([]float32))
			return
		}
	}
	i := 0
	if nl := lanes[T](); useAVX2 && ncols >= nl {
		nv := ncols &^ (nl - 1)
		var acc [8]T
		for ; i+2 <= out; i += 2 {
			z0, z1 := gz[i*ldz:i*ldz+ncols], gz[(i+1)*ldz:(i+1)*ldz+ncols]
			j := 0
			for ; j+4 <= in; j += 4 {
				_ = x[(j+3)*ldx+ncols-1] // bounds for the assembly
				outer2x4(z0[:nv], z1[:nv], x[j*ldx:], ldx, &acc)
				for k := range 4 {
					xk := x[(j+k)*ldx : (j+k)*ldx+ncols]
					s0, s1 := acc[k], acc[4+k]
					for c := nv; c < ncols; c++ {
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

// outerAcc3x4 is outerAcc in float32 with AVX2 and ncols ≥ 8: tiles of 3
// rows of gz by 4 rows of x; a tile at the last rows or columns repeats the
// last one and drops the repeated sums.
func outerAcc3x4(out, in, ncols int, gz []float32, ldz int, x []float32, ldx int, gw []float32) {
	nv := ncols &^ 7
	var acc [12]float32
	var z [3][]float32
	var xs [4][]float32
	for i := 0; i < out; i += 3 {
		for r := range 3 {
			ir := min(i+r, out-1)
			z[r] = gz[ir*ldz : ir*ldz+ncols]
		}
		for j := 0; j < in; j += 4 {
			for k := range 4 {
				jk := min(j+k, in-1)
				xs[k] = x[jk*ldx : jk*ldx+ncols]
			}
			outer3x4AVX2F32(z[0][:nv], z[1][:nv], z[2][:nv], xs[0][:nv], xs[1][:nv], xs[2][:nv], xs[3][:nv], &acc)
			for r := range min(3, out-i) {
				for k := range min(4, in-j) {
					s, zr, xk := acc[r*4+k], z[r], xs[k]
					for c := nv; c < ncols; c++ {
						s += zr[c] * xk[c]
					}
					gw[(i+r)*in+j+k] += s
				}
			}
		}
	}
}

// outer2x4 runs the outer2x4AVX2 kernel of T: acc[r*4+k] = Σ_c a_r[c]·x[k*ldx+c]
// for r < 2, k < 4, len(a0) a multiple of lanes[T]().
func outer2x4[T float](a0, a1, x []T, ldx int, acc *[8]T) {
	switch a0 := any(a0).(type) {
	case []float32:
		outer2x4AVX2F32(a0, any(a1).([]float32), any(x).([]float32), ldx, any(acc).(*[8]float32))
	case []float64:
		outer2x4AVX2(a0, any(a1).([]float64), any(x).([]float64), ldx, any(acc).(*[8]float64))
	}
}

// dot returns Σ a[c]·b[c] over len(a) ≤ len(b), in a fixed order.
func dot[T float](a, b []T) T {
	b = b[:len(a)]
	if useAVX2 {
		switch a := any(a).(type) {
		case []float32:
			return T(dotAVX2F32(a, any(b).([]float32)))
		case []float64:
			return T(dotAVX2(a, any(b).([]float64)))
		}
	}
	var s0, s1, s2, s3 T
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

// rowSumAcc accumulates the bias adjoint of a dense layer, for i < out,
//
//	gb[i] += Σ_{c<ncols} gz[i*ldz+c]
//
// each sum taken by sum (interleaved partial sums in a fixed order:
// deterministic, and not bound by the latency of one chain of additions).
func rowSumAcc[T float](out, ncols int, gz []T, ldz int, gb []T) {
	for i := 0; i < out; i++ {
		gb[i] += sum(gz[i*ldz : i*ldz+ncols])
	}
}
