package pinn

import (
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"os"
	"syscall"
	"testing"

	"github.com/eandarn/eandarn/io/runfile"
)

// The benchmarks run on the CPU backend, or on $EANDARN_DEVICE (benchDevice).

// BenchmarkEpochEANDARN is one full-grid training epoch of the paper's
// EAND-ARN (NN6, ND time derivative: -time-deriv nd) on the default dataset
// (1094 x 661 points): data + ND physics loss, forward and backward, in
// contiguous 8-frame mini-batches (1.5 grids of network evaluations with
// the stencil frames; no optimizer step), network passes in float64. It is
// the epoch make bench-epoch compares with PyTorch.
func BenchmarkEpochEANDARN(b *testing.B) { benchEpoch(b, "eandarn", false, "float64", ND) }

// BenchmarkEpochEANDARNFloat32 is the same epoch with float32 network
// passes (-precision float32).
func BenchmarkEpochEANDARNFloat32(b *testing.B) { benchEpoch(b, "eandarn", false, "float32", ND) }

// BenchmarkEpochEANDARNRandomFrames is the paper's training epoch: 8
// random frames per batch, each with its own stencil frames (up to 40
// evaluated frames per batch).
func BenchmarkEpochEANDARNRandomFrames(b *testing.B) {
	benchEpoch(b, "eandarn", true, "float32", ND)
}

// BenchmarkEpochEANDARNDefault is the default training epoch: 8 random
// frames per batch with the AD time derivative from the same pass (8
// evaluated frames per batch, one extra Taylor channel), float32 passes.
// Against BenchmarkEpochEANDARNRandomFrames it shows what the default's
// time derivative saves.
func BenchmarkEpochEANDARNDefault(b *testing.B) { benchEpoch(b, "eandarn", true, "float32", AD) }

// BenchmarkEpochEPDLAD is the default epdl-ad epoch (FNN 10x10, AD jets at
// N_c = 1024 points per batch, r_b on).
func BenchmarkEpochEPDLAD(b *testing.B) { benchEpoch(b, "epdl-ad", true, "float64", AD) }

// benchDevice is the backend of the benchmarks: $EANDARN_DEVICE when set
// (make gpu-check's run.sh sets cuda), else the CPU.
func benchDevice() string {
	if d := os.Getenv("EANDARN_DEVICE"); d != "" {
		return d
	}
	return "cpu"
}

func benchEpoch(b *testing.B, name string, random bool, precision string, time Deriv) {
	p := noisy(b, 0.01, 1)
	cfg, _ := DefaultConfig(name)
	cfg.RandomFrames = random
	cfg.Precision = precision
	cfg.TimeDeriv = time
	if time == ND {
		cfg.LBInputs, cfg.PhysicsRefine = 0, 0 // the paper's epoch, which torch_epoch_bench.py implements
	}
	run := DefaultRun()
	run.Device = benchDevice()
	o := setupT(b, &Method{Config: cfg, Run: run}, p)
	tr := newTrainer(&cfg, &run, o, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	T, B := o.T, cfg.BatchFrames
	nsteps := (T + B - 1) / B
	order := tr.rng.Perm(nsteps)
	if random {
		order = tr.rng.Perm(T)
	}
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuSeconds()
	defer func() { b.ReportMetric((cpuSeconds()-c0)*1e3/float64(b.N), "cpu-ms/op") }()
	for range b.N {
		for pos := range nsteps {
			frames := tr.frames(order, pos)
			if err := o.eval(frames, o.draw(tr.rng, len(frames), cfg.Collocation), 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStepEANDARN is one training step of the default eandarn run
// (8 random frames, float32 passes) as the training loop issues it: batch,
// collocation points, loss and gradient, Adam, the read-back of the losses
// and the progress report. After warm-up (the first epoch's steps are not
// timed) a step allocates only the report's values on the CPU backend:
// -benchmem reports allocs/op.
func BenchmarkStepEANDARN(b *testing.B) {
	p := noisy(b, 0.01, 1)
	cfg, _ := DefaultConfig("eandarn")
	run := DefaultRun()
	run.Device = benchDevice()
	m := &Method{Config: cfg, Run: run}
	step, nsteps := stepper(b, m, setupT(b, m, p))
	for range nsteps {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		step()
	}
}

// cpuSeconds returns the user and system CPU time of the process: on a
// shared machine, CPU time per epoch is a steadier measure of the work than
// wall time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// TestEpochExport writes what testdata/pinn/torch_epoch_bench.py needs to
// run the epoch of BenchmarkEpochEANDARN on the run file $EANDARN_EPOCH_DATA
// (as `make bench-epoch` does): the eandarn network (flat weights, input
// normalizer, architecture), λ, the batch size, the AP parameters, and Go's
// totals over one epoch of contiguous B-frame batches, Σ_b L_D, Σ_b L_EP,
// Σ_b (L_D + λ L_EP) and Σ_b ∂(L_D + λ L_EP)/∂θ, with float64 network
// passes and (keys suffixed _f32) with float32 ones, so the script can check
// its loss and gradient in both precisions against them (--check). Output:
// $EANDARN_EPOCH_EXPORT (JSON). Skips unless both are set.
func TestEpochExport(t *testing.T) {
	in, out := os.Getenv("EANDARN_EPOCH_DATA"), os.Getenv("EANDARN_EPOCH_EXPORT")
	if in == "" || out == "" {
		t.Skip("set EANDARN_EPOCH_DATA (run file) and EANDARN_EPOCH_EXPORT (JSON output) to export the epoch for torch_epoch_bench.py")
	}
	p, err := runfile.Load(in)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := DefaultConfig("eandarn")
	cfg.RandomFrames = false
	cfg.TimeDeriv = ND // the paper's epoch, which torch_epoch_bench.py implements
	cfg.LBInputs, cfg.PhysicsRefine = 0, 0
	o := setupT(t, &Method{Config: cfg}, p)
	T, B := o.T, cfg.BatchFrames
	rec := map[string]any{
		"data": in, "layers": cfg.Layers, "width": cfg.Width, "blocks": cfg.Blocks,
		"center": o.net.Norm.Center, "scale": o.net.Norm.Scale, "params": o.net.Params,
		"lambda": cfg.Lambda, "batch_frames": B,
		"ap": map[string]float64{"a": o.ap.A, "D": o.ap.D, "k": o.ap.K, "e0": o.ap.E0,
			"mu1": o.ap.Mu1, "mu2": o.ap.Mu2, "eps_delta": o.ap.EpsDelta},
	}
	for _, prec := range []string{"float64", "float32"} {
		cfg.Precision = prec
		o := setupT(t, &Method{Config: cfg}, p)
		grad := make([]float64, len(o.net.Params))
		var ld, lep, loss float64
		for bs := 0; bs < T; bs += B {
			frames := span(nil, bs, min(T, bs+B))
			// Collocation 0: every node of the batch frames, no draw.
			d, e, g := evalAt(t, o, o.net.Params, frames, o.draw(nil, len(frames), cfg.Collocation))
			for k, v := range g {
				grad[k] += v
			}
			ld, lep, loss = ld+d, lep+e, loss+d+cfg.Lambda*e
		}
		sfx := map[string]string{"float64": "", "float32": "_f32"}[prec]
		rec["loss_data"+sfx], rec["loss_ep"+sfx], rec["loss"+sfx], rec["grad"+sfx] = ld, lep, loss, grad
		t.Logf("%s epoch over %d frames in %d-frame batches: Σ L_D %.15g, Σ L_EP %.15g, Σ L %.15g", prec, T, B, ld, lep, loss)
	}
	buf, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
