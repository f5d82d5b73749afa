package pinn

import (
	"testing"

	"github.com/eandarn/eandarn/solver/inverse"
)

// setupT builds the objective of m on p; the backend is closed at the end
// of the test.
func setupT(tb testing.TB, m *Method, p *inverse.Problem) *objective {
	tb.Helper()
	o, err := m.setup(p)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(o.close)
	return o
}

// evalAt runs one step at the host weights theta (uploaded first) and
// returns L_D, L_EP and the gradient of L_D + λ L_EP.
func evalAt(tb testing.TB, o *objective, theta []float64, frames, idx []int) (ld, lep float64, grad []float64) {
	tb.Helper()
	if err := o.be.Upload(o.params, theta); err != nil {
		tb.Fatal(err)
	}
	if err := o.eval(frames, idx, 0); err != nil {
		tb.Fatal(err)
	}
	r, err := o.readRecord(1)
	if err != nil {
		tb.Fatal(err)
	}
	grad = make([]float64, o.net.NumParams())
	if err := o.be.Download(grad, o.grad); err != nil {
		tb.Fatal(err)
	}
	return r[0], r[1], grad
}

// checkpointHash returns the checkpoint hash of m's configuration on p, as
// Solve computes it (the eigenfunction inputs of its physics mesh included).
func checkpointHash(t *testing.T, m *Method, p *inverse.Problem) string {
	t.Helper()
	pm, err := newPhysicsMesh(&m.Config, p.Heart)
	if err != nil {
		t.Fatal(err)
	}
	return m.Config.hash(p, pm.lb())
}
