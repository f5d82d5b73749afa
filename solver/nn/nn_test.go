package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"

	"github.com/eandarn/eandarn/kernels"
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

// in is the number of inputs of the test networks: [x, y, z, t].
const in = 4

// testNorm is a heart-sized box in mm and AP time units.
var testNorm = BoxNormalizer([]float64{-40, -35, -60, 0}, []float64{45, 30, 50, 56})

// randomNet returns a network whose biases and α_T are random too, so that no
// check passes because some parameter is zero.
func randomNet(t testing.TB, cfg Config, seed uint64) *Net {
	t.Helper()
	n, err := New(cfg, testNorm, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, l := range n.Spec().Layers {
		for i := range l.Out {
			n.Params[l.B+i] = 0.3 * rng.NormFloat64()
		}
	}
	for b := range cfg.Blocks {
		n.Params[n.Spec().AlphaT+b] = rng.NormFloat64()
	}
	return n
}

// randomPoints returns npts points inside testNorm's box, in x npts
// (one coordinate per row).
func randomPoints(npts int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 11))
	x := make([]float64, in*npts)
	for j := range in {
		c, s := testNorm.Center[j], testNorm.Scale[j]
		for p := range npts {
			x[j*npts+p] = c + s*(2*rng.Float64()-1)
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

// hostPass runs a network's passes on the CPU backend with host slices, in
// float64: x and the directions are in x npts, the outputs and their
// adjoints (1+K1+K2)·Out x npts (kernels.Net's layout).
type hostPass struct {
	t        testing.TB
	be       kernels.Backend
	pass     kernels.Net
	net      *Net
	k1, k2   int
	npts     int
	params   kernels.View
	x        kernels.Mat
	dirs     []kernels.Mat
	y, gy    kernels.Mat
	gradView kernels.View
}

func newHostPass(t testing.TB, n *Net, k1, k2, npts int) *hostPass {
	t.Helper()
	be, err := kernels.Open("cpu", kernels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	pass, err := be.NewNet(n.Spec(), kernels.NetOptions{Compute: kernels.F64, IO: kernels.F64, First: k1, Second: k2, MaxPoints: npts, Tape: true})
	if err != nil {
		t.Fatal(err)
	}
	h := &hostPass{t: t, be: be, pass: pass, net: n, k1: k1, k2: k2, npts: npts}
	alloc := func(n int) kernels.View {
		b, err := be.Alloc(kernels.F64, n)
		if err != nil {
			t.Fatal(err)
		}
		return kernels.Whole(b)
	}
	nout := (1 + k1 + k2) * Out
	h.params, h.gradView = alloc(n.NumParams()), alloc(n.NumParams())
	h.x = alloc(in*npts).Mat(in, npts)
	for range k1 + k2 {
		h.dirs = append(h.dirs, alloc(in*npts).Mat(in, npts))
	}
	h.y, h.gy = alloc(nout*npts).Mat(nout, npts), alloc(nout*npts).Mat(nout, npts)
	return h
}

func (h *hostPass) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// forward evaluates the network (with the current n.Params) at x along
// dirs and returns the outputs.
func (h *hostPass) forward(x []float64, dirs [][]float64) []float64 {
	h.t.Helper()
	h.must(h.be.Upload(h.params, h.net.Params))
	h.must(h.be.Upload(h.x.View, x))
	for k, d := range dirs {
		h.must(h.be.Upload(h.dirs[k].View, d))
	}
	h.must(h.pass.Forward(h.params, h.x, h.dirs, h.y))
	y := make([]float64, h.y.N)
	h.must(h.be.Download(y, h.y.View))
	return y
}

// backward returns dL/dθ given gy = dL/dy for the last forward.
func (h *hostPass) backward(gy []float64) []float64 {
	h.t.Helper()
	h.must(h.be.Upload(h.gy.View, gy))
	h.must(h.be.Fill(h.gradView, 0))
	h.must(h.pass.Backward(h.params, h.gy, h.gradView))
	g := make([]float64, h.gradView.N)
	h.must(h.be.Download(g, h.gradView))
	return g
}

// refForward evaluates the network at one point with plain per-layer loops
// straight from Eq. 10–11 and the documented parameter layout; it is
// independent of the blocked, Taylor-channel implementation.
func refForward(n *Net, x []float64) [Out]float64 {
	h := make([]float64, in)
	for j := range in {
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
	h = dense(h, in, w, true)
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
	for _, l := range a.Spec().Layers {
		lim := math.Sqrt(6 / float64(l.In+l.Out))
		for k := range l.In * l.Out {
			if math.Abs(a.Params[l.W+k]) > lim {
				t.Fatalf("%s = %v outside ±%v", a.ParamName(l.W+k), a.Params[l.W+k], lim)
			}
		}
		for i := range l.Out {
			if a.Params[l.B+i] != 0 {
				t.Fatalf("%s = %v, want 0", a.ParamName(l.B+i), a.Params[l.B+i])
			}
		}
	}
	if al := a.Alphas(); len(al) != 3 || al[0] != 0.5 {
		t.Errorf("alphas %v, want three 0.5", al)
	}
}

// TestParamNames names the first, a bias and the last parameters of NN6.
func TestParamNames(t *testing.T) {
	cfg, _ := Preset("NN6")
	n, _ := New(cfg, testNorm, 1)
	for k, want := range map[int]string{0: "layer 0 W[0,0]", 5: "layer 0 W[1,1]", 60: "layer 0 b[0]",
		2029: "block 2 alpha_T", 2030: "parameter 2030 out of range [0,2030)"} {
		if got := n.ParamName(k); got != want {
			t.Errorf("ParamName(%d) = %q, want %q", k, got, want)
		}
	}
}

// TestForwardMatchesReference checks the backend's values against the
// per-point reference written from Eq. 10–11 (float64).
func TestForwardMatchesReference(t *testing.T) {
	for _, tc := range append(testConfigs, struct {
		name string
		cfg  Config
	}{"NN6", Config{10, 15, 3}}) {
		n := randomNet(t, tc.cfg, 3)
		const npts = 700 // three blocks, the last one partial
		x := randomPoints(npts, 5)
		y := newHostPass(t, n, 0, 0, npts).forward(x, nil)
		xp := make([]float64, in)
		for p := range npts {
			for j := range in {
				xp[j] = x[j*npts+p]
			}
			r := refForward(n, xp)
			for o := range Out {
				if d := math.Abs(y[o*npts+p] - r[o]); d > 1e-13 {
					t.Fatalf("%s: point %d output %d: got %v want %v", tc.name, p, o, y[o*npts+p], r[o])
				}
			}
		}
	}
}

// axis returns npts copies of the unit vector along coordinate j (in x npts).
func axis(npts, j int) []float64 {
	d := make([]float64, in*npts)
	for p := range npts {
		d[j*npts+p] = 1
	}
	return d
}

// rows returns rows lo … hi−1 of the (·) x npts matrix y.
func rows(y []float64, npts, lo, hi int) []float64 { return y[lo*npts : hi*npts] }

// TestJetInputDerivatives checks the jets' derivatives with respect to the
// physical inputs against finite differences of the values: first along t
// and along a random per-point direction (4th-order central differences),
// second along x, y, z (4th-order second difference).
func TestJetInputDerivatives(t *testing.T) {
	for _, tc := range testConfigs {
		n := randomNet(t, tc.cfg, 21)
		const npts = 300
		x := randomPoints(npts, 22)
		dirs := [][]float64{axis(npts, 3), randomVec(in*npts, 23), axis(npts, 0), axis(npts, 1), axis(npts, 2)}
		const k1, k2 = 2, 3
		jets := newHostPass(t, n, k1, k2, npts)
		y := jets.forward(x, dirs)
		plain := newHostPass(t, n, 0, 0, npts)
		y0 := plain.forward(x, nil)
		if e := relErr(rows(y, npts, 0, Out), y0); e != 0 {
			t.Errorf("%s: jet value differs from the plain pass by %g", tc.name, e)
		}
		// shifted evaluates the values at x + s·h·d.
		shifted := func(d []float64, h float64, s int) []float64 {
			xs := make([]float64, len(x))
			for i := range x {
				xs[i] = x[i] + float64(s)*h*d[i]
			}
			return plain.forward(xs, nil)
		}
		const h = 0.05 // physical units; ≈ 1e-3 of the box half-widths
		for k, d := range dirs {
			fm2, fm1, fp1, fp2 := shifted(d, h, -2), shifted(d, h, -1), shifted(d, h, 1), shifted(d, h, 2)
			fdv := make([]float64, npts*Out)
			for i := range fdv {
				if k < k1 {
					fdv[i] = (fm2[i] - 8*fm1[i] + 8*fp1[i] - fp2[i]) / (12 * h)
				} else {
					fdv[i] = (-fm2[i] + 16*fm1[i] - 30*y0[i] + 16*fp1[i] - fp2[i]) / (12 * h * h)
				}
			}
			e := relErr(rows(y, npts, (1+k)*Out, (2+k)*Out), fdv)
			t.Logf("%s: derivative channel %d: relative error %.2g", tc.name, 1+k, e)
			if e > 1e-6 {
				t.Errorf("%s: derivative channel %d: relative error %g", tc.name, 1+k, e)
			}
		}
	}
}

// TestGradients checks the reverse pass against central finite differences
// (gonum diff/fd) of a random linear functional of the outputs,
// L = Σ c·y over the values (plain pass) or over the values and jets. Every
// parameter (weights, biases, α_T) is checked.
func TestGradients(t *testing.T) {
	for _, tc := range testConfigs {
		for _, jets := range []bool{false, true} {
			n := randomNet(t, tc.cfg, 31)
			const npts = 300 // two blocks
			x := randomPoints(npts, 32)
			var dirs [][]float64
			k1, k2 := 0, 0
			if jets {
				dirs = [][]float64{axis(npts, 3), randomVec(in*npts, 33), axis(npts, 0), randomVec(in*npts, 34), axis(npts, 2)}
				k1, k2 = 2, 3
			}
			hp := newHostPass(t, n, k1, k2, npts)
			c := randomVec((1+k1+k2)*Out*npts, 35)
			loss := func(p []float64) float64 {
				save := n.Params
				n.Params = p
				defer func() { n.Params = save }()
				return dot(c, hp.forward(x, dirs))
			}
			loss(n.Params)
			grad := hp.backward(c)
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

// TestNewRefuses: invalid architectures and normalizers are errors.
func TestNewRefuses(t *testing.T) {
	cfg, _ := Preset("NN2")
	for what, norm := range map[string]Normalizer{
		"zero scale":   {Center: []float64{0, 0, 0, 0}, Scale: []float64{1, 0, 1, 1}},
		"NaN center":   {Center: []float64{0, math.NaN(), 0, 0}, Scale: []float64{1, 1, 1, 1}},
		"short scales": {Center: []float64{0, 0, 0, 0}, Scale: []float64{1, 1, 1}},
		"no inputs":    {},
	} {
		if _, err := New(cfg, norm, 1); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
}
