package pinn

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/eandarn/eandarn/kernels"
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

// TestStepOnBackends checks a full training step (L_D, L_EP and the
// gradient of every variant, ND and AD r_b included) of every registered
// backend, in each precision it supports, against the CPU backend in
// float64: to rounding (1e-12 relative) in float64 and to float32 accuracy
// (1e-4 of the gradient's largest component) with float32 network passes.
// A device backend registered in the build (kernels.Register) is checked
// here with the trainer's own sequence of ops.
func TestStepOnBackends(t *testing.T) {
	p := tinyProblem(3, 12)
	for _, c := range []struct {
		name     string
		boundary bool
		frames   []int
		nc       int
	}{
		{"eandarn", false, []int{0, 1, 5, 11}, 0},
		{"eandarn", true, []int{3, 4}, 30},
		{"epdl-dnd", false, []int{2, 7, 8}, 50},
		{"epdl-ad", true, []int{0, 6, 7, 10}, 40},
	} {
		cfg, _ := DefaultConfig(c.name)
		cfg.Boundary, cfg.Precision = c.boundary, "float64"
		ref := setupT(t, &Method{Config: cfg}, p)
		idx := append([]int(nil), ref.draw(rand.New(rand.NewPCG(4, 4)), len(c.frames), c.nc)...)
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
				what := c.name + " on " + name + " " + prec
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
