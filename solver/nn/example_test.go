package nn_test

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/nn"
)

// The AD losses need u_t and Δu = u_xx + u_yy + u_zz at collocation points:
// one first direction (t) and three second directions (x, y, z), on a
// compute backend.
func Example_jets() {
	cfg, _ := nn.Preset("NN6")
	norm := nn.BoxNormalizer([]float64{-50, -50, -50, 0}, []float64{50, 50, 50, 56})
	net, _ := nn.New(cfg, norm, 1)
	be, _ := kernels.Open("cpu", kernels.Options{})
	defer be.Close()

	const npts, k1, k2 = 2, 1, 3
	pass, err := be.NewNet(net.Spec(), kernels.NetOptions{Compute: kernels.F64, IO: kernels.F64,
		First: k1, Second: k2, MaxPoints: npts, Tape: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	upload := func(v []float64) kernels.View {
		b, _ := be.Alloc(kernels.F64, len(v))
		be.Upload(kernels.Whole(b), v)
		return kernels.Whole(b)
	}
	axis := func(j int) kernels.Mat { // the unit vector along input j at every point
		d := make([]float64, 4*npts)
		for p := range npts {
			d[j*npts+p] = 1
		}
		return upload(d).Mat(4, npts)
	}
	params := upload(net.Params)
	x := upload([]float64{10, 0, -5, 0, 20, 0, 3.5, 28}).Mat(4, npts) // two points [x, y, z, t], one coordinate per row
	dirs := []kernels.Mat{axis(3), axis(0), axis(1), axis(2)}         // ∂/∂t; ∂²/∂x², ∂²/∂y², ∂²/∂z²
	const rows = (1 + k1 + k2) * nn.Out
	y := upload(make([]float64, rows*npts)).Mat(rows, npts)
	if err := pass.Forward(params, x, dirs, y); err != nil {
		fmt.Println(err)
		return
	}
	out := make([]float64, rows*npts)
	be.Download(out, y.View)
	at := func(c, o, p int) float64 { return out[(c*nn.Out+o)*npts+p] } // channel c, output o (0: u), point p
	for p := range npts {
		ut, lap := at(1, 0, p), at(2, 0, p)+at(3, 0, p)+at(4, 0, p)
		fmt.Printf("point %d: u_t and Δu are finite: %v\n", p, !math.IsNaN(ut+lap) && !math.IsInf(ut+lap, 0))
	}

	// Reverse mode: dL/dθ of L = Σ_p u_t(p) (adjoint 1 on u_t, 0 elsewhere).
	gy := make([]float64, rows*npts)
	for p := range npts {
		gy[(1*nn.Out+0)*npts+p] = 1
	}
	grad := upload(make([]float64, net.NumParams()))
	if err := pass.Backward(params, upload(gy).Mat(rows, npts), grad); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("parameters:", net.NumParams(), "alphas:", net.Alphas())
	// Output:
	// point 0: u_t and Δu are finite: true
	// point 1: u_t and Δu are finite: true
	// parameters: 2030 alphas: [0.5 0.5 0.5]
}
