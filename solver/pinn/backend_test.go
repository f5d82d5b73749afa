package pinn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/ap"
)

// syncEvery4 is the CPU backend reading losses back every 4 steps, as a
// device would: it exercises the trainer's deferred non-finite checks.
type syncEvery4 struct{ kernels.Backend }

func (syncEvery4) SyncEvery() int { return 4 }

func init() {
	kernels.Register("cpu-sync4", func(o kernels.Options) (kernels.Backend, error) {
		b, err := kernels.Open("cpu", o)
		return syncEvery4{b}, err
	})
}

// stepCases are the training steps of the backend checks: every PINN
// method, with and without r_b, on batch frames at the ends and inside the
// recording, with all points (nc = 0) or N_c drawn collocation points, and
// EAND-ARN with the ND time derivative, eigenfunction inputs and a
// subdivided physics mesh.
type stepCase struct {
	name     string
	boundary bool
	frames   []int
	nc       int
	set      func(*Config)
}

var stepCases = []stepCase{
	{"eandarn", false, []int{0, 1, 5, 11}, 0, nil},
	{"eandarn", true, []int{3, 4}, 30, nil},
	{"epdl-dnd", false, []int{2, 7, 8}, 50, nil},
	{"epdl-ad", true, []int{0, 6, 7, 10}, 40, nil},
	{"eandarn", false, []int{2, 3, 9}, 0, func(c *Config) { c.TimeDeriv = ND }},
	{"eandarn", true, []int{1, 4, 10}, 0, func(c *Config) { c.LBInputs, c.PhysicsRefine = 6, 1 }},
}

// config returns the case's configuration in the given precision.
func (c stepCase) config(precision string) Config {
	cfg, _ := DefaultConfig(c.name)
	cfg.Boundary, cfg.Precision = c.boundary, precision
	if c.set != nil {
		c.set(&cfg)
	}
	return cfg
}

// String names the case for messages.
func (c stepCase) String() string {
	s := c.name
	if c.boundary {
		s += " with r_b"
	}
	if c.set != nil {
		cfg := c.config("float64")
		s += fmt.Sprintf(" (time %s, lb %d, refine %d)", cfg.TimeDeriv, cfg.LBInputs, cfg.PhysicsRefine)
	}
	return s
}

// points draws the case's collocation points (fixed seed).
func (c stepCase) points(o *objective) []int {
	return append([]int(nil), o.draw(rand.New(rand.NewPCG(4, 4)), len(c.frames), c.nc)...)
}

// TestStepOnBackends checks a full training step (L_D, L_EP and the
// gradient of every variant, ND and AD r_b included) of every registered
// backend, in each precision it supports, against the CPU backend in
// float64: to rounding (1e-12 relative) in float64 and to float32 accuracy
// (1e-4 of the gradient's largest component) with float32 network passes.
// A device backend registered in the build (kernels.Register) is checked
// here with the trainer's own sequence of ops.
func TestStepOnBackends(t *testing.T) {
	p := tinyProblem(3, 12)
	for _, c := range stepCases {
		cfg := c.config("float64")
		ref := setupT(t, &Method{Config: cfg}, p)
		idx := c.points(ref)
		ld0, lep0, g0 := evalAt(t, ref, ref.net.Params, c.frames, idx)
		var gmax float64
		for _, v := range g0 {
			gmax = math.Max(gmax, math.Abs(v))
		}
		for _, name := range kernels.Names() {
			for _, prec := range []string{"float64", "float32"} {
				cfg.Precision = prec
				be, err := kernels.Open(name, kernels.Options{})
				if err != nil {
					t.Fatal(err)
				}
				supported := be.Supports(kernels.F64) || prec == "float32"
				be.Close()
				if !supported {
					continue
				}
				o := setupT(t, &Method{Config: cfg, Run: Run{Device: name}}, p)
				ld, lep, g := evalAt(t, o, o.net.Params, c.frames, idx)
				tol := 1e-12
				if prec == "float32" || o.io == kernels.F32 {
					tol = 1e-4
				}
				what := c.String() + " on " + name + " " + prec
				if math.Abs(ld-ld0) > tol*ld0 || math.Abs(lep-lep0) > tol*lep0 {
					t.Errorf("%s: L_D %v, L_EP %v; cpu float64 %v, %v", what, ld, lep, ld0, lep0)
				}
				for k := range g {
					if math.Abs(g[k]-g0[k]) > tol*gmax {
						t.Fatalf("%s: gradient[%d] %v, cpu float64 %v (largest component %v)", what, k, g[k], g0[k], gmax)
					}
				}
			}
		}
	}
}

// TestSyncEveryBitIdentical: a backend that returns the losses every 4
// steps trains bit-identically to one that returns them every step,
// through a non-finite loss (rolled back after the steps issued behind it)
// and a checkpoint.
func TestSyncEveryBitIdentical(t *testing.T) {
	p := tinyProblem(11, 24)
	var ref []float64
	var refSeries map[string][]float64
	for _, dev := range []string{"cpu", "cpu-sync4"} {
		m := smallMethod(t, "eandarn", t.TempDir())
		m.Run.Device, m.Run.CheckpointEvery = dev, 5
		m.hooks.inject = nanOnce(9)
		r, err := m.Solve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Values["retries"] != 1 {
			t.Errorf("%s: %v retries, want 1", dev, r.Values["retries"])
		}
		params := finalParams(t, m.Run.Checkpoint)
		if ref == nil {
			ref, refSeries = params, r.Series
			continue
		}
		if !reflect.DeepEqual(params, ref) || !reflect.DeepEqual(r.Series, refSeries) {
			t.Errorf("%s: weights or loss history differ from reading every step", dev)
		}
	}
}

// TestStepAllocations: after warm-up a training step (batch, collocation
// draw, loss and gradient, Adam, reading back the losses, the progress
// report) allocates at most 10 times on the CPU backend, for every variant
// (BenchmarkStepEANDARN measures the default run).
func TestStepAllocations(t *testing.T) {
	p := tinyProblem(3, 24)
	for _, name := range Names {
		for _, boundary := range []bool{false, true} {
			m := smallMethod(t, name, t.TempDir())
			m.Config.Boundary = boundary
			o := setupT(t, m, p)
			step, nsteps := stepper(t, m, o)
			for range nsteps {
				step()
			}
			a := testing.AllocsPerRun(2*nsteps, step)
			t.Logf("%s boundary=%v: %.1f allocations per step", name, boundary, a)
			if a > 10 {
				t.Errorf("%s boundary=%v: %.1f allocations per step, want ≤ 10", name, boundary, a)
			}
		}
	}
}

// stepper returns a function that issues one training step of m on o as
// the training loop does (batch, collocation points, loss and gradient,
// Adam, reading back the losses, reporting progress), cycling through an
// epoch's batches, and the number of steps per epoch.
func stepper(tb testing.TB, m *Method, o *objective) (func(), int) {
	tr := newTrainer(&m.Config, &m.Run, o, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	nsteps := (o.T + m.Config.BatchFrames - 1) / m.Config.BatchFrames
	tr.st.Order = tr.rng.Perm(o.T)
	return func() {
		if tr.st.Pos == nsteps {
			tr.st.Pos = 0
		}
		if err := tr.step(); err != nil {
			tb.Fatal(err)
		}
		if _, err := tr.flush(); err != nil {
			tb.Fatal(err)
		}
		tr.report(context.Background(), tr.lr(tr.st.Epoch))
	}, nsteps
}

// TestAPResidualMatchesModel checks the backend's Aliev–Panfilov residual
// op (kernels restates the formulas: it imports nothing from solver/)
// against solver/ap's PointU and PointV, raw and guarded ε, with r_b.
func TestAPResidualMatchesModel(t *testing.T) {
	be, err := kernels.Open("cpu", kernels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	const nc, scale = 3000, 0.1
	rng := rand.New(rand.NewPCG(8, 9))
	for _, delta := range []float64{0, ap.SuggestedEpsDelta} {
		par := apParams(delta)
		model := ap.DefaultParams()
		model.EpsDelta = delta
		in := make([][]float64, 6)
		views, grads := make([]kernels.View, 6), make([]kernels.View, 6)
		for q := range in {
			in[q] = make([]float64, nc)
			for k := range in[q] {
				in[q][k] = rng.NormFloat64()
			}
			if q == 0 {
				for k := range in[q] { // u across the physical range and below the guard
					in[q][k] = -0.6 + 1.7*rng.Float64()
				}
			}
			b, _ := be.Alloc(kernels.F64, nc)
			g, _ := be.Alloc(kernels.F64, nc)
			views[q], grads[q] = kernels.Whole(b), kernels.Whole(g)
			if err := be.Upload(views[q], in[q]); err != nil {
				t.Fatal(err)
			}
		}
		lb, _ := be.Alloc(kernels.F64, 1)
		err := be.APResidual(par,
			kernels.APPoints{U: views[0], V: views[1], Ut: views[2], Vt: views[3], Lap: views[4], Dn: views[5]},
			kernels.APPoints{U: grads[0], V: grads[1], Ut: grads[2], Vt: grads[3], Lap: grads[4], Dn: grads[5]},
			scale, kernels.Whole(lb))
		if err != nil {
			t.Fatal(err)
		}
		got := make([][]float64, 6)
		for q := range got {
			got[q] = make([]float64, nc)
			be.Download(got[q], grads[q])
		}
		var sum float64
		for k := range nc {
			u, v := in[0][k], in[1][k]
			ru, du := model.PointU(u, v, in[2][k], in[4][k])
			rv, dv := model.PointV(u, v, in[3][k])
			sum += ru*ru + rv*rv + in[5][k]*in[5][k]
			a, b := 2*scale*ru/nc, 2*scale*rv/nc
			want := []float64{a*du.U + b*dv.U, a*du.V + b*dv.V, a * du.Ut, b * dv.Vt, a * du.Lapu, 2 * scale * in[5][k] / nc}
			for q, w := range want {
				if math.Abs(got[q][k]-w) > 1e-13*(math.Abs(w)+math.Abs(a)+math.Abs(b)) {
					t.Fatalf("δ=%g point %d derivative %d: %v, model %v", delta, k, q, got[q][k], w)
				}
			}
		}
		loss := make([]float64, 1)
		be.Download(loss, kernels.Whole(lb))
		if w := sum / nc; math.Abs(loss[0]-w) > 1e-12*w {
			t.Errorf("δ=%g: L_EP %v, model %v", delta, loss[0], w)
		}
	}
}
