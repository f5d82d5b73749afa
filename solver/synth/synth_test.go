package synth

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestDefault(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	m, n := p.R.Dims()
	if n != 1094 || m != 352 || len(p.Leads) != 352 {
		t.Fatalf("R is %dx%d with %d leads, want 352x1094 with 352", m, n, len(p.Leads))
	}
	if r, c := p.BSPM.Dims(); r != m || c != 661 || len(p.Time) != 661 {
		t.Fatalf("BSPM %dx%d, %d times; want %dx661, 661", r, c, len(p.Time), m)
	}
	var want mat.Dense
	want.Mul(p.R, p.TruthU)
	if !mat.EqualApprox(p.BSPM, &want, 1e-12) {
		t.Error("BSPM differs from R·U")
	}
	// The activation front must reach every node: each node's u peaks above 0.5.
	for i := 0; i < n; i++ {
		if mat.Max(p.TruthU.RowView(i)) < 0.5 || math.IsNaN(p.TruthU.At(i, 0)) {
			t.Fatalf("node %d never activates", i)
		}
	}
}
