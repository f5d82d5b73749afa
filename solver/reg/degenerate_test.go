package reg

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
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

// TestConstantsUnseen: a transfer matrix with a reference (rows summing to
// zero: Wilson's central terminal, an average reference, a transmembrane
// source as ECGSim's) does not see a constant heart potential, and
// Tikhonov 1 and 2 and STRE leave constants free. The constant part of u
// was fitted exactly along R·1: with rows summing to rounding it was the
// noise divided by ~1e-17 (ECGSim's matrix: RE 1e4 for Tikhonov-2, 359 for
// STRE), with rows summing exactly to 0 an input error. Now the penalty
// takes it: the reconstruction is the truth without its node mean, as well
// as the data allow, its node mean ≈ 0, and values/constants_unseen says
// so; a matrix that sees constants is solved as before.
func TestConstantsUnseen(t *testing.T) {
	const m, n, tf = 30, 40, 12
	r, u, _ := smallProblem(m, n, tf, 0, 5)
	referenced := func(rowSum float64) *mat.Dense {
		rr := mat.DenseCopyOf(r)
		for i := range m {
			row := rr.RawRowView(i)
			mean := floats.Sum(row) / n
			for j := range row {
				row[j] -= mean
			}
		}
		rr.Set(0, 0, rr.At(0, 0)+rowSum) // what rounding leaves
		return rr
	}
	centred := mat.DenseCopyOf(u)
	for k := range tf {
		col := mat.Col(nil, k, u)
		mean := floats.Sum(col) / n
		for i := range n {
			centred.Set(i, k, col[i]-mean)
		}
	}
	noisy := func(rr *mat.Dense) *mat.Dense {
		var y mat.Dense
		y.Mul(rr, u)
		rng := rand.New(rand.NewPCG(3, 9))
		for i := range m {
			for k := range tf {
				y.Set(i, k, y.At(i, k)+1e-3*rng.NormFloat64())
			}
		}
		return &y
	}
	solvers := []struct {
		name  string
		solve func(rr, y *mat.Dense) (*inverse.Result, error)
	}{
		{"tikhonov1", func(rr, y *mat.Dense) (*inverse.Result, error) {
			return SolveTikhonov(context.Background(), rr, pathOperator(t, 1, n), y, Options{Logger: quietLogger()})
		}},
		{"tikhonov2", func(rr, y *mat.Dense) (*inverse.Result, error) {
			return SolveTikhonov(context.Background(), rr, pathOperator(t, 2, n), y, Options{Logger: quietLogger()})
		}},
		{"stre", func(rr, y *mat.Dense) (*inverse.Result, error) {
			return SolveSTRE(context.Background(), rr, pathOperator(t, 2, n), y, Options{Logger: quietLogger()})
		}},
	}
	for _, c := range []struct {
		name   string
		r      *mat.Dense
		unseen bool
		truth  *mat.Dense // what the reconstruction is compared with
		maxRE  float64
	}{
		{"rows sum to 0", referenced(0), true, centred, 0.2},
		{"rows sum to 1e-9", referenced(1e-9), true, centred, 0.2},
		{"sees constants", r, false, u, 0.2},
	} {
		for _, s := range solvers {
			res, err := s.solve(c.r, noisy(c.r))
			if err != nil {
				t.Errorf("%s, %s: %v", c.name, s.name, err)
				continue
			}
			re := relDiff(res.U, c.truth)
			var worstMean float64
			for k := range tf {
				worstMean = math.Max(worstMean, math.Abs(floats.Sum(mat.Col(nil, k, res.U))/n))
			}
			t.Logf("%s, %s: RE %.3g against %s, largest node mean %.3g, constants_unseen %v", c.name, s.name, re,
				map[bool]string{true: "the centred truth", false: "the truth"}[c.unseen], worstMean, res.Values["constants_unseen"])
			if got := res.Values["constants_unseen"] == 1; got != c.unseen || re > c.maxRE {
				t.Errorf("%s, %s: constants_unseen %v (want %v), RE %.3g (want ≤ %g)", c.name, s.name, got, c.unseen, re, c.maxRE)
			}
			if c.unseen && worstMean > 0.05 {
				t.Errorf("%s, %s: node mean up to %.3g, want ≈ 0 (the truth's is up to 0.6)", c.name, s.name, worstMean)
			}
		}
	}
}
