package reg

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
)

// TestDegenerateData: data that leave nothing to regularize beyond the
// constants, for an operator that leaves constants free (Tikhonov 1 and 2,
// STRE), are bad input (inverse.ErrInput, exit status 2), never a panic
// (one lead left no rows for the standard form) or a λ of NaN (R whose
// columns are all equal sees only the mean of u).
func TestDegenerateData(t *testing.T) {
	r, _, y := smallProblem(10, 12, 6, 0, 3)
	sameCols := mat.NewDense(10, 12, nil)
	for i := range 10 {
		for j := range 12 {
			sameCols.Set(i, j, r.At(i, 0))
		}
	}
	for _, c := range []struct {
		name string
		r, y *mat.Dense
		want string
	}{
		{"one lead", mat.DenseCopyOf(r.Slice(0, 1, 0, 12)), mat.DenseCopyOf(y.Slice(0, 1, 0, 6)), "needs at least 2 leads"},
		{"R sees only the mean", sameCols, y, "R sees nothing of u beyond its constant part"},
	} {
		for _, order := range []int{1, 2} {
			_, err := SolveTikhonov(context.Background(), c.r, pathOperator(t, order, 12), c.y, Options{})
			if !errors.Is(err, inverse.ErrInput) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, Tikhonov %d: %v, want an input error containing %q", c.name, order, err, c.want)
			}
		}
		_, err := SolveSTRE(context.Background(), c.r, pathOperator(t, 2, 12), c.y, Options{})
		if !errors.Is(err, inverse.ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s, STRE: %v, want an input error containing %q", c.name, err, c.want)
		}
	}
	// Tikhonov 0 (Γ = I) has no free constants: one lead is enough.
	if _, err := SolveTikhonov(context.Background(), mat.DenseCopyOf(r.Slice(0, 1, 0, 12)), nil, mat.DenseCopyOf(y.Slice(0, 1, 0, 6)), Options{}); err != nil {
		t.Errorf("one lead, Tikhonov 0: %v", err)
	}
}

// TestRankOneFinite: an R of rank 1 (not constant columns, so Tikhonov 0
// takes it) has generalized singular values whose squares underflow
// (3e3, 8e-13, …, 2e-189 on the corpus' 42 leads); the L-curve, the
// seminorm and the curvature were NaN (0·Inf) and written to the result
// with exit status 0. Every value and series must be finite.
func TestRankOneFinite(t *testing.T) {
	_, _, y := smallProblem(42, 42, 6, 0, 3)
	r := mat.NewDense(42, 42, nil)
	for i := range 42 {
		for j := range 42 {
			r.Set(i, j, float64(i+1)*float64(j%5+1))
		}
	}
	res, err := SolveTikhonov(context.Background(), r, nil, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range res.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("values/%s = %v", k, v)
		}
	}
	for k, s := range res.Series {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("series/%s[%d] = %v", k, i, v)
				break
			}
		}
	}
}
