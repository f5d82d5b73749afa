// cuda.cuh: what every .cu file of package kernels/cuda includes first. Under
// nvcc it is plain CUDA; under g++ (the emulator, emu.cc) it pulls in
// emu.hpp. Kernels are written against the intersection: see emu.hpp for the
// constructs to avoid.
//
// Conventions of the kernels:
//   - every kernel is extern "C" (unmangled names, looked up by the Go driver)
//     and takes only 8-byte parameters: pointers, long long (i64) and double;
//   - data are float32 on the device (f32), index arrays int32 (i32),
//     reductions accumulate in double where the result must be accurate;
//   - dynamic shared memory through dyn_shared<T>(), never extern __shared__.
#pragma once

#ifdef __CUDACC__
template <class T>
__device__ __forceinline__ T* dyn_shared() {
	extern __shared__ __align__(16) unsigned char eandarn_dyn_shared[];
	return reinterpret_cast<T*>(eandarn_dyn_shared);
}
#else
#include "emu.hpp"
template <class T>
inline T* dyn_shared() {
	return reinterpret_cast<T*>(emu::dynamic_shared);
}
#endif

typedef long long i64;
typedef float f32;
typedef int i32;

// The linear index of this thread in the grid along x and the grid's stride:
// the grid-stride loop of the elementwise kernels.
__device__ __forceinline__ i64 grid_index() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ i64 grid_stride() { return (i64)gridDim.x * blockDim.x; }
