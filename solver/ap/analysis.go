package ap

import "math"

// ActivationTimes returns, per node, the time of the first upward crossing
// of threshold by u (0.5 is the usual choice), linearly interpolated between
// the two frames that bracket it; NaN where u never crosses upward. A node
// that starts at or above threshold is activated at Time[0].
func ActivationTimes(sol *Solution, threshold float64) []float64 {
	n, _ := sol.U.Dims()
	act := make([]float64, n)
	for i := range act {
		row := sol.U.RawRowView(i)
		if row[0] >= threshold {
			act[i] = sol.Time[0]
			continue
		}
		act[i] = crossing(sol.Time, row, threshold, 1, true)
	}
	return act
}

// RecoveryTimes returns, per node, the time of the first downward crossing
// of threshold by u after that node's activation time act[i] (interpolated
// as in ActivationTimes); NaN where the node never activated or has not
// recovered by the last frame. With act from ActivationTimes(sol, 0.5),
// RecoveryTimes(sol, act, 0.1) − act is the action potential duration to
// u = 0.1 (≈ 90% repolarization).
func RecoveryTimes(sol *Solution, act []float64, threshold float64) []float64 {
	rec := make([]float64, len(act))
	for i := range rec {
		rec[i] = math.NaN()
		if math.IsNaN(act[i]) {
			continue
		}
		// Start at the frame at or after activation.
		f := 0
		for f < len(sol.Time) && sol.Time[f] < act[i] {
			f++
		}
		rec[i] = crossing(sol.Time, sol.U.RawRowView(i), threshold, f, false)
	}
	return rec
}

// UpCrossings returns, per node, how many times u crosses threshold upward
// (from below to at-or-above between consecutive frames). A single beat
// gives 1 at every node.
func UpCrossings(sol *Solution, threshold float64) []int {
	n, T := sol.U.Dims()
	c := make([]int, n)
	for i := range c {
		row := sol.U.RawRowView(i)
		for f := 1; f < T; f++ {
			if row[f-1] < threshold && row[f] >= threshold {
				c[i]++
			}
		}
	}
	return c
}

// crossing returns the interpolated time of the first crossing of threshold
// by x between frames f−1 and f for f ≥ start (start ≥ 1 is enforced),
// upward (up) or downward; NaN if none.
func crossing(t, x []float64, threshold float64, start int, up bool) float64 {
	for f := max(start, 1); f < len(x); f++ {
		a, b := x[f-1], x[f]
		if (up && a < threshold && b >= threshold) || (!up && a >= threshold && b < threshold) {
			return t[f-1] + (threshold-a)/(b-a)*(t[f]-t[f-1])
		}
	}
	return math.NaN()
}
