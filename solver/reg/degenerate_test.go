package reg

import (
	"context"
	"errors"
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
