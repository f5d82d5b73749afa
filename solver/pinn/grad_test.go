package pinn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
)

// tinyProblem is a small synthetic case: an icosphere heart (42 nodes,
// radius 40 mm), T frames τ = 0.085 apart, a random 12 x 42 transfer
// matrix and a BSPM of a smooth travelling bump plus noise. It is enough
// for loss and training-machinery checks, not for accuracy.
func tinyProblem(seed uint64, T int) *inverse.Problem { return sphereProblem(1, seed, T) }

// sphereProblem is tinyProblem on the icosphere of the given subdivision
// level (level 3: 642 nodes).
func sphereProblem(level int, seed uint64, T int) *inverse.Problem {
	heart := geometry.Icosphere(level, 40)
	n, m := len(heart.Nodes), 12
	rng := rand.New(rand.NewPCG(seed, 1))
	R := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			R.Set(i, j, rng.NormFloat64()/math.Sqrt(float64(n)))
		}
	}
	times := make([]float64, T)
	U := mat.NewDense(n, T, nil)
	for f := range times {
		times[f] = 0.085 * float64(f)
		for i, x := range heart.Nodes {
			U.Set(i, f, 1/(1+math.Exp(-(x[2]/10+20*times[f]-5))))
		}
	}
	Y := mat.NewDense(m, T, nil)
	Y.Mul(R, U)
	for i := 0; i < m; i++ {
		for f := 0; f < T; f++ {
			Y.Set(i, f, Y.At(i, f)+0.01*rng.NormFloat64())
		}
	}
	return &inverse.Problem{Heart: heart, R: R, BSPM: Y, Time: times, TruthU: U}
}

// TestFullLossGradient checks the analytic gradient of the full loss
// L = L_D + λ L_EP (Eq. 4) of every variant against central finite
// differences on 150 randomly chosen weights plus every ARN α_T (the
// last Blocks parameters): ‖g − g_fd‖ / ‖g‖ < 1e-6 over them. Besides the
// four methods' defaults: the eigenfunction inputs (with ND and AD time
// derivatives and both kinds of r_b), the subdivided physics mesh, the
// cotangent operator, and EAND-ARN with the ND time derivative.
func TestFullLossGradient(t *testing.T) {
	lb := func(k int) func(*Config) { return func(c *Config) { c.LBInputs = k } }
	cases := []struct {
		name     string
		boundary bool
		bs, be   int   // batch frames [bs, be) …
		frames   []int // … or these (a random-frames batch)
		nc       int   // collocation points (0: all)
		eps      float64
		set      func(*Config)
	}{
		{"epdl-ad", true, 0, 3, nil, 40, 0.1, nil},
		{"epdl-ad", false, 5, 9, nil, 0, 0, nil},
		{"epdl-dnd", false, 4, 8, nil, 0, 0.1, nil},
		{"epdl-dnd", true, 9, 12, nil, 50, 0.1, nil},
		{"epdl-nd", false, 0, 4, nil, 0, 0.1, nil},
		{"epdl-nd", true, 6, 12, nil, 60, 0, nil},
		{"eandarn", false, 3, 7, nil, 0, 0.1, nil},
		{"eandarn", true, 10, 12, nil, 30, 0.1, nil},
		{"eandarn", false, 0, 0, []int{0, 3, 4, 11}, 0, 0.1, nil},
		{"epdl-dnd", false, 0, 0, []int{1, 6, 10}, 70, 0, nil},
		{"eandarn", false, 2, 6, nil, 0, 0.1, lb(5)},
		{"eandarn", true, 0, 0, []int{1, 7}, 40, 0.1, lb(3)},
		{"epdl-nd", true, 3, 6, nil, 0, 0.1, lb(4)},
		{"epdl-dnd", true, 3, 6, nil, 0, 0.1, lb(2)},
		{"eandarn", false, 0, 0, []int{0, 5, 11}, 0, 0.1, func(c *Config) { c.PhysicsRefine, c.LBInputs = 1, 4 }},
		{"eandarn", false, 4, 8, nil, 90, 0.1, func(c *Config) { c.Operator = "cotangent" }},
		{"eandarn", false, 4, 8, nil, 0, 0.1, func(c *Config) { c.TimeDeriv = ND }},
		{"epdl-nd", false, 0, 0, []int{2, 3, 9}, 0, 0.1, func(c *Config) { c.PhysicsRefine = 1 }},
	}
	p := tinyProblem(3, 12)
	for _, c := range cases {
		cfg, err := DefaultConfig(c.name)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Boundary, cfg.EpsDelta, cfg.Seed = c.boundary, c.eps, 7
		cfg.Precision = "float64" // finite differences need float64 losses
		if c.set != nil {
			c.set(&cfg)
		}
		o := setupT(t, &Method{Config: cfg}, p)
		frames := c.frames
		if frames == nil {
			frames = span(nil, c.bs, c.be)
		}
		idx := o.draw(rand.New(rand.NewPCG(1, 2)), len(frames), c.nc)
		theta := append([]float64(nil), o.net.Params...)
		loss := func() float64 {
			ld, lep, _ := evalAt(t, o, theta, frames, idx)
			return ld + cfg.Lambda*lep
		}
		_, _, g := evalAt(t, o, theta, frames, idx)
		pick := rand.New(rand.NewPCG(5, 6)).Perm(len(theta) - cfg.Blocks)[:150]
		for b := 0; b < cfg.Blocks; b++ {
			pick = append(pick, len(theta)-1-b)
		}
		var num, den float64
		for _, k := range pick {
			h := 1e-6 * math.Max(1, math.Abs(theta[k]))
			t0 := theta[k]
			theta[k] = t0 + h
			lp := loss()
			theta[k] = t0 - h
			lm := loss()
			theta[k] = t0
			fd := (lp - lm) / (2 * h)
			num += (g[k] - fd) * (g[k] - fd)
			den += g[k] * g[k]
		}
		rel := math.Sqrt(num / den)
		what := fmt.Sprintf("%s boundary=%v time %s lb %d refine %d %s", c.name, c.boundary, cfg.TimeDeriv, cfg.LBInputs, cfg.PhysicsRefine, cfg.Operator)
		t.Logf("%s frames %v nc=%d eps=%g: %d of %d weights, ‖g‖=%.3g, rel err %.2e", what, frames, c.nc, c.eps, len(pick), len(theta), math.Sqrt(den), rel)
		if !(rel < 1e-6) {
			t.Errorf("%s: gradient rel error %.3g, want < 1e-6", what, rel)
		}
	}
}

// TestEvalDeterministicWorkers checks that the loss and gradient of a step
// are bit-identical on 1 and 3 goroutines (network passes, data products,
// residual loops), for an ND and an AD variant and EAND-ARN with
// eigenfunction inputs on a subdivided physics mesh, in both precisions, on
// a problem large enough for several tasks of every parallel loop (642
// nodes x 8 frames).
func TestEvalDeterministicWorkers(t *testing.T) {
	p := sphereProblem(3, 5, 24)
	for _, name := range []string{"eandarn", "epdl-ad", "eandarn lb"} {
		for _, prec := range []string{"float64", "float32"} {
			cfg, _ := DefaultConfig(strings.Fields(name)[0])
			cfg.Precision = prec
			if name == "eandarn lb" {
				cfg.LBInputs, cfg.PhysicsRefine = 8, 1
			}
			frames := []int{1, 2, 7, 8, 9, 15, 16, 23}
			var ref []float64
			var ref0 [2]float64
			for _, w := range []int{1, 3} {
				o := setupT(t, &Method{Config: cfg, Run: Run{Workers: w}}, p)
				idx := o.draw(rand.New(rand.NewPCG(3, 4)), len(frames), cfg.Collocation)
				ld, lep, grad := evalAt(t, o, o.net.Params, frames, idx)
				if ref == nil {
					ref, ref0 = grad, [2]float64{ld, lep}
					continue
				}
				if ld != ref0[0] || lep != ref0[1] {
					t.Errorf("%s %s: %d workers L_D, L_EP = %v, %v; 1 worker %v, %v", name, prec, w, ld, lep, ref0[0], ref0[1])
				}
				for i := range grad {
					if grad[i] != ref[i] {
						t.Fatalf("%s %s: %d workers grad[%d] = %v, 1 worker %v", name, prec, w, i, grad[i], ref[i])
					}
				}
			}
		}
	}
}
