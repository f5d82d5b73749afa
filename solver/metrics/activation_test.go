package metrics_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/metrics"
)

// sigmoidRows returns n x T logistic upstrokes 1/(1+exp(−(t−c_i)/w)) on
// the time axis t, one centre c_i per row: their steepest point is c_i.
func sigmoidRows(t, centres []float64, w float64) *mat.Dense {
	u := mat.NewDense(len(centres), len(t), nil)
	for i, c := range centres {
		for k, x := range t {
			u.Set(i, k, 1/(1+math.Exp(-(x-c)/w)))
		}
	}
	return u
}

// The steepest deflection of logistic upstrokes centred between frames is
// found to a small fraction of a frame (sub-frame refinement), in either
// polarity, on any affine image of the signal (units), with or without
// smoothing; noise at the level of a noisy reconstruction is absorbed by
// the default smoothing; a node without the wanted deflection gets NaN.
func TestActivationTimesSigmoids(t *testing.T) {
	const tau = 0.1
	time := make([]float64, 200)
	for k := range time {
		time[k] = tau * float64(k)
	}
	centres := []float64{3.03, 7.77, 10.05, 15.31}
	u := sigmoidRows(time, centres, 0.25)
	rng := rand.New(rand.NewPCG(1, 2))
	noisy := mat.DenseCopyOf(u)
	noisy.Apply(func(_, _ int, v float64) float64 { return v + 0.03*rng.NormFloat64() }, noisy)
	mv := mat.DenseCopyOf(u)
	mv.Apply(func(_, _ int, v float64) float64 { return 20 - 90*v }, mv) // an inverted mV image
	for _, tc := range []struct {
		name   string
		u      *mat.Dense
		pol    metrics.Polarity
		smooth float64
		tol    float64 // in frames
	}{
		{"raw upstroke", u, metrics.Upstroke, 0, 0.05},
		{"smoothed upstroke", u, metrics.Upstroke, metrics.ActivationSmoothing, 0.05},
		{"inverted mV, downstroke", mv, metrics.Downstroke, metrics.ActivationSmoothing, 0.05},
		{"noise 0.03, smoothed", noisy, metrics.Upstroke, metrics.ActivationSmoothing, 1},
	} {
		got := metrics.ActivationTimes(tc.u, time, tc.pol, tc.smooth)
		for i, c := range centres {
			if d := math.Abs(got[i]-c) / tau; !(d <= tc.tol) {
				t.Errorf("%s: node %d activates at %.4f, want %.4f within %.2g frames (off by %.3g)", tc.name, i, got[i], c, tc.tol, d)
			}
		}
	}
	flat := mat.NewDense(2, len(time), nil)
	flat.SetRow(1, mat.Row(nil, 0, u)) // an upstroke has no downstroke
	for i, x := range metrics.ActivationTimes(flat, time, metrics.Downstroke, 0) {
		if !math.IsNaN(x) {
			t.Errorf("node %d (constant or rising only): downstroke at %g, want NaN", i, x)
		}
	}
	// A smoothing far wider than the recording (the 20-unit one smoothed by
	// 0.8 units of an axis whose step is 1e-11 units, as if it were not in
	// the smoothing's units) marks no activation, instead of asking for a
	// kernel of 3.2e11 frames; up to twice the recording's span, it does.
	tiny := make([]float64, len(time))
	for k := range tiny {
		tiny[k] = 1e-10 * time[k]
	}
	for i, x := range metrics.ActivationTimes(u, tiny, metrics.Upstroke, metrics.ActivationSmoothing) {
		if !math.IsNaN(x) {
			t.Errorf("node %d: activates at %g under a smoothing 1.6e10 times the recording, want NaN", i, x)
		}
	}
	span := time[len(time)-1] - time[0]
	for _, w := range []float64{0.49 * span, 0.51 * span} {
		got := metrics.ActivationTimes(u, time, metrics.Upstroke, w)
		if defined := !math.IsNaN(got[0]); defined != (w < span/2) {
			t.Errorf("smoothing σ = %.3g of a %.3g-unit recording: activation defined %v, want %v", w, span, defined, w < span/2)
		}
	}
}

// On simulated action potentials (the default heart paced at the apex,
// 661 frames over 56 units) the steepest upstroke after the default
// smoothing lands on the simulator's own activation times (u crossing 0.5
// upward) to within a fraction of a frame at every node outside the
// stimulated patch; the steepest downstroke of the extracellular-like
// image 5 − 90u gives the same times.
func TestActivationTimesSimulated(t *testing.T) {
	heart := geometry.Heart()
	cfg := ap.DefaultConfig()
	cfg.Heart = heart
	sol, err := ap.Simulate(mesh.LaplaceBeltrami(heart), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := ap.ActivationTimes(sol, 0.5)
	got := metrics.ActivationTimes(sol.U, sol.Time, metrics.Upstroke, metrics.ActivationSmoothing)
	phi := mat.DenseCopyOf(sol.U)
	phi.Apply(func(_, _ int, v float64) float64 { return 5 - 90*v }, phi)
	down := metrics.ActivationTimes(phi, sol.Time, metrics.Downstroke, metrics.ActivationSmoothing)
	tau := sol.Time[1] - sol.Time[0]
	stim := map[int]bool{}
	for _, i := range sol.Stimulated {
		stim[i] = true
	}
	var sum, worst, worstStim float64
	for i := range want {
		if math.Abs(down[i]-got[i]) > 1e-9 {
			t.Fatalf("node %d: downstroke of 5 − 90u at %g, upstroke of u at %g", i, down[i], got[i])
		}
		d := math.Abs(got[i] - want[i])
		if stim[i] {
			worstStim = math.Max(worstStim, d)
			continue
		}
		sum += d
		worst = math.Max(worst, d)
	}
	mean := sum / float64(len(want)-len(stim))
	t.Logf("steepest upstroke vs u = 0.5 crossing over %d nodes outside the stimulus: mean |Δ| %.4f, max %.4f units (frame %.4f); at the %d stimulated nodes up to %.3f",
		len(want)-len(stim), mean, worst, tau, len(stim), worstStim)
	// The stimulated nodes are driven by the pacing current, not by a
	// travelling front: their upstroke shape differs, and they are excluded.
	if mean > 0.25*tau || worst > tau {
		t.Errorf("mean |Δ| %.4f, max %.4f: want ≤ a quarter frame (%.4f) and one frame", mean, worst, tau)
	}
	sc := metrics.CompareActivation(got, want, heart.Nodes)
	if sc.CC < 0.9999 || sc.Localization > 6 || sc.Compared != len(want) {
		t.Errorf("against the simulator's map: %+v; want CC ≥ 0.9999, localization within the 6 mm stimulus", sc)
	}
}

// CompareActivation by hand: correlation and mean absolute error over the
// nodes where both maps are defined, earliest nodes, their distance.
func TestCompareActivation(t *testing.T) {
	nan := math.NaN()
	nodes := [][3]float64{{0, 0, 0}, {3, 4, 0}, {0, 0, 1}, {1, 1, 1}}
	ref := []float64{0, 1, 2, nan}
	est := []float64{1.5, 0.5, 2.5, 0.1}
	sc := metrics.CompareActivation(est, ref, nodes)
	// Defined pairs (1.5,0), (0.5,1), (2.5,2): |d| = 1.5, 0.5, 0.5.
	// Centred: est (0, −1, 1), ref (−1, 0, 1): CC = 1/√(2·2).
	if sc.Compared != 3 || math.Abs(sc.MAE-2.5/3) > 1e-15 || math.Abs(sc.CC-0.5) > 1e-15 {
		t.Errorf("compared %d, MAE %g, CC %g; want 3, %g, 0.5", sc.Compared, sc.MAE, sc.CC, 2.5/3)
	}
	if sc.Earliest != 3 || sc.RefEarliest != 0 || math.Abs(sc.Localization-math.Sqrt(3)) > 1e-15 {
		t.Errorf("earliest %d, ref %d, distance %g; want 3, 0, √3", sc.Earliest, sc.RefEarliest, sc.Localization)
	}
	none := metrics.CompareActivation([]float64{nan, nan, nan, nan}, ref, nodes)
	if none.Compared != 0 || !math.IsNaN(none.CC) || !math.IsNaN(none.MAE) || none.Earliest != -1 || !math.IsNaN(none.Localization) {
		t.Errorf("an undefined map: %+v; want nothing compared, NaNs, earliest −1", none)
	}
}
