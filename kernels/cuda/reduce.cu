// reduce.cu: deterministic sums of the losses. Block b of sum_partial_f64 sums
// the fixed chunk [b·chunk, (b+1)·chunk) of x: thread t adds the elements t,
// t+bs, … of the chunk in order, then the block adds the thread sums by a
// shared-memory tree; sum_final_f32 adds the block sums the same way in one
// block. Nothing depends on scheduling (no float atomics), so the same input
// gives the same bits on every run. Accumulation in double. The block size
// must be a power of two, at most 1024, and the same in both launches.
#include "cuda.cuh"

// block_tree_sum returns, in thread 0, the sum of every thread's v by a
// shared-memory tree (pairs (t, t+h) for h = bs/2, bs/4, …, 1).
__device__ __forceinline__ double block_tree_sum(double v) {
	__shared__ double s[1024];
	unsigned t = threadIdx.x;
	s[t] = v;
	__syncthreads();
	for (unsigned h = blockDim.x / 2; h > 0; h /= 2) {
		if (t < h) {
			s[t] += s[t + h];
		}
		__syncthreads();
	}
	return s[0];
}

// sum_partial_f64: part[b] = Σ x[k] over chunk b, for a grid of ⌈n/chunk⌉
// blocks.
extern "C" __global__ void sum_partial_f64(const double* x, i64 n, i64 chunk, double* part) {
	i64 lo = (i64)blockIdx.x * chunk, hi = min(n, lo + chunk);
	double v = 0;
	for (i64 k = lo + threadIdx.x; k < hi; k += blockDim.x) {
		v += x[k];
	}
	double s = block_tree_sum(v);
	if (threadIdx.x == 0) {
		part[blockIdx.x] = s;
	}
}

// sum_final_f32: out[0] = scale · Σ_{b<nb} part[b], rounded to float32, in
// one block.
extern "C" __global__ void sum_final_f32(const double* part, i64 nb, double scale, f32* out) {
	double v = 0;
	for (i64 b = threadIdx.x; b < nb; b += blockDim.x) {
		v += part[b];
	}
	double s = block_tree_sum(v);
	if (threadIdx.x == 0) {
		out[0] = (f32)(scale * s);
	}
}
