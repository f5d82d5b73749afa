//go:build !cuda

package pinn

import "github.com/eandarn/eandarn/kernels/cuda"

// deviceBackend is the CUDA backend of these tests: the CPU emulator of its
// kernels here, the card under -tags cuda (cuda_test.go). Registered, it is
// also one of the backends of TestStepOnBackends.
const deviceBackend = "emulator"

func init() { cuda.RegisterEmulator() }
