package pinn

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTimeCurriculumWindow: T_e = ⌈T·(w0 + (1−w0)·e/(F·H))⌉, at least
// BatchFrames, all T frames from epoch F·H on and at every epoch with F = 0.
func TestTimeCurriculumWindow(t *testing.T) {
	for _, c := range []struct {
		f                      float64
		epoch, horizon, frames int
		want                   int
	}{
		{0, 0, 300, 661, 661},
		{1.0 / 3, 0, 300, 661, 67},    // ⌈66.1⌉
		{1.0 / 3, 50, 300, 661, 364},  // ⌈661·(0.1 + 0.9·0.5)⌉ = ⌈363.55⌉
		{1.0 / 3, 99, 300, 661, 656},  // ⌈655.05⌉
		{1.0 / 3, 100, 300, 661, 661}, // the curriculum is over
		{1.0 / 3, 299, 300, 661, 661}, //
		{1, 0, 1, 661, 67},            // a one-epoch horizon: the first epoch still starts small
		{1, 0, 300, 20, 8},            // never fewer frames than a batch
		{0.5, 0, 1000000, 5, 5},       // a batch larger than the window's floor, capped at T
		{1.0 / 3, 10, 40, 100, 78},    // ⌈100·(0.1 + 0.9·10/13.33)⌉ = ⌈77.5⌉
	} {
		cfg := Config{BatchFrames: 8, TimeCurriculum: c.f}
		if got := cfg.window(c.epoch, c.horizon, c.frames); got != c.want {
			t.Errorf("F %.3g, epoch %d of horizon %d, T %d: window %d, want %d", c.f, c.epoch, c.horizon, c.frames, got, c.want)
		}
	}
}

// TestTimeCurriculumFrames: under the curriculum an epoch's batches hold
// distinct, sorted frames of the window only, and every frame (random
// frames) or block (contiguous blocks) of the window is drawn; without it
// the batches are the permutation's chunks as before.
func TestTimeCurriculumFrames(t *testing.T) {
	const T, B, H = 101, 8, 30
	for _, random := range []bool{true, false} {
		for _, f := range []float64{0, 1.0 / 3} {
			cfg := Config{BatchFrames: B, RandomFrames: random, TimeCurriculum: f, Epochs: H}
			tr := &trainer{cfg: &cfg, run: &Run{}, obj: &objective{T: T}, st: &state{}, frameB: make([]int, 0, B)}
			rng := rand.New(rand.NewPCG(1, 2))
			nsteps := (T + B - 1) / B
			for e := range H {
				tr.st.Epoch = e
				w := cfg.window(e, H, T)
				order := rng.Perm(nsteps)
				if random {
					order = rng.Perm(T)
				}
				drawn := make([]int, T)
				for pos := range nsteps {
					fr := tr.frames(order, pos)
					if !slices.IsSorted(fr) || len(slices.Compact(slices.Clone(fr))) != len(fr) {
						t.Fatalf("random %v F %.3g epoch %d step %d: frames %v not sorted and distinct", random, f, e, pos, fr)
					}
					if f == 0 && random && !slices.Equal(fr, slices.Sorted(slices.Values(order[pos*B:min(T, pos*B+B)]))) {
						t.Fatalf("random frames without the curriculum: %v, want the permutation's chunk", fr)
					}
					for _, k := range fr {
						drawn[k]++
					}
				}
				for k, n := range drawn {
					inBlock := !random && k < (w+B-1)/B*B // a block that starts in the window is drawn whole
					switch {
					case k < w && n == 0:
						t.Fatalf("random %v F %.3g epoch %d: frame %d of the window (%d frames) never drawn", random, f, e, k, w)
					case k >= w && n > 0 && !inBlock:
						t.Fatalf("random %v F %.3g epoch %d: frame %d outside the window (%d frames) drawn", random, f, e, k, w)
					}
				}
			}
		}
	}
}
