package pinn

import (
	"context"
	"math"
	"reflect"
	"testing"
)

// TestStepOnDeviceAgreesWithCPU: a full training step of every PINN method
// (L_D, L_EP and the gradient of L_D + λ L_EP: the network passes with
// jets, the data products, the Eq. 15 operator and the Eq. 17–18 stencil
// with their adjoints, the AP residuals, the sums) on the CUDA backend —
// its emulator in plain go test, the card under -tags cuda — equals the
// step on the CPU backend with float32 network passes within float32
// tolerances: losses 5e-6 relative, each gradient component 3e-5 relative
// to its magnitude plus 1% of the largest (measured on the emulator: 6e-7
// and 4e-6; the device runs the data term and the residuals in float32,
// the CPU in float64). A 0.1% error in one residual derivative fails it.
func TestStepOnDeviceAgreesWithCPU(t *testing.T) {
	p := tinyProblem(3, 12)
	for _, c := range stepCases {
		cfg := c.config("float32")
		ref := setupT(t, &Method{Config: cfg}, p)
		idx := c.points(ref)
		ld0, lep0, g0 := evalAt(t, ref, ref.net.Params, c.frames, idx)
		o := setupT(t, &Method{Config: cfg, Run: Run{Device: deviceBackend}}, p)
		ld, lep, g := evalAt(t, o, o.net.Params, c.frames, idx)
		var gmax, worst float64
		for _, v := range g0 {
			gmax = math.Max(gmax, math.Abs(v))
		}
		for k := range g {
			worst = math.Max(worst, math.Abs(g[k]-g0[k])/(math.Abs(g0[k])+0.01*gmax))
		}
		what := c.String()
		t.Logf("%s on %s: L_D %.2g, L_EP %.2g, gradient %.2g relative to the cpu", what, deviceBackend, math.Abs(ld-ld0)/ld0, math.Abs(lep-lep0)/lep0, worst)
		if math.Abs(ld-ld0) > 5e-6*ld0 || math.Abs(lep-lep0) > 5e-6*lep0 || worst > 3e-5 {
			t.Errorf("%s on %s: L_D %v, L_EP %v, gradient off by %.2g; cpu float32 %v, %v", what, deviceBackend, ld, lep, worst, ld0, lep0)
		}
	}
}

// TestTrainOnDevice: three epochs of eandarn training (the trainer's loop:
// batches, Adam, the losses read back every SyncEvery steps, checkpoints)
// on the CUDA backend give the same bits twice, and weights and loss
// history close to the same training on the CPU backend with float32
// passes (weights 1e-5 of the largest, losses 1e-5 relative; measured
// 7.5e-7 and 1.3e-6 on the emulator: float32
// rounding that Adam carries over 9 steps).
func TestTrainOnDevice(t *testing.T) {
	p := tinyProblem(5, 12)
	train := func(device string) ([]float64, map[string][]float64) {
		m := smallMethod(t, "eandarn", t.TempDir())
		m.Config.Precision, m.Run.Device = "float32", device
		r, err := m.Solve(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: %v", device, err)
		}
		return finalParams(t, m.Run.Checkpoint), r.Series
	}
	p1, s1 := train(deviceBackend)
	p2, s2 := train(deviceBackend)
	if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(s1, s2) {
		t.Errorf("two trainings on %s differ", deviceBackend)
	}
	pc, sc := train("cpu")
	var pmax, dp float64
	for k := range pc {
		pmax = math.Max(pmax, math.Abs(pc[k]))
		dp = math.Max(dp, math.Abs(p1[k]-pc[k]))
	}
	var ds float64
	for _, name := range []string{"loss_data", "loss_ep"} {
		for e, v := range sc[name] {
			ds = math.Max(ds, math.Abs(s1[name][e]-v)/math.Abs(v))
		}
	}
	t.Logf("%s vs cpu after %d epochs: weights %.2g of the largest, losses %.2g relative", deviceBackend, len(sc["loss_data"]), dp/pmax, ds)
	if dp > 1e-5*pmax || ds > 1e-5 || len(sc["loss_data"]) == 0 {
		t.Errorf("%s vs cpu: weights differ by %.2g of the largest, losses by %.2g relative", deviceBackend, dp/pmax, ds)
	}
}
