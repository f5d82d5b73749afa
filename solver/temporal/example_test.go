package temporal_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/temporal"
)

// The stencils of Eq. 17–18 for 6 frames (unit spacing, times 12).
func ExampleWeights() {
	for t := 0; t < 6; t++ {
		start, w := temporal.Weights(t, 6)
		fmt.Println(t, start, w[0]*12, w[1]*12, w[2]*12, w[3]*12, w[4]*12)
	}
	// Output:
	// 0 0 -25 48 -36 16 -3
	// 1 0 -3 -10 18 -6 1
	// 2 0 1 -8 0 8 -1
	// 3 1 1 -8 0 8 -1
	// 4 1 -1 6 -18 10 3
	// 5 1 3 -16 36 -48 25
}

// Differentiating t² (one node, 5 frames at τ = 0.5) is exact.
func ExampleApply() {
	u := mat.NewDense(1, 5, []float64{0, 0.25, 1, 2.25, 4})
	du := mat.NewDense(1, 5, nil)
	temporal.Apply(du, u, 0.5)
	fmt.Printf("%.10g\n", du.RawRowView(0))
	// Output: [0 1 2 3 4]
}
