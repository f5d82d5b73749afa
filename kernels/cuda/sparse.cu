// sparse.cu: the mesh operators (CSR, e.g. the Eq. 15 Laplacian and its
// transpose) on many frames at once, and the Eq. 17–18 time stencil and its
// adjoint. Every output is computed by one thread in a fixed order: no
// atomics, deterministic. References: kernels.Backend's SpMMRows,
// SpMMRowsAdjoint, TimeDeriv and TimeDerivAdjoint.
#include "cuda.cuh"

// csr_spmm_f32 applies a CSR matrix (rows x cols; rowptr, colidx int32) to
// nvec vectors: for v < nvec (grid y) and i < rows,
//
//	dst[dr(v)·ldd + i] = alpha · Σ_{e in row i} val[e] · x[xr(v)·ldx + colidx[e]]
//	                     + beta · dst[dr(v)·ldd + i]
//
// with dr(v) = drows[v] and xr(v) = xrows[v] when those row maps are given,
// else v: SpMMRows is A on the batch rows of the window (xrows), its adjoint
// Aᵀ (uploaded as a second CSR) added (beta = 1) into the batch rows of the
// window gradient (drows). With beta = 0 the old value is not read.
extern "C" __global__ void csr_spmm_f32(f32* dst, i64 ldd, const i32* drows, const f32* x, i64 ldx, const i32* xrows,
					const i32* rowptr, const i32* colidx, const f32* val, i64 rows, double alpha,
					double beta) {
	i64 v = blockIdx.y;
	const f32* xv = x + (xrows ? xrows[v] : v) * ldx;
	f32* dv = dst + (drows ? drows[v] : v) * ldd;
	for (i64 i = grid_index(); i < rows; i += grid_stride()) {
		f32 s = 0;
		for (i32 e = rowptr[i]; e < rowptr[i + 1]; e++) {
			s += val[e] * xv[colidx[e]];
		}
		f32 r = (f32)alpha * s;
		dv[i] = beta == 0 ? r : r + (f32)beta * dv[i];
	}
}

// time_deriv_f32 is the Eq. 17–18 time derivative at the B batch frames:
// for b < B, i < n, t = frames[b], with w the uploaded stencil weights
// (T x 5: frame t's weights at w[t·5 … t·5+4]),
//
//	s = Σ_{j<5, in order} w[t·5+j] · src[srcRows[b·5+j]·n + i];  dst[b·n + i] = s / tau
//
// where srcRows[b·5+j] is the row of src (the window) holding frame
// start[t]+j (kernels.Backend.TimeDeriv).
extern "C" __global__ void time_deriv_f32(f32* dst, const f32* src, i64 n, i64 B, const i32* frames, const i32* srcRows,
					  const f32* w, double tau) {
	for (i64 q = grid_index(); q < B * n; q += grid_stride()) {
		i64 b = q / n, i = q % n;
		const f32* wt = w + (i64)frames[b] * 5;
		f32 s = 0;
		for (int j = 0; j < 5; j++) {
			s += wt[j] * src[(i64)srcRows[b * 5 + j] * n + i];
		}
		dst[q] = s / (f32)tau;
	}
}

// time_deriv_adj_f32 adds the transpose of time_deriv_f32 into the window
// dst (W x n): for window row r and node i, over b < B in order and j < 5 in
// order, with x = g[b·n + i] / tau,
//
//	dst[r·n + i] += w[frames[b]·5 + j] · x   where srcRows[b·5+j] = r
//
// — the CPU's order for each element; one thread per element of dst.
extern "C" __global__ void time_deriv_adj_f32(f32* dst, const f32* g, i64 n, i64 W, i64 B, const i32* frames,
					      const i32* srcRows, const f32* w, double tau) {
	for (i64 q = grid_index(); q < W * n; q += grid_stride()) {
		i64 r = q / n, i = q % n;
		f32 acc = dst[q];
		for (i64 b = 0; b < B; b++) {
			const f32* wt = w + (i64)frames[b] * 5;
			f32 x = g[b * n + i] / (f32)tau;
			for (int j = 0; j < 5; j++) {
				if (srcRows[b * 5 + j] == r) {
					acc += wt[j] * x;
				}
			}
		}
		dst[q] = acc;
	}
}
