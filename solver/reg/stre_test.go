package reg

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/sparse"
)

// streGradient applies the half-gradient operator of the STRE objective,
// written from its definition (not through M_w):
//
//	G(U)_t = RᵀR u_t + λs² LᵀL u_t + 2λt² Σ_{t': 0<|t'−t|≤w} (u_t − u_t')
//
// (each unordered pair appears twice in the ordered double sum).
func streGradient(r *mat.Dense, l *mat.Dense, ls, lt float64, w int, u *mat.Dense) *mat.Dense {
	n, tf := u.Dims()
	var ru, rtru, lu, ltlu mat.Dense
	ru.Mul(r, u)
	rtru.Mul(r.T(), &ru)
	lu.Mul(l, u)
	ltlu.Mul(l.T(), &lu)
	g := mat.NewDense(n, tf, nil)
	for i := 0; i < n; i++ {
		for t := 0; t < tf; t++ {
			var temp float64
			for s := max(t-w, 0); s <= min(t+w, tf-1); s++ {
				temp += u.At(i, t) - u.At(i, s)
			}
			g.Set(i, t, rtru.At(i, t)+ls*ls*ltlu.At(i, t)+2*lt*lt*temp)
		}
	}
	return g
}

// cgSTRE solves G(U) = RᵀY by conjugate gradients on the (SPD) normal
// equations of the STRE objective.
func cgSTRE(r *mat.Dense, l *mat.Dense, ls, lt float64, w int, y *mat.Dense) (*mat.Dense, int) {
	_, n := r.Dims()
	_, tf := y.Dims()
	b := &mat.Dense{}
	b.Mul(r.T(), y)
	x := mat.NewDense(n, tf, nil)
	res := mat.DenseCopyOf(b)
	p := mat.DenseCopyOf(res)
	dot := func(a, c *mat.Dense) float64 { var e mat.Dense; e.MulElem(a, c); return mat.Sum(&e) }
	rr := dot(res, res)
	bn := math.Sqrt(dot(b, b))
	it := 0
	for ; it < 20000 && math.Sqrt(rr) > 1e-15*bn; it++ {
		ap := streGradient(r, l, ls, lt, w, p)
		alpha := rr / dot(p, ap)
		x.Add(x, scaled(alpha, p))
		res.Sub(res, scaled(alpha, ap))
		rn := dot(res, res)
		p.Add(res, scaled(rn/rr, p))
		rr = rn
	}
	return x, it
}

func scaled(a float64, m *mat.Dense) *mat.Dense {
	var s mat.Dense
	s.Scale(a, m)
	return &s
}

// TestSTREMatchesConjugateGradients checks the closed-form Sylvester
// solution against CG on the objective's normal equations.
func TestSTREMatchesConjugateGradients(t *testing.T) {
	const m, n, tf = 20, 30, 8
	r, _, y := smallProblem(m, n, tf, 1e-3, 6)
	l := pathOperator(t, 2, n)
	for _, c := range []struct {
		ls, lt float64
		w      int
	}{
		{0.3, 0.1, 1},
		{0.1, 0.03, 2},
		{1, 0.3, 5},
	} {
		res, err := SolveSTRE(context.Background(), r, l, y, Options{LambdaS: c.ls, LambdaT: c.lt, Window: c.w})
		if err != nil {
			t.Fatal(err)
		}
		want, iters := cgSTRE(r, l.Dense(), c.ls, c.lt, c.w, y)
		if d := relDiff(res.U, want); d > 1e-8 {
			t.Errorf("λs %g λt %g w %d: relative difference %.3g from CG (%d iterations), want ≤ 1e-8", c.ls, c.lt, c.w, d, iters)
		}
		for k, want := range map[string]float64{"lambda_s": c.ls, "lambda_t": c.lt, "window": float64(c.w)} {
			if got := res.Values[k]; got != want {
				t.Errorf("%s %g, fixed %g", k, got, want)
			}
		}
	}
}

// explicitInfluence returns the mT x mT influence matrix H of the stacked
// STRE system (I_T ⊗ (RᵀR + λs²LᵀL) + 2λt² M_w ⊗ I_n) vec U = vec RᵀY,
// column by column from streGradient, and vec Y.
func explicitInfluence(t *testing.T, r *mat.Dense, l *sparse.CSR, y *mat.Dense, ls, lt float64, w int) (*mat.Dense, *mat.VecDense) {
	m, n := r.Dims()
	_, tf := y.Dims()
	big := mat.NewDense(n*tf, n*tf, nil)
	ld := l.Dense()
	for k := 0; k < n*tf; k++ {
		e := mat.NewDense(n, tf, nil)
		e.Set(k%n, k/n, 1)
		g := streGradient(r, ld, ls, lt, w, e)
		for q := 0; q < n*tf; q++ {
			big.Set(q, k, g.At(q%n, q/n))
		}
	}
	rbig := mat.NewDense(m*tf, n*tf, nil) // I_T ⊗ R
	for s := 0; s < tf; s++ {
		rbig.Slice(s*m, (s+1)*m, s*n, (s+1)*n).(*mat.Dense).Copy(r)
	}
	var kinv, h mat.Dense
	if err := kinv.Solve(big, rbig.T()); err != nil {
		t.Fatal(err)
	}
	h.Mul(rbig, &kinv)
	vecY := mat.NewVecDense(m*tf, nil)
	for q := 0; q < m*tf; q++ {
		vecY.SetVec(q, y.At(q%m, q/m))
	}
	return &h, vecY
}

// TestSTRECriteriaMatchInfluenceMatrix checks the closed-form trace,
// residual and GML function against the explicit influence matrix: GML's
// yᵀ(I − H)y and log det⁺(I − H) (the product of the non-zero eigenvalues;
// it differs from the closed form by a constant, log det(ZᵀRᵀRZ) for Z
// the prior's null space, so differences between two parameter points are
// compared).
func TestSTRECriteriaMatchInfluenceMatrix(t *testing.T) {
	const m, n, tf, w = 12, 15, 6, 2
	r, _, y := smallProblem(m, n, tf, 1e-2, 7)
	l := pathOperator(t, 2, n)
	var rtr mat.Dense
	rtr.Mul(r.T(), r)
	ltl := gram(l)
	ell, err := nullClipped(ltl)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := newTimeFactor(y, w)
	if err != nil {
		t.Fatal(err)
	}
	var gmls, explicit []float64
	for _, p := range []struct{ ls, lt float64 }{{0.2, 0.1}, {0.05, 0.4}} {
		sp, err := newSpaceFactor(r, &rtr, ltl, p.ls)
		if err != nil {
			t.Fatal(err)
		}
		ev := newEvaluator(sp, tm, ell)
		_, ml, res2 := ev.criteria(p.lt)
		tr := ev.coefficients(p.lt)

		h, vecY := explicitInfluence(t, r, l, y, p.ls, p.lt, w)
		var fit mat.VecDense
		fit.MulVec(h, vecY)
		fit.SubVec(vecY, &fit)
		wantRes2 := mat.Dot(&fit, &fit)
		if got, want := tr, mat.Trace(h); math.Abs(got-want) > 1e-9*want {
			t.Errorf("(λs %g, λt %g): tr H %.12g, explicit %.12g", p.ls, p.lt, got, want)
		}
		if math.Abs(res2-wantRes2) > 1e-9*wantRes2 {
			t.Errorf("(λs %g, λt %g): residual² %.12g, explicit %.12g", p.ls, p.lt, res2, wantRes2)
		}
		// I − H is symmetric; its zero eigenvalues are the prior's null
		// space seen through R.
		ih := mat.NewSymDense(m*tf, nil)
		for i := 0; i < m*tf; i++ {
			for j := i; j < m*tf; j++ {
				d := -(h.At(i, j) + h.At(j, i)) / 2
				if i == j {
					d++
				}
				ih.SetSym(i, j, d)
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(ih, false) {
			t.Fatal("eigenvalues of I − H")
		}
		var logdet float64
		for _, v := range eig.Values(nil) {
			if v > 1e-9 {
				logdet += math.Log(v)
			}
		}
		nt := float64(m * tf)
		gmls = append(gmls, ml)
		explicit = append(explicit, nt*math.Log(mat.Dot(vecY, &fit)/nt)-logdet)
	}
	if got, want := gmls[1]-gmls[0], explicit[1]-explicit[0]; math.Abs(got-want) > 1e-7*math.Max(math.Abs(want), 1) {
		t.Errorf("GML difference between the points %.10g, explicit %.10g", got, want)
	}
}

// TestWindowLaplacian checks M_w on a case small enough to write out.
func TestWindowLaplacian(t *testing.T) {
	want := mat.NewSymDense(5, []float64{
		2, -1, -1, 0, 0,
		-1, 3, -1, -1, 0,
		-1, -1, 4, -1, -1,
		0, -1, -1, 3, -1,
		0, 0, -1, -1, 2,
	})
	if got := windowLaplacian(5, 2); !mat.Equal(got, want) {
		t.Errorf("window-2 Laplacian on 5 frames:\n%v\nwant\n%v", mat.Formatted(got), mat.Formatted(want))
	}
}

// TestSTREAutomatic checks the default search: the pick is the grid's GML
// optimum (refined in λt), both criteria's grids are reported, and on a
// problem smooth in time STRE beats Tikhonov with the same L (by its
// default rule).
func TestSTREAutomatic(t *testing.T) {
	const m, n, tf, sigma = 30, 40, 40, 3e-2
	r, u, y := smallProblem(m, n, tf, sigma, 8)
	l := pathOperator(t, 2, n)
	ctx := context.Background()
	st, err := SolveSTRE(ctx, r, l, y, Options{Windows: []int{1, 2, 4, 60}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := SolveTikhonov(ctx, r, l, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, crit := range []string{"gcv", "gml"} {
		g := st.Series[crit]
		if want := 7 * 4 * 10; len(g) != want {
			t.Fatalf("%s grid has %d values, want %d", crit, len(g), want)
		}
		for k, v := range g {
			if fits := (k/10)%4 != 3; fits == math.IsNaN(v) {
				t.Errorf("grid entry %d: %s %g (window %d of 4, NaN expected only for the window longer than T)", k, crit, v, (k/10)%4)
			}
		}
	}
	// The rule (guarded GML; the guard does not bind here) picks the GML
	// minimum of the grid, refined in λt, so no grid point is lower.
	for _, v := range st.Series["gml"] {
		if v < st.Values["gml"]-1e-9*math.Abs(st.Values["gml"]) {
			t.Errorf("grid GML %.10g below the pick's %.10g", v, st.Values["gml"])
		}
	}
	if st.Values["rejected"] != 0 || st.Values["lambda_s"] != st.Values["lambda_s_gml"] || st.Values["window"] != st.Values["window_gml"] {
		t.Errorf("the pick (λs %g, w %g, rejected %g) is not GML's grid minimum (λs %g, w %g)",
			st.Values["lambda_s"], st.Values["window"], st.Values["rejected"], st.Values["lambda_s_gml"], st.Values["window_gml"])
	}
	reS, reT := relDiff(st.U, u), relDiff(tk.U, u)
	t.Logf("STRE RE %.4f (λs %.3g λt %.3g w %g), Tikhonov-L RE %.4f (λ %.3g)",
		reS, st.Values["lambda_s"], st.Values["lambda_t"], st.Values["window"], reT, tk.Values["lambda"])
	if !(reS < reT) {
		t.Errorf("STRE RE %.4f not below Tikhonov's %.4f", reS, reT)
	}
}

// TestSTREErrors checks refused inputs.
func TestSTREErrors(t *testing.T) {
	r, _, y := smallProblem(10, 12, 4, 0, 9)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		l    *sparse.CSR
		opts Options
	}{
		{"window too long", pathOperator(t, 2, 12), Options{Window: 4}},
		{"operator shape", pathOperator(t, 1, 12), Options{}},
		{"negative window", pathOperator(t, 2, 12), Options{Window: -1}},
		{"negative λt", pathOperator(t, 2, 12), Options{LambdaT: -1}},
	} {
		if _, err := SolveSTRE(ctx, r, c.l, y, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := SolveSTRE(cancelled, r, pathOperator(t, 2, 12), y, Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
	if _, err := NewSTRE(Options{Select: SelectLCurve}); err == nil {
		t.Error("STRE with the L-curve rule: no error")
	}
}

// TestLogProduct checks the one-logarithm product against the sum of
// logarithms, with factors that would overflow or underflow a plain
// product and factors outside the renormalization range.
func TestLogProduct(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		name    string
		factors func(i int) float64
		n       int
	}{
		{"empty", nil, 0},
		{"one", func(int) float64 { return 7 }, 1},
		{"large", func(int) float64 { return 1e10 * (1 + rnd.Float64()) }, 5000},
		{"small", func(int) float64 { return 1e-10 * (1 + rnd.Float64()) }, 5000},
		{"extremes", func(i int) float64 { return []float64{1e-300, 1e300, 3, 1e-170, 1e170}[i%5] }, 1000},
		{"spread", func(int) float64 { return math.Exp(200 * (rnd.Float64() - 0.5)) }, 5000},
	} {
		var a logProduct
		var want float64
		for i := 0; i < c.n; i++ {
			x := c.factors(i)
			a.mul(x)
			want += math.Log(x)
		}
		if got := a.log(); math.Abs(got-want) > 1e-12*math.Max(math.Abs(want), 1) {
			t.Errorf("%s: log product %.15g, sum of logs %.15g", c.name, got, want)
		}
	}
}
