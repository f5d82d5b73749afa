package reg

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// correlatedNoise returns noise correlated over the leads at pos (a
// Gaussian kernel of width w mm), independent between frames, scaled to
// rms std: what a reference drift, a shared interference or a forward-model
// error that varies smoothly over the torso looks like.
func correlatedNoise(pos [][3]float64, frames int, w, std float64, seed uint64) *mat.Dense {
	m := len(pos)
	z := inverse.AddNoise(mat.NewDense(m, frames, nil), 1, seed)
	k := mat.NewDense(m, m, nil)
	for i := range pos {
		for j := range pos {
			var d2 float64
			for c := 0; c < 3; c++ {
				d := pos[i][c] - pos[j][c]
				d2 += d * d
			}
			k.Set(i, j, math.Exp(-d2/(2*w*w)))
		}
	}
	var out mat.Dense
	out.Mul(k, z)
	out.Scale(std*math.Sqrt(float64(m*frames))/mat.Norm(&out, 2), &out)
	return &out
}

// sphereCase is a 162-node sphere "heart" (r = 40 mm) inside a 642-node
// sphere "torso" (r = 120 mm, every node a lead) with a smooth potential
// that rotates over 40 frames.
func sphereCase(tb testing.TB) (heart, torso *mesh.Mesh, r, u, y *mat.Dense) {
	tb.Helper()
	heart, torso = geometry.Icosphere(2, 40), geometry.Icosphere(3, 120)
	r, err := forward.TransferMatrix(heart, torso, nil)
	if err != nil {
		tb.Fatal(err)
	}
	const frames = 40
	u = mat.NewDense(len(heart.Nodes), frames, nil)
	for i, p := range heart.Nodes {
		for k := 0; k < frames; k++ {
			a := 2 * math.Pi * float64(k) / frames
			u.Set(i, k, (p[0]*math.Cos(a)+p[1]*math.Sin(a))/40+0.5*math.Sin(p[2]/15+a))
		}
	}
	y = &mat.Dense{}
	y.Mul(r, u)
	return heart, torso, r, u, y
}

// TestGuardCorrelatedNoise: noise correlated over the torso (2% of the
// data's rms, 40 mm) with a little white noise (0.2%). The correlated part
// looks like signal to GCV, which fits it with a tiny λ and a
// reconstruction many times the truth; the default rule rejects that λ and
// takes the L-curve corner. With white noise alone (1%) the default keeps
// GCV's λ, which is then within 2% of the truth-optimal RE.
func TestGuardCorrelatedNoise(t *testing.T) {
	heart, torso, r, u, clean := sphereCase(t)
	_, frames := clean.Dims()
	rms := mat.Norm(clean, 2) / math.Sqrt(float64(len(clean.RawMatrix().Data)))
	l := mesh.Laplacian(heart)
	ctx := context.Background()

	var y mat.Dense
	y.Add(clean, correlatedNoise(torso.Nodes, frames, 40, 0.02*rms, 3))
	corr := inverse.AddNoise(&y, 0.002*rms, 1)
	gcv, err := SolveTikhonov(ctx, r, l, corr, Options{Select: SelectGCV})
	if err != nil {
		t.Fatal(err)
	}
	def, err := SolveTikhonov(ctx, r, l, corr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	reG, reD := relDiff(gcv.U, u), relDiff(def.U, u)
	t.Logf("correlated: GCV λ %.3g RE %.4f; default λ %.3g RE %.4f (norm ratio %.3g, disagreement %.3g)",
		gcv.Values["lambda"], reG, def.Values["lambda"], reD, def.Values["gcv_norm_ratio"], def.Values["lambda_disagreement"])
	switch {
	case !(reG > 1):
		t.Errorf("GCV RE %.4f: the correlated noise no longer makes GCV under-regularize", reG)
	case def.Values["gcv_rejected"] != 1 || def.Values["lambda"] != def.Values["lambda_lcurve"]:
		t.Errorf("default kept λ %.3g (GCV %.3g, corner %.3g)", def.Values["lambda"], def.Values["lambda_gcv"], def.Values["lambda_lcurve"])
	case !(reD < 0.3):
		t.Errorf("default RE %.4f, want < 0.3", reD)
	}

	white := inverse.AddNoise(clean, 0.01*rms, 1)
	def, err = SolveTikhonov(ctx, r, l, white, Options{})
	if err != nil {
		t.Fatal(err)
	}
	best, _ := bestGridRE(t, r, heart, white, u, 60)
	t.Logf("white: default λ %.3g (GCV %.3g) RE %.4f, best %.4f", def.Values["lambda"], def.Values["lambda_gcv"], relDiff(def.U, u), best)
	if def.Values["gcv_rejected"] != 0 || def.Values["lambda"] != def.Values["lambda_gcv"] {
		t.Errorf("white noise: default λ %.3g is not GCV's %.3g", def.Values["lambda"], def.Values["lambda_gcv"])
	}
	if re := relDiff(def.U, u); re > 1.02*best {
		t.Errorf("white noise: RE %.4f, more than 2%% above the best %.4f", re, best)
	}
}

// TestWarnings: a rejected GCV and rules that disagree are logged as
// warnings naming the λ of each rule; a clean white-noise case logs none.
func TestWarnings(t *testing.T) {
	_, torso, r, _, clean := sphereCase(t)
	heart := geometry.Icosphere(2, 40)
	_, frames := clean.Dims()
	rms := mat.Norm(clean, 2) / math.Sqrt(float64(len(clean.RawMatrix().Data)))
	var y mat.Dense
	y.Add(clean, correlatedNoise(torso.Nodes, frames, 40, 0.02*rms, 3))
	for _, c := range []struct {
		name string
		y    *mat.Dense
		want []string
	}{
		{"correlated", inverse.AddNoise(&y, 0.002*rms, 1), []string{"GCV's λ rejected", "λ rules disagree", "lambda_gcv=", "lambda_lcurve=", "lambda_rgcv="}},
		{"white", inverse.AddNoise(clean, 0.01*rms, 1), nil},
	} {
		var buf bytes.Buffer
		opts := Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
		if _, err := SolveTikhonov(context.Background(), r, mesh.Laplacian(heart), c.y, opts); err != nil {
			t.Fatal(err)
		}
		log := buf.String()
		if c.want == nil && log != "" {
			t.Errorf("%s: unexpected log %q", c.name, log)
		}
		for _, w := range c.want {
			if !strings.Contains(log, w) {
				t.Errorf("%s: log lacks %q:\n%s", c.name, w, log)
			}
		}
	}
}

// TestNoiseEstimate: white noise on a signal smooth at the frame spacing is
// estimated to within 3% (12,000 differences); noise-free data give 0; and
// a signal that jumps from frame to frame inflates the estimate, as the
// documentation warns.
func TestNoiseEstimate(t *testing.T) {
	const m, frames = 20, 600
	smooth := mat.NewDense(m, frames, nil)
	rough := mat.NewDense(m, frames, nil)
	for i := 0; i < m; i++ {
		for k := 0; k < frames; k++ {
			smooth.Set(i, k, math.Sin(float64(i)+float64(k)/50))
			rough.Set(i, k, float64(k%2))
		}
	}
	for _, c := range []struct {
		name      string
		y         *mat.Dense
		sigma     float64
		low, high float64
	}{
		{"smooth + noise", inverse.AddNoise(smooth, 0.05, 1), 0.05, 0.97, 1.03},
		{"smooth, clean", smooth, 0, 0, 1e-3},
		{"alternating", rough, 0, 1, math.Inf(1)},
	} {
		got := NoiseEstimate(c.y)
		ref := c.sigma
		if ref == 0 {
			ref = 1
		}
		if q := got / ref; q < c.low || q > c.high {
			t.Errorf("%s: estimate %.4g, want %.3g× to %.3g× of %g", c.name, got, c.low, c.high, ref)
		}
	}
	if NoiseEstimate(mat.NewDense(3, 2, nil)) != 0 {
		t.Error("two frames: want 0")
	}
}

// TestGuardIllConditioned: an R whose singular values fall over twelve
// decades, and data that are exact for the truth plus a rough component in
// the ten directions R sees least (R times it: 1e-9 of the data). GCV's
// minimum lies at the grid's smallest λ (1e-12 of the largest singular
// value) and its reconstruction is garbage (RE above 1) although only 1.9
// times the corner's in size, under GuardNormRatio. The default rejects it
// for its place at the grid's end, takes the corner and warns. On the exact
// data (no rough component) GCV's λ is at the grid's end as well, correctly,
// with a reconstruction smaller than the corner's, and the default keeps it.
func TestGuardIllConditioned(t *testing.T) {
	r, u, _ := smallProblem(40, 30, 20, 0, 1)
	var svd mat.SVD
	svd.Factorize(r, mat.SVDThin)
	var left, right mat.Dense
	svd.UTo(&left)
	svd.VTo(&right)
	s := mat.NewDiagDense(30, nil)
	for i := 0; i < 30; i++ {
		s.SetDiag(i, math.Pow(10, -12*float64(i)/29))
	}
	r.Product(&left, s, right.T())
	rough := mat.NewDense(30, 20, nil)
	for j := 0; j < 20; j++ {
		for k := 20; k < 30; k++ {
			c := math.Sin(float64(3*j+k)) / s.At(k, k)
			for i := 0; i < 30; i++ {
				rough.Set(i, j, rough.At(i, j)+c*right.At(i, k))
			}
		}
	}
	var ru, re mat.Dense
	ru.Mul(r, u)
	re.Mul(r, rough)
	rough.Scale(1e-9*mat.Norm(&ru, 2)/mat.Norm(&re, 2), rough)
	for _, c := range []struct {
		name     string
		rough    bool
		rejected float64
		maxRE    float64
	}{{"rough component", true, 1, 0.01}, {"exact", false, 0, 0.01}} {
		src := u
		if c.rough {
			src = &mat.Dense{}
			src.Add(u, rough)
		}
		var y mat.Dense
		y.Mul(r, src)
		var buf bytes.Buffer
		l := pathOperator(t, 2, 30)
		gcv, err := SolveTikhonov(context.Background(), r, l, &y, Options{Select: SelectGCV, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		def, err := SolveTikhonov(context.Background(), r, l, &y, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		v := def.Values
		reG, reD := relDiff(gcv.U, u), relDiff(def.U, u)
		t.Logf("%s: GCV λ %.3g RE %.3g (at grid end %g); default λ %.3g RE %.3g; corner %.3g, norm ratio %.3g",
			c.name, v["lambda_gcv"], reG, v["gcv_at_grid_end"], v["lambda"], reD, v["lambda_lcurve"], v["gcv_norm_ratio"])
		switch {
		case v["gcv_at_grid_end"] != 1:
			t.Errorf("%s: GCV's λ %.3g is not at the grid's end: the case no longer tests it", c.name, v["lambda_gcv"])
		case c.rough && !(reG > 1 && v["gcv_norm_ratio"] < GuardNormRatio):
			t.Errorf("%s: GCV RE %.3g, norm ratio %.3g: the case no longer shows garbage under the size limit", c.name, reG, v["gcv_norm_ratio"])
		case v["gcv_rejected"] != c.rejected:
			t.Errorf("%s: gcv_rejected %g, want %g", c.name, v["gcv_rejected"], c.rejected)
		case !(reD < c.maxRE):
			t.Errorf("%s: default RE %.3g, want < %g", c.name, reD, c.maxRE)
		case c.rough && !strings.Contains(buf.String(), "smallest λ of the grid"):
			t.Errorf("%s: no warning about GCV at the grid's end:\n%s", c.name, buf.String())
		}
	}
}

// TestGuardExactData: data that are exactly R times the truth (sphereCase,
// no noise). GCV's minimum is at the grid's smallest λ with a
// reconstruction larger than the corner's, so without knowing the data
// exact the default rejects it and the corner over-smooths; told
// (Options.ExactData, inverse.Problem.Exact for Tikhonov's Solve) it keeps
// GCV's λ, far more accurate here, records exact_data and warns of nothing.
func TestGuardExactData(t *testing.T) {
	heart, _, r, u, y := sphereCase(t)
	l := mesh.Laplacian(heart)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	def, err := SolveTikhonov(context.Background(), r, l, y, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tik, err := NewTikhonov(2, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := tik.Solve(context.Background(), &inverse.Problem{Heart: heart, R: r, BSPM: y, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	v, reDef, reExact := exact.Values, relDiff(def.U, u), relDiff(exact.U, u)
	t.Logf("default λ %.3g RE %.4f (rejected %v, ratio %.3g); exact λ %.3g RE %.4f", def.Values["lambda"], reDef,
		def.Values["gcv_rejected"], def.Values["gcv_norm_ratio"], v["lambda"], reExact)
	switch {
	case def.Values["gcv_at_grid_end"] != 1 || def.Values["gcv_rejected"] != 1 || def.Values["exact_data"] != 0:
		t.Errorf("default: at grid end %v, rejected %v, exact_data %v: the case no longer shows the guard rejecting exact data",
			def.Values["gcv_at_grid_end"], def.Values["gcv_rejected"], def.Values["exact_data"])
	case v["exact_data"] != 1 || v["gcv_rejected"] != 0 || v["lambda"] != v["lambda_gcv"]:
		t.Errorf("exact: exact_data %v, rejected %v, λ %.3g (GCV's %.3g)", v["exact_data"], v["gcv_rejected"], v["lambda"], v["lambda_gcv"])
	case !(reExact < reDef/3):
		t.Errorf("exact: RE %.4f, not well below the corner's %.4f", reExact, reDef)
	case strings.Contains(buf.String(), "level=WARN"):
		t.Errorf("exact data warned:\n%s", buf.String())
	}
}
