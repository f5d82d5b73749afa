// ops.cu: the elementwise and indexing kernels of the backend (kernels.Backend
// Fill, Copy, Add, Diff, AllFinite, Inputs, Gather, ScatterAdd, GatherRows,
// ScatterAddRows, Adam). Grid-stride loops: any grid gives the same result,
// and no two threads write one element.
#include "cuda.cuh"

// fill_f32: x[k] = v for k < n.
extern "C" __global__ void fill_f32(f32* x, i64 n, double v) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		x[k] = (f32)v;
	}
}

// copy_f32: dst[k] = src[k] for k < n.
extern "C" __global__ void copy_f32(f32* dst, const f32* src, i64 n) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		dst[k] = src[k];
	}
}

// add_f32: dst[k] = a[k] + b[k] for k < n (dst may be a or b).
extern "C" __global__ void add_f32(f32* dst, const f32* a, const f32* b, i64 n) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		dst[k] = a[k] + b[k];
	}
}

// diff_f32: dst[k] = (a[k] − b[k]) / d for k < n, in double, rounded.
extern "C" __global__ void diff_f32(f32* dst, const f32* a, const f32* b, i64 n, double d) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		dst[k] = (f32)(((double)a[k] - (double)b[k]) / d);
	}
}

// not_finite_f32 sets flag[0] = 0 when some x[k], k < n, is NaN or ±Inf
// (AllFinite: the flag holds 1 before the launch). Every writer writes the
// same value, so the result does not depend on their order.
extern "C" __global__ void not_finite_f32(const f32* x, i64 n, f32* flag) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		if (!isfinite(x[k])) {
			flag[0] = 0;
		}
	}
}

// inputs_f32 assembles network inputs x (F+1 rows of npts): for k < npts,
// q = pts[k] (k when pts is null), node i = q mod n, frame f = frames[q / n],
//
//	x[j·npts + k] = feat[j·n + i]  (j < F),   x[F·npts + k] = times[f].
extern "C" __global__ void inputs_f32(f32* x, i64 npts, const f32* feat, i64 n, i64 F, const f32* times, const i32* frames,
				      const i32* pts) {
	for (i64 k = grid_index(); k < npts; k += grid_stride()) {
		i64 q = pts ? pts[k] : k, i = q % n;
		for (i64 j = 0; j < F; j++) {
			x[j * npts + k] = feat[j * n + i];
		}
		x[F * npts + k] = times[frames[q / n]];
	}
}

// gather_f32: dst[k] = src[idx[k]] for k < n.
extern "C" __global__ void gather_f32(f32* dst, const f32* src, const i32* idx, i64 n) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		dst[k] = src[idx[k]];
	}
}

// scatter_add_f32: dst[idx[k]] += src[k] for k < n; the indices are distinct,
// so each element is written by one thread.
extern "C" __global__ void scatter_add_f32(f32* dst, const f32* src, const i32* idx, i64 n) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		dst[idx[k]] += src[k];
	}
}

// gather_rows_f32: row b of dst (B x cols) = row rows[b] of src.
extern "C" __global__ void gather_rows_f32(f32* dst, const f32* src, const i32* rows, i64 B, i64 cols) {
	for (i64 q = grid_index(); q < B * cols; q += grid_stride()) {
		dst[q] = src[(i64)rows[q / cols] * cols + q % cols];
	}
}

// scatter_add_rows_f32: row rows[b] of dst += row b of src (B x cols); the
// rows are distinct.
extern "C" __global__ void scatter_add_rows_f32(f32* dst, const f32* src, const i32* rows, i64 B, i64 cols) {
	for (i64 q = grid_index(); q < B * cols; q += grid_stride()) {
		dst[(i64)rows[q / cols] * cols + q % cols] += src[q];
	}
}

// adam_f32: step t of Adam (Kingma & Ba 2015, PyTorch's form) on n float32
// parameters, each element in double and rounded:
//
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	p −= step · m / (√v/bc2 + ε),   step = lr/(1−β1^t), bc2 = √(1−β2^t)
extern "C" __global__ void adam_f32(f32* p, const f32* g, f32* m, f32* v, i64 n, double step, double beta1, double beta2,
				    double bc2, double eps) {
	for (i64 k = grid_index(); k < n; k += grid_stride()) {
		double gk = g[k];
		double mk = beta1 * m[k] + (1 - beta1) * gk;
		double vk = beta2 * v[k] + (1 - beta2) * gk * gk;
		m[k] = (f32)mk;
		v[k] = (f32)vk;
		p[k] = (f32)(p[k] - step * mk / (sqrt(vk) / bc2 + eps));
	}
}
