package kernels_test

import (
	"testing"

	"github.com/eandarn/eandarn/kernels/kerneltest"
)

// TestConformance runs the conformance suite on the CPU backend, in float64
// and float32 (ops and network passes, float32 passes on float64 operands
// included) and for 1, 2 and 3 workers.
func TestConformance(t *testing.T) { kerneltest.Run(t, "cpu") }
