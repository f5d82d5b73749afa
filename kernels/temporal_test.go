package kernels

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/temporal"
)

// TestStencilMatchesTemporal builds the Eq. 17–18 stencil from
// temporal.Weights and checks ApplyStencil with scale 1/τ against
// temporal.Apply.
func TestStencilMatchesTemporal(t *testing.T) {
	const n, T, tau = 7, 23, 0.085
	start := make([]int, T)
	w := make([][5]float64, T)
	for f := range T {
		start[f], w[f] = temporal.Weights(f, T)
	}
	u := randVec(n*T, 12)
	want := mat.NewDense(n, T, nil)
	temporal.Apply(want, mat.NewDense(n, T, u), tau)
	for _, be := range backends {
		st, err := be.NewStencil(start, w)
		if err != nil {
			t.Fatal(err)
		}
		bu := upload(t, be, u)
		bd, _ := be.Alloc(n * T)
		if err := be.ApplyStencil(Mat{bd, n, T}, Mat{bu, n, T}, st, 1/tau); err != nil {
			t.Fatal(err)
		}
		near(t, "u_t", download(t, be, bd, n*T), want.RawMatrix().Data, 1e-12)
	}
}
