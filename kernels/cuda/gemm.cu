// gemm.cu: the dense products with the transfer matrix R of the data term
// (Eq. 5): Ŷᵀ = R Ûᵀ (mul_abt_f32) and the adjoint E R (gemm_f32), no cuBLAS.
// Every element of a product is summed in a fixed order: deterministic.
// References: kernels.Backend's MulABt and MulAB.
#include "cuda.cuh"

#define GEMM_TILE 16

// gemm_f32 computes C = A B, for i < M and j < N,
//
//	C[i·N + j] = Σ_{k<K} A[i·K + k] · B[k·N + j]
//
// (k in increasing order), tiled through shared memory: blocks of
// GEMM_TILE x GEMM_TILE threads, grid ⌈N/16⌉ x ⌈M/16⌉.
extern "C" __global__ void gemm_f32(i64 M, i64 N, i64 K, const f32* A, const f32* B, f32* C) {
	__shared__ f32 as[GEMM_TILE][GEMM_TILE + 1], bs[GEMM_TILE][GEMM_TILE + 1];
	const unsigned tx = threadIdx.x, ty = threadIdx.y;
	const i64 i = (i64)blockIdx.y * GEMM_TILE + ty, j = (i64)blockIdx.x * GEMM_TILE + tx;
	f32 acc = 0;
	for (i64 k0 = 0; k0 < K; k0 += GEMM_TILE) {
		// as[ty][tx] = A(i, k0+tx); bs[ty][tx] = B(k0+ty, j).
		i64 ak = k0 + tx, bk = k0 + ty;
		as[ty][tx] = i < M && ak < K ? A[i * K + ak] : 0;
		bs[ty][tx] = bk < K && j < N ? B[bk * N + j] : 0;
		__syncthreads();
		for (int kk = 0; kk < GEMM_TILE; kk++) {
			acc += as[ty][kk] * bs[kk][tx];
		}
		__syncthreads();
	}
	if (i < M && j < N) {
		C[i * N + j] = acc;
	}
}

#define ABT_COLS 8  // columns of C per block
#define ABT_BS 128  // threads per block: the launch must use it

// mul_abt_f32 computes C = A Bᵀ for a long inner dimension and few columns
// (R Ûᵀ: 352 leads x 8 frames over 1094 nodes): for i < M, j < N,
//
//	C[i·N + j] = Σ_{k<K} A[i·K + k] · B[j·K + k]
//
// Block (x, y) computes row i = y, columns 8x … 8x+7: thread t adds the terms
// k = t, t+128, … in order (loads coalesced along k), then the block adds the
// 128 partial sums of each column by a shared-memory tree. Grid ⌈N/8⌉ x M.
extern "C" __global__ void mul_abt_f32(i64 M, i64 N, i64 K, const f32* A, const f32* B, f32* C) {
	__shared__ f32 s[ABT_COLS][ABT_BS];
	const unsigned t = threadIdx.x;
	const i64 i = blockIdx.y, j0 = (i64)blockIdx.x * ABT_COLS;
	const i64 nc = min((i64)ABT_COLS, N - j0);
	f32 acc[ABT_COLS];
	for (int q = 0; q < ABT_COLS; q++) {
		acc[q] = 0;
	}
	for (i64 k = t; k < K; k += ABT_BS) {
		f32 a = A[i * K + k];
		for (int q = 0; q < ABT_COLS; q++) {
			if (q < nc) {
				acc[q] += a * B[(j0 + q) * K + k];
			}
		}
	}
	for (int q = 0; q < ABT_COLS; q++) {
		s[q][t] = acc[q];
	}
	__syncthreads();
	for (unsigned h = ABT_BS / 2; h > 0; h /= 2) {
		if (t < h) {
			for (int q = 0; q < ABT_COLS; q++) {
				s[q][t] += s[q][t + h];
			}
		}
		__syncthreads();
	}
	if (t < nc) {
		C[i * N + j0 + t] = s[t][0];
	}
	(void)M;
}
