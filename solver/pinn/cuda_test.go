//go:build cuda

package pinn

// The CUDA build's tests (make gpu-check) register the backend of the card.
import _ "github.com/eandarn/eandarn/kernels/cuda"

// deviceBackend is the CUDA backend of these tests: the card here, the CPU
// emulator of its kernels without -tags cuda (emulator_test.go).
const deviceBackend = "cuda"
