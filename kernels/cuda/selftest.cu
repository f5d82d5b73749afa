// selftest.cu: kernels that exercise the execution model itself (barriers,
// shared memory, atomics, early exit, indices, dynamic shared memory). The Go
// tests run them on the emulator (emu_test.go) and, in make gpu-check, on the
// device, with the same expected results.
#include "cuda.cuh"

// selftest_barrier: rounds of neighbour exchange through shared memory. In
// round r every thread adds its right neighbour's value of round r−1; without
// working barriers a thread reads a value of the wrong round. Block size ≤ 1024.
extern "C" __global__ void selftest_barrier(i64* out, i64 rounds) {
	__shared__ i64 s[1024];
	unsigned n = blockDim.x, t = threadIdx.x;
	i64 v = t;
	for (i64 r = 0; r < rounds; r++) {
		s[t] = v;
		__syncthreads();
		v += s[(t + 1) % n];
		__syncthreads();
	}
	out[(i64)blockIdx.x * n + t] = v;
}

// selftest_block_sum: each block sums its chunk of x (blockDim.x values per
// block, a power of two) by a shared-memory tree into out[blockIdx.x].
extern "C" __global__ void selftest_block_sum(const double* x, double* out, i64 n) {
	__shared__ double s[1024];
	unsigned t = threadIdx.x;
	i64 i = grid_index();
	s[t] = i < n ? x[i] : 0;
	__syncthreads();
	for (unsigned h = blockDim.x / 2; h > 0; h /= 2) {
		if (t < h) {
			s[t] += s[t + h];
		}
		__syncthreads();
	}
	if (t == 0) {
		out[blockIdx.x] = s[0];
	}
}

// selftest_atomics: every thread of the grid adds 1 to counts[0] (int), 1.0f
// to fsum[0] (exact in float up to 2^24), and raises counts[1] to its global
// index with atomicMax.
extern "C" __global__ void selftest_atomics(i32* counts, f32* fsum) {
	atomicAdd(&counts[0], 1);
	atomicAdd(&fsum[0], 1.0f);
	atomicMax(&counts[1], (i32)grid_index());
}

// selftest_indices: every thread of a 3-D grid of 3-D blocks writes its
// coordinates, packed, at its linear position.
extern "C" __global__ void selftest_indices(i64* out) {
	i64 b = ((i64)blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
	i64 t = ((i64)threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
	i64 nt = (i64)blockDim.x * blockDim.y * blockDim.z;
	out[b * nt + t] = ((((i64)blockIdx.x * 64 + blockIdx.y) * 64 + blockIdx.z) * 64 + threadIdx.x) * 4096 +
			  threadIdx.y * 64 + threadIdx.z;
}

// selftest_reverse: each block reverses its chunk of blockDim.x values
// through dynamic shared memory.
extern "C" __global__ void selftest_reverse(const f32* x, f32* out) {
	f32* s = dyn_shared<f32>();
	unsigned t = threadIdx.x, n = blockDim.x;
	i64 base = (i64)blockIdx.x * n;
	s[t] = x[base + t];
	__syncthreads();
	out[base + t] = s[n - 1 - t];
}

#ifndef __CUDACC__
// selftest_early_exit: threads t ≥ keep return at once; the others meet at
// several barriers and sum the shared values of the threads that stayed.
// CUDA leaves this undefined, so it is not compiled for the GPU; the
// emulator lets the returned threads leave the barrier.
extern "C" __global__ void selftest_early_exit(i64* out, i64 keep) {
	__shared__ i64 s[1024];
	unsigned t = threadIdx.x;
	if (t >= keep) {
		return;
	}
	s[t] = t + 1;
	__syncthreads();
	i64 sum = 0;
	for (i64 k = 0; k < keep; k++) {
		sum += s[k];
	}
	__syncthreads();
	s[t] = 0;
	__syncthreads();
	out[(i64)blockIdx.x * blockDim.x + t] = sum;
}

// selftest_divergent: the threads of a block wait at two different
// barriers. Undefined on a GPU (so not compiled for it); the emulator must
// refuse it.
extern "C" __global__ void selftest_divergent(i64* out) {
	if (threadIdx.x % 2 == 0) {
		__syncthreads();
	} else {
		__syncthreads();
	}
	out[threadIdx.x] = 1;
}
#endif
