package reg

import (
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/sparse"
)

// smallProblem is a seeded ill-posed test problem: R (m x n) with singular
// values decaying over six decades, a smooth truth U (n x T) on a path of
// n nodes, and Y = R U + σ·noise.
func smallProblem(m, n, tf int, sigma float64, seed uint64) (r, u, y *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, 7))
	orth := func(k int) *mat.Dense {
		a := mat.NewDense(k, k, nil)
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		var qr mat.QR
		qr.Factorize(a)
		var q mat.Dense
		qr.QTo(&q)
		return &q
	}
	p, q := orth(m), orth(n)
	s := mat.NewDense(m, n, nil)
	for i := 0; i < min(m, n); i++ {
		s.Set(i, i, math.Pow(10, -6*float64(i)/float64(min(m, n)-1)))
	}
	r = &mat.Dense{}
	r.Product(p, s, q.T())
	u = mat.NewDense(n, tf, nil)
	for i := 0; i < n; i++ {
		for t := 0; t < tf; t++ {
			x, tt := float64(i)/float64(n-1), float64(t)/float64(tf)
			u.Set(i, t, math.Sin(math.Pi*(x+tt))+0.5*math.Cos(3*math.Pi*x*tt))
		}
	}
	y = &mat.Dense{}
	y.Mul(r, u)
	for i := 0; i < m; i++ {
		for t := 0; t < tf; t++ {
			y.Set(i, t, y.At(i, t)+sigma*rng.NormFloat64())
		}
	}
	return r, u, y
}

// pathOperator returns Γ for the path graph on n nodes: order 1 the
// (n−1) x n forward difference, order 2 the n x n graph Laplacian (rows sum
// to zero, like Eq. 15), order 0 nil (identity).
func pathOperator(t testing.TB, order, n int) *sparse.CSR {
	var ts []sparse.Triplet
	rows := n
	switch order {
	case 0:
		return nil
	case 1:
		rows = n - 1
		for i := 0; i+1 < n; i++ {
			ts = append(ts, sparse.Triplet{Row: i, Col: i, Val: -1}, sparse.Triplet{Row: i, Col: i + 1, Val: 1})
		}
	case 2:
		for i := 0; i < n; i++ {
			if i > 0 {
				ts = append(ts, sparse.Triplet{Row: i, Col: i - 1, Val: 1}, sparse.Triplet{Row: i, Col: i, Val: -1})
			}
			if i+1 < n {
				ts = append(ts, sparse.Triplet{Row: i, Col: i + 1, Val: 1}, sparse.Triplet{Row: i, Col: i, Val: -1})
			}
		}
	}
	g, err := sparse.FromTriplets(rows, n, ts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// directTikhonov solves (RᵀR + λ²ΓᵀΓ) U = RᵀY by a dense LU solve.
func directTikhonov(r *mat.Dense, gamma *sparse.CSR, y *mat.Dense, lambda float64) *mat.Dense {
	_, n := r.Dims()
	var a mat.Dense
	a.Mul(r.T(), r)
	g := mat.NewDense(n, n, nil)
	if gamma == nil {
		for i := 0; i < n; i++ {
			g.Set(i, i, 1)
		}
	} else {
		gd := gamma.Dense()
		g.Mul(gd.T(), gd)
	}
	g.Scale(lambda*lambda, g)
	a.Add(&a, g)
	var b, u mat.Dense
	b.Mul(r.T(), y)
	if err := u.Solve(&a, &b); err != nil {
		panic(err)
	}
	return &u
}

func relDiff(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}

// quietLogger discards the λ rules' warnings in tests that provoke them.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestMain silences the λ rules' warnings (slog.Default) in the tests that
// do not look at them; TestWarnings checks what they say.
func TestMain(m *testing.M) {
	slog.SetDefault(quietLogger())
	os.Exit(m.Run())
}
