package reg

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/sparse"
)

// TestTikhonovMatchesNormalEquations checks that the standard-form/SVD path
// gives the same U_λ as a direct dense solve of the normal equations, for
// each order and several λ spanning the filter's transition.
func TestTikhonovMatchesNormalEquations(t *testing.T) {
	const m, n, tf = 20, 30, 8
	r, _, y := smallProblem(m, n, tf, 1e-3, 1)
	for order := 0; order <= 2; order++ {
		gamma := pathOperator(t, order, n)
		for _, lambda := range []float64{1e-3, 3e-2, 0.5} {
			res, err := SolveTikhonov(context.Background(), r, gamma, y, Options{Lambda: lambda})
			if err != nil {
				t.Fatalf("order %d λ %g: %v", order, lambda, err)
			}
			want := directTikhonov(r, gamma, y, lambda)
			if d := relDiff(res.U, want); d > 1e-8 {
				t.Errorf("order %d λ %g: relative difference %.3g from the normal equations, want ≤ 1e-8", order, lambda, d)
			}
			if got := res.Values["lambda"]; got != lambda {
				t.Errorf("order %d: used λ %g, fixed %g", order, got, lambda)
			}
		}
	}
}

// TestSpectralCurvesMatchDirect checks the closed-form residual, seminorm,
// GCV and robust GCV against quantities computed from the direct solution
// and the explicit influence matrix H = R (RᵀR + λ²ΓᵀΓ)⁻¹ Rᵀ.
func TestSpectralCurvesMatchDirect(t *testing.T) {
	const m, n, tf = 20, 30, 8
	r, _, y := smallProblem(m, n, tf, 1e-2, 2)
	for order := 0; order <= 2; order++ {
		gamma := pathOperator(t, order, n)
		f, err := newStdForm(r, gamma)
		if err != nil {
			t.Fatal(err)
		}
		_, beta2, delta2 := f.project(y)
		s := &spectrum{sigma: f.sigma, beta2: beta2, delta2: delta2, m: m, k: f.k, t: tf}
		for _, lambda := range []float64{1e-3, 3e-2, 0.5} {
			u := directTikhonov(r, gamma, y, lambda)
			var fit, resid mat.Dense
			fit.Mul(r, u)
			resid.Sub(y, &fit)
			res2 := math.Pow(mat.Norm(&resid, 2), 2)
			var semi2 float64
			if gamma == nil {
				semi2 = math.Pow(mat.Norm(u, 2), 2)
			} else {
				var gu mat.Dense
				gu.Mul(gamma.Dense(), u)
				semi2 = math.Pow(mat.Norm(&gu, 2), 2)
			}
			eye := mat.NewDense(m, m, nil)
			for i := 0; i < m; i++ {
				eye.Set(i, i, 1)
			}
			hcols := directTikhonov(r, gamma, eye, lambda) // (RᵀR+λ²ΓᵀΓ)⁻¹Rᵀ
			var h mat.Dense
			h.Mul(r, hcols)
			dof := float64(m) - mat.Trace(&h)
			gcv := res2 / float64(m*tf) / math.Pow(dof/float64(m), 2)
			var h2 mat.Dense
			h2.Mul(&h, &h)
			rgcv := (rgcvGamma + (1-rgcvGamma)*mat.Trace(&h2)/float64(m)) * gcv

			gr2, gs2, gdof, _ := s.curves(lambda)
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"residual²", gr2, res2},
				{"seminorm²", gs2, semi2},
				{"m − tr H", gdof, dof},
				{"GCV", s.gcv(lambda), gcv},
				{"robust GCV", s.rgcv(lambda), rgcv},
			} {
				if math.Abs(c.got-c.want) > 1e-8*math.Abs(c.want) {
					t.Errorf("order %d λ %g: %s %.12g, direct %.12g", order, lambda, c.name, c.got, c.want)
				}
			}
		}
	}
}

// TestCurvatureMatchesFiniteDifferences checks the closed-form L-curve
// curvature against central differences of (log ‖res‖, log ‖Γu‖) in log λ.
func TestCurvatureMatchesFiniteDifferences(t *testing.T) {
	const m, n, tf = 20, 30, 8
	r, _, y := smallProblem(m, n, tf, 1e-2, 3)
	f, err := newStdForm(r, pathOperator(t, 2, n))
	if err != nil {
		t.Fatal(err)
	}
	_, beta2, delta2 := f.project(y)
	s := &spectrum{sigma: f.sigma, beta2: beta2, delta2: delta2, m: m, k: f.k, t: tf}
	point := func(lt float64) (float64, float64) {
		r2, s2, _, _ := s.curves(math.Exp(lt))
		return 0.5 * math.Log(r2), 0.5 * math.Log(s2)
	}
	const h = 1e-4
	for _, lambda := range []float64{1e-4, 1e-3, 1e-2, 0.1} {
		lt := math.Log(lambda)
		x0, y0 := point(lt)
		xp, yp := point(lt + h)
		xm, ym := point(lt - h)
		dx, dy := (xp-xm)/(2*h), (yp-ym)/(2*h)
		ddx, ddy := (xp-2*x0+xm)/(h*h), (yp-2*y0+ym)/(h*h)
		fd := (dx*ddy - ddx*dy) / math.Pow(dx*dx+dy*dy, 1.5)
		if got := s.curvature(lambda); math.Abs(got-fd) > 1e-4*math.Max(1, math.Abs(fd)) {
			t.Errorf("λ %g: curvature %.8g, finite differences %.8g", lambda, got, fd)
		}
	}
}

// TestSelectionRules checks, on a problem with known noise, that the
// discrepancy pick meets ‖Y − RU‖² = mTσ², that GCV lands within a factor
// of the truth-optimal grid λ in error, and that the L-curve reports its
// corners and picks one of them.
func TestSelectionRules(t *testing.T) {
	const m, n, tf, sigma = 40, 60, 10, 1e-3
	r, u, y := smallProblem(m, n, tf, sigma, 4)
	gamma := pathOperator(t, 2, n)
	ctx := context.Background()

	disc, err := SolveTikhonov(ctx, r, gamma, y, Options{Select: SelectDiscrepancy, Sigma: sigma})
	if err != nil {
		t.Fatal(err)
	}
	var fit, resid mat.Dense
	fit.Mul(r, disc.U)
	resid.Sub(y, &fit)
	if got, want := math.Pow(mat.Norm(&resid, 2), 2), float64(m*tf)*sigma*sigma; math.Abs(got-want) > 1e-6*want {
		t.Errorf("discrepancy: ‖Y − RU‖² = %.10g, want mTσ² = %.10g", got, want)
	}

	gcv, err := SolveTikhonov(ctx, r, gamma, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	best := math.Inf(1)
	for _, l := range gcv.Series["lambda_grid"] {
		best = math.Min(best, relDiff(directTikhonov(r, gamma, y, l), u))
	}
	reGCV := relDiff(gcv.U, u)
	t.Logf("λ gcv %.3g (RE %.4f), discrepancy %.3g (RE %.4f), best grid RE %.4f, corners %v",
		gcv.Values["lambda"], reGCV, disc.Values["lambda"], relDiff(disc.U, u), best, gcv.Series["lcurve_corners"])
	if reGCV > 1.5*best {
		t.Errorf("GCV RE %.4f, more than 1.5x the best grid RE %.4f", reGCV, best)
	}
	for _, l := range gcv.Series["gcv"] {
		if l < gcv.Values["gcv"]*(1-1e-12) {
			t.Errorf("GCV %.6g at the pick is above the grid value %.6g", gcv.Values["gcv"], l)
			break
		}
	}

	lc, err := SolveTikhonov(ctx, r, gamma, y, Options{Select: SelectLCurve})
	if err != nil {
		t.Fatal(err)
	}
	corners := lc.Series["lcurve_corners"]
	if len(corners) == 0 {
		t.Fatal("no L-curve corner reported")
	}
	found := false
	for _, c := range corners {
		found = found || c == lc.Values["lambda"]
	}
	if !found {
		t.Errorf("L-curve λ %g is not one of the corners %v", lc.Values["lambda"], corners)
	}
	if re := relDiff(lc.U, u); !(re < 1) {
		t.Errorf("L-curve RE %.4f, want < 1", re)
	}
}

// TestTikhonovErrors checks that bad options and shapes are refused.
func TestTikhonovErrors(t *testing.T) {
	r, _, y := smallProblem(10, 12, 3, 0, 5)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		opts  Options
		gamma *sparse.CSR
		y     *mat.Dense
	}{
		{"unknown rule", Options{Select: "aic"}, nil, y},
		{"negative λ", Options{Lambda: -1}, nil, y},
		{"discrepancy without σ", Options{Select: SelectDiscrepancy}, nil, y},
		{"operator columns", Options{}, pathOperator(t, 2, 11), y},
		{"Y rows", Options{}, nil, mat.NewDense(9, 3, nil)},
		{"discrepancy σ too large", Options{Select: SelectDiscrepancy, Sigma: 100}, nil, y},
	} {
		if _, err := SolveTikhonov(ctx, r, c.gamma, c.y, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := SolveTikhonov(cancelled, r, nil, y, Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
	if _, err := NewTikhonov(3, Options{}); err == nil {
		t.Error("order 3: no error")
	}
}
