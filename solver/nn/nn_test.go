package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// testConfigs are the architectures every check runs on: an FNN, a shallow
// and a deep ARN with a width that is not a multiple of the unrolling.
var testConfigs = []struct {
	name string
	cfg  Config
}{
	{"FNN 4x7", Config{Layers: 4, Width: 7}},
	{"ARN NN2 4x7/1", Config{Layers: 4, Width: 7, Blocks: 1}},
	{"ARN 7x5/2", Config{Layers: 7, Width: 5, Blocks: 2}},
}

// testNorm is a heart-sized box in mm and AP time units.
var testNorm = BoxNormalizer([In]float64{-40, -35, -60, 0}, [In]float64{45, 30, 50, 56})

// randomNet returns a network whose biases and α_T are random too, so that no
// check passes because some parameter is zero.
func randomNet(t testing.TB, cfg Config, seed uint64) *Net {
	t.Helper()
	n, err := New(cfg, testNorm, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, l := range n.layers {
		for i := range l.out {
			n.Params[l.b+i] = 0.3 * rng.NormFloat64()
		}
	}
	for b := range cfg.Blocks {
		n.Params[n.alphaT+b] = rng.NormFloat64()
	}
	return n
}

// randomPoints returns npts points inside testNorm's box.
func randomPoints(npts int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([]float64, npts*In)
	for p := range npts {
		for j := range In {
			c, s := testNorm.Center[j], testNorm.Scale[j]
			x[p*In+j] = c + s*(2*rng.Float64()-1)
		}
	}
	return x
}

func randomVec(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 13))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// relErr returns ‖a − b‖∞ / ‖b‖∞.
func relErr(a, b []float64) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		m = math.Max(m, math.Abs(b[i]))
	}
	return d / m
}

// refForward evaluates the network at one point with plain per-layer loops
// straight from Eq. 10–11 and the documented parameter layout; it is
// independent of the blocked, Taylor-channel implementation.
func refForward(n *Net, x []float64) [Out]float64 {
	h := make([]float64, In)
	for j := range In {
		h[j] = (x[j] - n.Norm.Center[j]) / n.Norm.Scale[j]
	}
	off := 0
	dense := func(h []float64, in, out int, act bool) []float64 {
		z := make([]float64, out)
		for i := range out {
			s := n.Params[off+in*out+i]
			for j := range in {
				s += n.Params[off+i*in+j] * h[j]
			}
			if act {
				s = math.Tanh(s)
			}
			z[i] = s
		}
		off += in*out + out
		return z
	}
	w := n.Config.Width
	h = dense(h, In, w, true)
	if n.Config.Blocks == 0 {
		for l := 1; l < n.Config.Layers-1; l++ {
			h = dense(h, w, w, true)
		}
	}
	for b := range n.Config.Blocks {
		if b > 0 {
			h = dense(h, w, w, true)
		}
		h2 := dense(dense(h, w, w, true), w, w, true)
		a := 1 / (1 + math.Exp(-n.Params[len(n.Params)-n.Config.Blocks+b]))
		for i := range h {
			h[i] = (1-a)*h2[i] + a*h[i]
		}
	}
	y := dense(h, w, Out, false)
	return [Out]float64{y[0], y[1]}
}

func TestConfigAndPresets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		params  int // 0: invalid
		layers  int
		blocks  int
		invalid Config
	}{
		{name: "NN1", params: 4*15 + 15 + 2*240 + 32, layers: 4},
		{name: "NN2", params: 4*15 + 15 + 2*240 + 32 + 1, layers: 4, blocks: 1},
		{name: "NN5", params: 4*15 + 15 + 8*240 + 32, layers: 10},
		{name: "NN6", params: 2030, layers: 10, blocks: 3},
	} {
		cfg, err := Preset(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(cfg, testNorm, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n.NumParams() != tc.params || cfg.Layers != tc.layers || cfg.Blocks != tc.blocks {
			t.Errorf("%s: %v with %d params, want %d layers %d blocks %d params", tc.name, cfg, n.NumParams(), tc.layers, tc.blocks, tc.params)
		}
	}
	for _, bad := range []Config{{Layers: 1, Width: 5}, {Layers: 5, Width: 5, Blocks: 1}, {Layers: 4, Width: 0}, {Layers: 4, Width: 3, Blocks: -1}} {
		if _, err := New(bad, testNorm, 1); err == nil {
			t.Errorf("New(%v) accepted an invalid config", bad)
		}
	}
	if _, err := Preset("NN7"); err == nil {
		t.Error("Preset(NN7) accepted")
	}
}

func TestInitDeterministicGlorot(t *testing.T) {
	cfg, _ := Preset("NN6")
	a, _ := New(cfg, testNorm, 42)
	b, _ := New(cfg, testNorm, 42)
	c, _ := New(cfg, testNorm, 43)
	same, diff := true, false
	for i := range a.Params {
		same = same && a.Params[i] == b.Params[i]
		diff = diff || a.Params[i] != c.Params[i]
	}
	if !same || !diff {
		t.Errorf("same seed equal: %v, different seed differs: %v", same, diff)
	}
	for _, l := range a.layers {
		lim := math.Sqrt(6 / float64(l.in+l.out))
		for k := range l.in * l.out {
			if math.Abs(a.Params[l.w+k]) > lim {
				t.Fatalf("%s = %v outside ±%v", a.ParamName(l.w+k), a.Params[l.w+k], lim)
			}
		}
		for i := range l.out {
			if a.Params[l.b+i] != 0 {
				t.Fatalf("%s = %v, want 0", a.ParamName(l.b+i), a.Params[l.b+i])
			}
		}
	}
	if al := a.Alphas(); len(al) != 3 || al[0] != 0.5 {
		t.Errorf("alphas %v, want three 0.5", al)
	}
}

func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range append(testConfigs, struct {
		name string
		cfg  Config
	}{"NN6", Config{10, 15, 3}}) {
		n := randomNet(t, tc.cfg, 3)
		const npts = 700 // three blocks, the last one partial
		x := randomPoints(npts, 5)
		y := make([]float64, npts*Out)
		var ws Workspace
		if err := n.Forward(&ws, x, y); err != nil {
			t.Fatal(err)
		}
		yp := make([]float64, npts*Out)
		if err := n.Predict(x, yp); err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if yp[i] != y[i] {
				t.Fatalf("%s: Predict[%d] = %v, Forward %v", tc.name, i, yp[i], y[i])
			}
		}
		for p := range npts {
			r := refForward(n, x[p*In:(p+1)*In])
			for o := range Out {
				if d := math.Abs(y[p*Out+o] - r[o]); d > 1e-13 {
					t.Fatalf("%s: point %d output %d: got %v want %v", tc.name, p, o, y[p*Out+o], r[o])
				}
			}
		}
	}
}

// jetCase holds a ForwardJet evaluation with K1 first and K2 second directions.
type jetCase struct {
	x, y     []float64
	d1, d2   [][]float64
	dy1, dy2 [][]float64
}

func newJetCase(npts int, d1, d2 [][]float64, x []float64) *jetCase {
	c := &jetCase{x: x, d1: d1, d2: d2, y: make([]float64, npts*Out)}
	for range d1 {
		c.dy1 = append(c.dy1, make([]float64, npts*Out))
	}
	for range d2 {
		c.dy2 = append(c.dy2, make([]float64, npts*Out))
	}
	return c
}

// axis returns npts copies of the unit vector along coordinate j.
func axis(npts, j int) []float64 {
	d := make([]float64, npts*In)
	for p := range npts {
		d[p*In+j] = 1
	}
	return d
}

// TestJetInputDerivatives checks ForwardJet's derivatives with respect to the
// physical inputs against finite differences of Forward: first along t and
// along a random per-point direction (4th-order central differences), second
// along x, y, z (4th-order second difference).
func TestJetInputDerivatives(t *testing.T) {
	for _, tc := range testConfigs {
		n := randomNet(t, tc.cfg, 21)
		const npts = 300
		x := randomPoints(npts, 22)
		dir := randomVec(npts*In, 23)
		d1 := [][]float64{axis(npts, 3), dir}
		d2 := [][]float64{axis(npts, 0), axis(npts, 1), axis(npts, 2)}
		jc := newJetCase(npts, d1, d2, x)
		var ws Workspace
		if err := n.ForwardJet(&ws, x, d1, d2, jc.y, jc.dy1, jc.dy2); err != nil {
			t.Fatal(err)
		}
		y0 := make([]float64, npts*Out)
		if err := n.Forward(&ws, x, y0); err != nil {
			t.Fatal(err)
		}
		if e := relErr(jc.y, y0); e != 0 {
			t.Errorf("%s: jet value differs from Forward by %g", tc.name, e)
		}
		// shifted evaluates Forward at x + s·h·d.
		shifted := func(d []float64, h float64, s int) []float64 {
			xs := make([]float64, len(x))
			for i := range x {
				xs[i] = x[i] + float64(s)*h*d[i]
			}
			y := make([]float64, npts*Out)
			if err := n.Forward(&ws, xs, y); err != nil {
				t.Fatal(err)
			}
			return y
		}
		const h = 0.05 // physical units; ≈ 1e-3 of the box half-widths
		for k, d := range d1 {
			fm2, fm1, fp1, fp2 := shifted(d, h, -2), shifted(d, h, -1), shifted(d, h, 1), shifted(d, h, 2)
			fdv := make([]float64, npts*Out)
			for i := range fdv {
				fdv[i] = (fm2[i] - 8*fm1[i] + 8*fp1[i] - fp2[i]) / (12 * h)
			}
			e := relErr(jc.dy1[k], fdv)
			t.Logf("%s: first derivative %d: relative error %.2g", tc.name, k, e)
			if e > 1e-6 {
				t.Errorf("%s: first derivative %d: relative error %g", tc.name, k, e)
			}
		}
		for j, d := range d2 {
			fm2, fm1, fp1, fp2 := shifted(d, h, -2), shifted(d, h, -1), shifted(d, h, 1), shifted(d, h, 2)
			fdv := make([]float64, npts*Out)
			for i := range fdv {
				fdv[i] = (-fm2[i] + 16*fm1[i] - 30*y0[i] + 16*fp1[i] - fp2[i]) / (12 * h * h)
			}
			e := relErr(jc.dy2[j], fdv)
			t.Logf("%s: second derivative along axis %d: relative error %.2g", tc.name, j, e)
			if e > 1e-6 {
				t.Errorf("%s: second derivative along axis %d: relative error %g", tc.name, j, e)
			}
		}
	}
}

// TestGradients checks Backward and BackwardJet against central finite
// differences (gonum diff/fd) of a random linear functional of the outputs:
// L = Σ cy·y for Forward, L = Σ cy·y + Σ_k c1k·dy1[k] + Σ_j c2j·dy2[j] for
// the jets. Every parameter (weights, biases, α_T) is checked.
func TestGradients(t *testing.T) {
	for _, tc := range testConfigs {
		for _, jets := range []bool{false, true} {
			n := randomNet(t, tc.cfg, 31)
			const npts = 300 // two blocks
			x := randomPoints(npts, 32)
			var d1, d2 [][]float64
			if jets {
				d1 = [][]float64{axis(npts, 3), randomVec(npts*In, 33)}
				d2 = [][]float64{axis(npts, 0), randomVec(npts*In, 34), axis(npts, 2)}
			}
			jc := newJetCase(npts, d1, d2, x)
			cy := randomVec(npts*Out, 35)
			var c1, c2 [][]float64
			for k := range d1 {
				c1 = append(c1, randomVec(npts*Out, 40+uint64(k)))
			}
			for j := range d2 {
				c2 = append(c2, randomVec(npts*Out, 50+uint64(j)))
			}
			var ws Workspace
			loss := func(p []float64) float64 {
				save := n.Params
				n.Params = p
				defer func() { n.Params = save }()
				if err := n.ForwardJet(&ws, x, d1, d2, jc.y, jc.dy1, jc.dy2); err != nil {
					t.Fatal(err)
				}
				l := dot(cy, jc.y)
				for k := range c1 {
					l += dot(c1[k], jc.dy1[k])
				}
				for j := range c2 {
					l += dot(c2[j], jc.dy2[j])
				}
				return l
			}
			loss(n.Params)
			grad := randomVec(n.NumParams(), 60) // Backward accumulates: start from a known offset
			offset := append([]float64(nil), grad...)
			if err := n.BackwardJet(&ws, cy, c1, c2, grad); err != nil {
				t.Fatal(err)
			}
			for i := range grad {
				grad[i] -= offset[i]
			}
			fdg := fd.Gradient(nil, loss, append([]float64(nil), n.Params...), &fd.Settings{Formula: fd.Central, Step: 1e-6})
			e := relErr(grad, fdg)
			t.Logf("%s jets=%v: %d parameters, relative error %.2g", tc.name, jets, len(grad), e)
			if e > 1e-6 {
				worst := 0
				for i := range grad {
					if math.Abs(grad[i]-fdg[i]) > math.Abs(grad[worst]-fdg[worst]) {
						worst = i
					}
				}
				t.Errorf("%s jets=%v: relative error %g; worst %s: %v vs fd %v", tc.name, jets, e, n.ParamName(worst), grad[worst], fdg[worst])
			}
		}
	}
}

// TestDeterministicWorkers checks that outputs and gradients are
// bit-identical for 1, 2 and 3 workers, in both precisions.
func TestDeterministicWorkers(t *testing.T) {
	cfg, _ := Preset("NN6")
	n := randomNet(t, cfg, 71)
	const npts = 5000
	x := randomPoints(npts, 72)
	d1 := [][]float64{axis(npts, 3)}
	d2 := [][]float64{axis(npts, 0)}
	gy := randomVec(npts*Out, 73)
	g1 := [][]float64{randomVec(npts*Out, 74)}
	for _, prec := range []Precision{Float64, Float32} {
		n.Precision = prec
		var ref []float64
		for _, w := range []int{1, 2, 3} {
			n.Workers = w
			jc := newJetCase(npts, d1, d2, x)
			var ws Workspace
			if err := n.ForwardJet(&ws, x, d1, d2, jc.y, jc.dy1, jc.dy2); err != nil {
				t.Fatal(err)
			}
			grad := make([]float64, n.NumParams())
			if err := n.BackwardJet(&ws, gy, g1, nil, grad); err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = grad
				continue
			}
			for i := range grad {
				if grad[i] != ref[i] {
					t.Fatalf("%v, workers %d: grad[%d] = %v, 1 worker %v", prec, w, i, grad[i], ref[i])
				}
			}
		}
	}
}

// TestFloat32MatchesFloat64 checks the float32 passes against the float64
// ones (themselves checked against the reference loops and finite
// differences): values, jets, Predict and the gradients of BackwardJet agree
// to float32 accuracy (‖·‖∞-relative 5e-6, about 40 float32 ulp; measured
// ≤ 6e-7) and are not bit-identical (the float32 path really ran).
func TestFloat32MatchesFloat64(t *testing.T) {
	const npts = 700
	x := randomPoints(npts, 81)
	d1 := [][]float64{axis(npts, 3), randomVec(npts*In, 82)}
	d2 := [][]float64{axis(npts, 0), axis(npts, 2)}
	gy := randomVec(npts*Out, 83)
	gd1 := [][]float64{randomVec(npts*Out, 84), randomVec(npts*Out, 85)}
	gd2 := [][]float64{randomVec(npts*Out, 86), nil}
	for _, tc := range append(testConfigs, struct {
		name string
		cfg  Config
	}{"ARN NN6", Config{10, 15, 3}}) {
		n := randomNet(t, tc.cfg, 87)
		type pass struct {
			jc    *jetCase
			yp    []float64
			grad  []float64
			gradP []float64 // Backward after a plain Forward
		}
		run := func(prec Precision) pass {
			n.Precision = prec
			ps := pass{jc: newJetCase(npts, d1, d2, x), yp: make([]float64, npts*Out),
				grad: make([]float64, n.NumParams()), gradP: make([]float64, n.NumParams())}
			var ws Workspace
			if err := n.ForwardJet(&ws, x, d1, d2, ps.jc.y, ps.jc.dy1, ps.jc.dy2); err != nil {
				t.Fatal(err)
			}
			if err := n.BackwardJet(&ws, gy, gd1, gd2, ps.grad); err != nil {
				t.Fatal(err)
			}
			if err := n.Predict(x, ps.yp); err != nil {
				t.Fatal(err)
			}
			y := make([]float64, npts*Out)
			if err := n.Forward(&ws, x, y); err != nil {
				t.Fatal(err)
			}
			if err := n.Backward(&ws, gy, ps.gradP); err != nil {
				t.Fatal(err)
			}
			return ps
		}
		p64, p32 := run(Float64), run(Float32)
		n.Precision = Float64
		checks := []struct {
			what     string
			got, ref []float64
			tol      float64
		}{
			{"y", p32.jc.y, p64.jc.y, 5e-6},
			{"Predict", p32.yp, p64.yp, 5e-6},
			{"d/dt", p32.jc.dy1[0], p64.jc.dy1[0], 5e-6},
			{"d/dd", p32.jc.dy1[1], p64.jc.dy1[1], 5e-6},
			{"d²/dx²", p32.jc.dy2[0], p64.jc.dy2[0], 5e-6},
			{"d²/dz²", p32.jc.dy2[1], p64.jc.dy2[1], 5e-6},
			{"jet gradient", p32.grad, p64.grad, 5e-6},
			{"gradient", p32.gradP, p64.gradP, 5e-6},
		}
		for _, c := range checks {
			e := relErr(c.got, c.ref)
			t.Logf("%s %s: float32 vs float64 relative error %.2g", tc.name, c.what, e)
			if e > c.tol || e == 0 {
				t.Errorf("%s %s: float32 vs float64 relative error %g, want in (0, %g]", tc.name, c.what, e, c.tol)
			}
		}
	}
}

func TestParsePrecision(t *testing.T) {
	for _, p := range []Precision{Float64, Float32} {
		if q, err := ParsePrecision(p.String()); err != nil || q != p {
			t.Errorf("ParsePrecision(%q) = %v, %v", p.String(), q, err)
		}
	}
	if _, err := ParsePrecision("float16"); err == nil {
		t.Error("float16 accepted")
	}
}

func TestShapeErrors(t *testing.T) {
	n := randomNet(t, Config{Layers: 3, Width: 4}, 1)
	var ws Workspace
	y := make([]float64, 4)
	if err := n.Backward(&ws, y, make([]float64, n.NumParams())); err == nil {
		t.Error("Backward before Forward accepted")
	}
	if err := n.Forward(&ws, make([]float64, 7), y); err == nil {
		t.Error("x of 7 values accepted")
	}
	if err := n.Forward(&ws, make([]float64, 8), make([]float64, 3)); err == nil {
		t.Error("y of 3 values for 2 points accepted")
	}
	if err := n.Forward(&ws, make([]float64, 8), y); err != nil {
		t.Fatal(err)
	}
	if err := n.Backward(&ws, y, make([]float64, 2)); err == nil {
		t.Error("short grad accepted")
	}
	if err := n.BackwardJet(&ws, y, [][]float64{y}, nil, make([]float64, n.NumParams())); err == nil {
		t.Error("first-derivative adjoint accepted for a pass without directions")
	}
}
