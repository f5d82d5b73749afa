package pinn

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkEpochEANDARN is one full-grid training epoch of eandarn NN6 on
// the default dataset (1094 x 661 points): data + ND physics loss, forward
// and backward, in contiguous 8-frame mini-batches (1.5 grids of network
// evaluations with the stencil frames; no optimizer step).
func BenchmarkEpochEANDARN(b *testing.B) { benchEpoch(b, "eandarn", false) }

// BenchmarkEpochEANDARNRandomFrames is the default training epoch: 8 random
// frames per batch, each with its own stencil frames.
func BenchmarkEpochEANDARNRandomFrames(b *testing.B) { benchEpoch(b, "eandarn", true) }

// BenchmarkEpochEPDLAD is the default epdl-ad epoch (FNN 10x10, AD jets at
// N_c = 1024 points per batch, r_b on).
func BenchmarkEpochEPDLAD(b *testing.B) { benchEpoch(b, "epdl-ad", true) }

func benchEpoch(b *testing.B, name string, random bool) {
	p := noisy(b, 0.01, 1)
	cfg, _ := DefaultConfig(name)
	cfg.RandomFrames = random
	o, err := (&Method{Config: cfg}).setup(p)
	if err != nil {
		b.Fatal(err)
	}
	tr := newTrainer(&cfg, o, o.net.Params, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	T, B := o.grid.T, cfg.BatchFrames
	nsteps := (T + B - 1) / B
	order := tr.rng.Perm(nsteps)
	if random {
		order = tr.rng.Perm(T)
	}
	b.ResetTimer()
	for range b.N {
		for pos := range nsteps {
			frames := tr.frames(order, pos)
			if _, _, err := o.eval(frames, o.draw(tr.rng, len(frames), cfg.Collocation), tr.grad); err != nil {
				b.Fatal(err)
			}
		}
	}
}
