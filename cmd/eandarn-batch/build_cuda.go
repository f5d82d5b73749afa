//go:build cuda

package main

// The CUDA build (make cuda: bin/eandarn-batch-cuda) registers the "cuda"
// backend; it links libcuda.so.1 and cannot start on a node without the
// driver, so the CPU build's gpu.Handoff starts it where a card is usable.
import _ "github.com/eandarn/eandarn/kernels/cuda"
