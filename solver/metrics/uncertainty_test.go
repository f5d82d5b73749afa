package metrics

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestSpearman compares Spearman with hand computations: untied ranks by
// 1 − 6Σd²/(n(n²−1)), ties by the Pearson correlation of fractional ranks
// worked out below, invariance under monotone maps, and the undefined
// cases.
func TestSpearman(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		x, y []float64
		want float64
	}{
		// d = (−1, 1, −1, 1, 0): 1 − 6·4/(5·24) = 0.8.
		{"untied", []float64{1, 2, 3, 4, 5}, []float64{2, 1, 4, 3, 5}, 0.8},
		{"reversed", []float64{1, 2, 3, 4, 5}, []float64{50, 40, 30, 20, 10}, -1},
		{"monotone map", []float64{0.1, 3, 0.5, 7}, []float64{math.Exp(0.1), math.Exp(3), math.Exp(0.5), math.Exp(7)}, 1},
		// y ranks (1, 2, 3.5, 5, 3.5): deviations (−2, −1, .5, 2, .5) against
		// (−2, −1, 0, 1, 2): Σ = 8, Σx² = 10, Σy² = 9.5: 8/√95.
		{"tie", []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 8 / math.Sqrt(95)},
		// x ranks (1.5, 1.5, 3, 4), y untied (1, 2, 3, 4): deviations
		// (−1, −1, .5, 1.5) and (−1.5, −.5, .5, 1.5): Σ = 4.5, Σx² = 4.5,
		// Σy² = 5: 4.5/√22.5.
		{"tie in x", []float64{2, 2, 5, 9}, []float64{1, 2, 3, 4}, 4.5 / math.Sqrt(22.5)},
		{"constant", []float64{1, 2, 3}, []float64{4, 4, 4}, nan},
		{"one pair", []float64{1}, []float64{2}, nan},
	} {
		got := Spearman(c.x, c.y)
		if math.IsNaN(c.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-c.want) > 1e-15) {
			t.Errorf("%s: Spearman = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSpreadSkill: a spread proportional to each node's error ranks the
// nodes perfectly (1), a reversed one gives −1; NodeRMS is the RMS over
// frames.
func TestSpreadSkill(t *testing.T) {
	ref := mat.NewDense(4, 2, []float64{1, 1, 1, 1, 1, 1, 1, 1})
	est := mat.NewDense(4, 2, []float64{1.1, 0.9, 1.3, 0.7, 1, 1.2, 2, 1}) // errors RMS .1, .3, √.02, √.5
	good := mat.NewDense(4, 2, []float64{.1, .1, .3, .3, .1, .15, .6, .2})
	bad := mat.NewDense(4, 2, []float64{.6, .6, .1, .1, .3, .3, .01, .01})
	if got := NodeRMS(est, ref); math.Abs(got[0]-0.1) > 1e-15 || math.Abs(got[3]-math.Sqrt(0.5)) > 1e-15 {
		t.Errorf("NodeRMS = %v", got)
	}
	if got := SpreadSkill(good, est, ref); got != 1 {
		t.Errorf("spread in the errors' order: %v, want 1", got)
	}
	if got := SpreadSkill(bad, est, ref); got != -1 {
		t.Errorf("spread in the reverse order: %v, want -1", got)
	}
}
