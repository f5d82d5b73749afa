// Package cuda is eandarn's CUDA backend: kernels.Backend with every op a
// CUDA C kernel (the .cu files of this folder), in float32 on the device.
//
// One Go implementation (Backend) drives the kernels through a small Device
// seam (allocate, free, copy in, copy out, launch a kernel by name with 8-byte
// arguments), which two devices implement:
//
//   - GPU (build tag cuda, gpu.go): the card through gorgonia.org/cu v0.9.6,
//     the CUDA driver API; the PTX made by make ptx (compute_80, compute_90)
//     is embedded and JIT-compiled by the driver when the device opens. The
//     cuda build registers the backend as "cuda". A binary with the tag links
//     libcuda.so.1 and exits at start where cuInit fails (gorgonia.org/cu's
//     package init); cmd/internal/gpu starts it only where a card is usable.
//   - Emulator (without the tag, emu.go, emu.cc, emu.hpp): the same .cu
//     sources compiled by g++ through cgo and run on the CPU, the threads of
//     a block as fibers meeting at __syncthreads; RegisterEmulator makes it
//     the "emulator" backend of the tests. It checks the kernels' logic
//     (go test runs kernels/kerneltest and the training step on it), not
//     their speed.
//
// The kernels' formulas are those of kernels.Backend (each .cu file names
// the ops it implements); emu.hpp lists the CUDA constructs they avoid so
// that the emulator honours them. The README's GPU section describes the
// -device flag, the make targets and the checks on a GPU node.
package cuda
