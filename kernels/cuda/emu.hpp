// emu.hpp: run CUDA C kernels on the CPU (the emulator of package
// kernels/cuda). The .cu sources are compiled by g++ -std=c++20 against this
// header instead of nvcc; emu.cc launches them.
//
// Execution model. A launch runs its blocks one after another, in increasing
// linear block index (x fastest). The threads of a block are fibers on one OS
// thread: each runs until it reaches __syncthreads or returns, then the next
// runs; when every thread of the block waits at the barrier (or has
// returned: it leaves the barrier) the barrier opens. The
// order in which the threads run alternates between barriers, ascending then
// descending, so that a missing __syncthreads between a write to shared memory
// and another thread's read of it shows up as a wrong result whichever
// neighbour the read goes to. All threads waiting at one barrier must have
// called the same __syncthreads (file and line); otherwise the launch fails.
// (Fibers instead of one OS thread per GPU thread: 128 OS threads meeting at a
// std::barrier cost about 1 ms per barrier on a loaded 2-core machine, a
// fiber switch about 40 ns.) threadIdx, blockIdx, blockDim and gridDim are
// set by the scheduler. __shared__ variables are function-local statics: one
// copy, which is the block's shared memory because only one block runs at a
// time; dynamic shared memory (dyn_shared in cuda.cuh) is one buffer per
// launch. Atomics map to std::atomic_ref.
//
// What kernels must avoid (the emulator cannot honour it, or honours it only
// by accident):
//   - warp-synchronous code: __shfl*_sync, __ballot_sync, __syncwarp, warp
//     votes, and any reliance on 32 threads running in lockstep (threads here
//     are independent; synchronize through shared memory and __syncthreads);
//   - __syncthreads inside divergent code (threads of a block waiting at
//     different barriers): undefined on a GPU, an error here; and a thread
//     returning while others will still meet at a barrier, which CUDA's
//     rules leave undefined too (the kernels keep every thread to the end,
//     with a `valid` flag for threads past the data);
//   - communication between blocks inside a launch (spin-waits on flags set
//     by other blocks, grid-wide sync, cooperative launches): blocks run in
//     turn here, so a block waiting for a later one never returns;
//   - kernel parameters other than 8-byte values (pointers, long long,
//     double): gorgonia.org/cu passes every argument as 8 bytes (emu.cc
//     refuses other kernels at compile time);
//   - `extern __shared__` (use dyn_shared<T>() from cuda.cuh), static
//     __shared__ variables with initializers, __constant__ memory, textures,
//     printf, device-side malloc, dynamic parallelism;
//   - floating-point results that depend on the order of atomics (float
//     atomicAdd in a reduction): the order differs from run to run, here and
//     on the GPU; reductions go through shared memory in a fixed order;
//   - intrinsics not defined below (add a shim here first).
// Arithmetic: g++ does not contract a*b+c into fma on x86-64 without -mfma
// while nvcc does, so results agree with the GPU to rounding, not bitwise.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static

struct uint3 {
	unsigned x, y, z;
};

struct dim3 {
	unsigned x = 1, y = 1, z = 1;
};

inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

namespace emu {

// The dynamic shared memory of the running launch (set by emu.cc).
inline unsigned char* dynamic_shared;

// sync_threads suspends the running thread at the barrier of file:line until
// every thread of its block waits there or has returned (emu.cc).
void sync_threads(const char* file, int line);

} // namespace emu

#define __syncthreads() emu::sync_threads(__FILE__, __LINE__)

// Atomics: read-modify-write through std::atomic_ref, returning the old
// value (the ones the kernels use; add others here first).
template <class T>
inline T atomicAdd(T* p, T v) {
	return std::atomic_ref<T>(*p).fetch_add(v);
}
template <class T>
inline T atomicOr(T* p, T v) {
	return std::atomic_ref<T>(*p).fetch_or(v);
}
template <class T>
inline T atomicMax(T* p, T v) {
	std::atomic_ref<T> a(*p);
	T old = a.load();
	while (old < v && !a.compare_exchange_weak(old, v)) {
	}
	return old;
}

// Math: the device functions the kernels use that C++ spells differently
// (add shims here before using other intrinsics such as __expf or fmaf).
using std::isfinite;
using std::max;
using std::min;
