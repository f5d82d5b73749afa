package nn_test

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/solver/nn"
)

// The AD losses need u_t and Δu = u_xx + u_yy + u_zz at collocation points:
// one first direction (t) and three second directions (x, y, z).
func Example_jets() {
	cfg, _ := nn.Preset("NN6")
	norm := nn.BoxNormalizer([4]float64{-50, -50, -50, 0}, [4]float64{50, 50, 50, 56})
	net, _ := nn.New(cfg, norm, 1)

	x := []float64{10, -5, 20, 3.5, 0, 0, 0, 28} // two points [x, y, z, t]
	const npts = 2
	axis := func(j int) []float64 {
		d := make([]float64, npts*nn.In)
		for p := range npts {
			d[p*nn.In+j] = 1
		}
		return d
	}
	d1 := [][]float64{axis(3)}                   // ∂/∂t
	d2 := [][]float64{axis(0), axis(1), axis(2)} // ∂²/∂x², ∂²/∂y², ∂²/∂z²
	y := make([]float64, npts*nn.Out)
	dy1 := [][]float64{make([]float64, npts*nn.Out)}
	dy2 := [][]float64{make([]float64, npts*nn.Out), make([]float64, npts*nn.Out), make([]float64, npts*nn.Out)}
	var ws nn.Workspace
	if err := net.ForwardJet(&ws, x, d1, d2, y, dy1, dy2); err != nil {
		fmt.Println(err)
		return
	}
	for p := range npts {
		lap := dy2[0][p*nn.Out] + dy2[1][p*nn.Out] + dy2[2][p*nn.Out]
		finite := !math.IsNaN(lap) && !math.IsInf(lap, 0) && !math.IsNaN(dy1[0][p*nn.Out])
		fmt.Printf("point %d: u_t and Δu are finite: %v\n", p, finite)
	}

	// Reverse mode: dL/dθ of L = Σ_p u_t(p) (adjoint 1 on u_t, 0 elsewhere).
	gd1 := [][]float64{{1, 0, 1, 0}}
	grad := make([]float64, net.NumParams())
	if err := net.BackwardJet(&ws, nil, gd1, nil, grad); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("parameters:", net.NumParams(), "alphas:", net.Alphas())
	// Output:
	// point 0: u_t and Δu are finite: true
	// point 1: u_t and Δu are finite: true
	// parameters: 2030 alphas: [0.5 0.5 0.5]
}
