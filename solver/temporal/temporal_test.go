package temporal

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Every stencil is exact for polynomials of degree ≤ 4, at every frame,
// through all three paths (Weights, Matrix, Apply), for several T.
func TestExactForQuartics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, T := range []int{5, 6, 9, 40} {
		const t0, tau = 0.37, 0.085
		for deg := 0; deg <= 4; deg++ {
			c := make([]float64, deg+1)
			for k := range c {
				c[k] = rng.NormFloat64()
			}
			p := func(x float64) (v, dv float64) {
				for k := deg; k >= 0; k-- {
					dv = dv*x + v
					v = v*x + c[k]
				}
				return v, dv
			}
			u := mat.NewDense(2, T, nil)
			want := make([]float64, T)
			for f := 0; f < T; f++ {
				v, dv := p(t0 + tau*float64(f))
				u.Set(0, f, v)
				u.Set(1, f, -2*v)
				want[f] = dv
			}
			got := mat.NewDense(2, T, nil)
			Apply(got, u, tau)
			viaMatrix := make([]float64, T)
			Matrix(T, tau).MulVec(viaMatrix, u.RawRowView(0))
			// Rounding: the stencil weights are O(1/τ) times values O(1).
			tol := 1e-10 * (1 + mat.Norm(u, math.Inf(1)))
			for f := 0; f < T; f++ {
				start, w := Weights(f, T)
				var viaWeights float64
				for k := range w {
					viaWeights += w[k] * u.At(0, start+k) / tau
				}
				for name, g := range map[string]float64{"Apply": got.At(0, f), "Matrix": viaMatrix[f], "Weights": viaWeights, "Apply row 2 / -2": got.At(1, f) / -2} {
					if math.Abs(g-want[f]) > tol {
						t.Errorf("T=%d degree %d frame %d %s: %.15g, want %.15g", T, deg, f, name, g, want[f])
					}
				}
			}
		}
	}
}

// On sin(t) over [0, 2] the maximum error over all frames (boundaries
// included) falls by 2⁴ per halving of τ.
func TestFourthOrderOnSine(t *testing.T) {
	var prev float64
	for k, T := range []int{11, 21, 41, 81, 161} {
		tau := 2 / float64(T-1)
		u := mat.NewDense(1, T, nil)
		for f := 0; f < T; f++ {
			u.Set(0, f, math.Sin(tau*float64(f)))
		}
		du := mat.NewDense(1, T, nil)
		Apply(du, u, tau)
		var e float64
		for f := 0; f < T; f++ {
			e = math.Max(e, math.Abs(du.At(0, f)-math.Cos(tau*float64(f))))
		}
		if k > 0 {
			order := math.Log2(prev / e)
			t.Logf("τ = %.4f: max error %.3e, observed order %.3f", tau, e, order)
			if order < 3.8 || order > 4.3 {
				t.Errorf("τ = %.4f: observed order %.3f, want ≈ 4", tau, order)
			}
		} else {
			t.Logf("τ = %.4f: max error %.3e", tau, e)
		}
		prev = e
	}
}

func TestMatrixShapeAndRowSums(t *testing.T) {
	d := Matrix(7, 0.5)
	if d.Rows != 7 || d.Cols != 7 {
		t.Fatalf("shape %dx%d", d.Rows, d.Cols)
	}
	for i := 0; i < d.Rows; i++ {
		var s float64
		for k := d.RowPtr[i]; k < d.RowPtr[i+1]; k++ {
			s += d.Val[k]
			if k > d.RowPtr[i] && d.ColIdx[k] <= d.ColIdx[k-1] {
				t.Fatalf("row %d: columns not ascending", i)
			}
		}
		if math.Abs(s) > 1e-14 {
			t.Errorf("row %d sums to %g", i, s)
		}
	}
	// Paper Eq. 18, first and last rows, times 12τ.
	for _, c := range []struct {
		row  int
		want []float64
	}{{0, []float64{-25, 48, -36, 16, -3, 0, 0}}, {6, []float64{0, 0, 3, -16, 36, -48, 25}}, {3, []float64{0, 1, -8, 0, 8, -1, 0}}} {
		for j, w := range c.want {
			if got := d.At(c.row, j) * 12 * 0.5; math.Abs(got-w) > 1e-13 {
				t.Errorf("D[%d,%d]·12τ = %g, want %g", c.row, j, got, w)
			}
		}
	}
}

func TestPanics(t *testing.T) {
	u4 := mat.NewDense(2, 4, nil)
	u5 := mat.NewDense(2, 5, nil)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Weights T=4", func() { Weights(0, 4) }},
		{"Weights t=T", func() { Weights(5, 5) }},
		{"Matrix T=4", func() { Matrix(4, 1) }},
		{"Matrix tau=0", func() { Matrix(5, 0) }},
		{"Apply T=4", func() { Apply(mat.NewDense(2, 4, nil), u4, 1) }},
		{"Apply shape", func() { Apply(mat.NewDense(3, 5, nil), u5, 1) }},
		{"Apply alias", func() { Apply(u5, u5, 1) }},
		{"Apply tau=NaN", func() { Apply(mat.NewDense(2, 5, nil), u5, math.NaN()) }},
		{"Apply tau<0", func() { Apply(mat.NewDense(2, 5, nil), u5, -1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("no panic")
				} else {
					t.Log(fmt.Sprint(r))
				}
			}()
			c.f()
		})
	}
}

// BenchmarkApply differentiates a paper-sized 1094 x 661 signal.
func BenchmarkApply(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	u := mat.NewDense(1094, 661, nil)
	for i := 0; i < 1094; i++ {
		for j := 0; j < 661; j++ {
			u.Set(i, j, rng.Float64())
		}
	}
	dst := mat.NewDense(1094, 661, nil)
	for b.Loop() {
		Apply(dst, u, 0.085)
	}
}
