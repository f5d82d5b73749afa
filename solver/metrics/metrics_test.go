package metrics

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestMetrics(t *testing.T) {
	ref := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 6, 8})
	inf, nan := math.Inf(1), math.NaN()
	cases := []struct {
		name        string
		est, ref    *mat.Dense
		re, cc, mse float64
		frameRE     []float64
		frameCC     []float64
	}{
		{
			name: "perfect", est: ref, ref: ref,
			re: 0, cc: 1, mse: 0, frameRE: []float64{0, 0, 0}, frameCC: []float64{1, 1, 1},
		},
		{
			// 2u: RE = ‖u‖/‖u‖ = 1, MSE = Σu²/6 = 130/6; correlations stay 1.
			name: "doubled", est: mat.NewDense(2, 3, []float64{2, 4, 6, 8, 12, 16}), ref: ref,
			re: 1, cc: 1, mse: 130.0 / 6, frameRE: []float64{1, 1, 1}, frameCC: []float64{1, 1, 1},
		},
		{
			// Per-node offsets (+5, −1) and a factor 3 leave the pooled CC at 1
			// (Eq. 20 removes each node's time mean).
			name: "scaled and offset per node", est: mat.NewDense(2, 3, []float64{8, 11, 14, 11, 17, 23}), ref: ref,
			re: math.Sqrt((49 + 81 + 121 + 49 + 121 + 225) / 130.0), cc: 1, mse: (49 + 81 + 121 + 49 + 121 + 225) / 6.0,
			frameRE: []float64{math.Sqrt(98 / 17.0), math.Sqrt(202 / 40.0), math.Sqrt(346 / 73.0)}, frameCC: []float64{1, 1, 1},
		},
		{
			// By hand: d = [[1,−1],[−1,1]], Σd² = 4, Σu² = 14. Centred by
			// node: est [0,0],[−2,2]; ref [−1,1],[−1,1] → CC = 4/√(8·4).
			// Frame 0: est [1,0], ref [0,1] → CC −1; frame 1: [1,4], [2,3] → 1.
			name: "hand computed",
			est:  mat.NewDense(2, 2, []float64{1, 1, 0, 4}), ref: mat.NewDense(2, 2, []float64{0, 2, 1, 3}),
			re: math.Sqrt(4 / 14.0), cc: 1 / math.Sqrt(2), mse: 1,
			frameRE: []float64{math.Sqrt(2), math.Sqrt(2 / 13.0)}, frameCC: []float64{-1, 1},
		},
		{
			name: "negated", est: mat.NewDense(2, 3, []float64{-1, -2, -3, -4, -6, -8}), ref: ref,
			re: 2, cc: -1, mse: 4 * 130.0 / 6, frameRE: []float64{2, 2, 2}, frameCC: []float64{-1, -1, -1},
		},
		{
			// Zero reference and zero estimate: exact (RE 0), correlation undefined.
			name: "all zero", est: mat.NewDense(2, 2, nil), ref: mat.NewDense(2, 2, nil),
			re: 0, cc: nan, mse: 0, frameRE: []float64{0, 0}, frameCC: []float64{nan, nan},
		},
		{
			// Zero reference, non-zero estimate: RE +Inf. The estimate is
			// constant in time at each node, so CC is NaN; frame 1 is
			// spatially non-constant but the reference is flat: NaN.
			name: "zero reference", est: mat.NewDense(2, 2, []float64{1, 1, 2, 2}), ref: mat.NewDense(2, 2, nil),
			re: inf, cc: nan, mse: 2.5, frameRE: []float64{inf, inf}, frameCC: []float64{nan, nan},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := func(what string, got, want float64) {
				t.Helper()
				if math.IsNaN(want) || math.IsInf(want, 0) {
					if !(math.IsNaN(want) && math.IsNaN(got)) && got != want {
						t.Errorf("%s = %v, want %v", what, got, want)
					}
					return
				}
				if math.Abs(got-want) > 1e-14*math.Max(1, math.Abs(want)) {
					t.Errorf("%s = %.17g, want %.17g", what, got, want)
				}
			}
			check("RE", RE(c.est, c.ref), c.re)
			check("CC", CC(c.est, c.ref), c.cc)
			check("MSE", MSE(c.est, c.ref), c.mse)
			fre, fcc := FrameRE(c.est, c.ref), FrameCC(c.est, c.ref)
			if len(fre) != len(c.frameRE) || len(fcc) != len(c.frameCC) {
				t.Fatalf("series lengths %d, %d; want %d, %d", len(fre), len(fcc), len(c.frameRE), len(c.frameCC))
			}
			for i := range fre {
				check("FrameRE", fre[i], c.frameRE[i])
				check("FrameCC", fcc[i], c.frameCC[i])
			}
		})
	}
}

func TestShapeMismatchPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != mat.ErrShape {
			t.Errorf("recovered %v, want mat.ErrShape", r)
		}
	}()
	RE(mat.NewDense(2, 3, nil), mat.NewDense(3, 2, nil))
}

// Metrics accept any mat.Matrix: a transposed view scores like its copy.
func TestAcceptsViews(t *testing.T) {
	a := mat.NewDense(3, 2, []float64{1, 4, 2, 6, 3, 9})
	b := mat.NewDense(3, 2, []float64{1.5, 4, 2, 5, 3, 9.5})
	var at, bt mat.Dense
	at.CloneFrom(a.T())
	bt.CloneFrom(b.T())
	if got, want := CC(b.T(), a.T()), CC(&bt, &at); got != want {
		t.Errorf("CC on views %v, on copies %v", got, want)
	}
}

// ByRegion equals RE and CC computed on each region's rows alone, and the
// whole when every node is in one region.
func TestByRegion(t *testing.T) {
	est := mat.NewDense(4, 3, []float64{1, 2, 4, 0, 1, 1, 3, 3, 5, 2, 7, 1})
	ref := mat.NewDense(4, 3, []float64{1, 2, 3, 1, 1, 0, 2, 4, 6, 2, 5, 2})
	labels := []int{1, 0, 1, 0}
	got := ByRegion(est, ref, labels, 3)
	rows := func(m *mat.Dense, idx ...int) *mat.Dense {
		out := mat.NewDense(len(idx), 3, nil)
		for k, i := range idx {
			out.SetRow(k, m.RawRowView(i))
		}
		return out
	}
	for r, idx := range [][]int{{1, 3}, {0, 2}} {
		e, f := rows(est, idx...), rows(ref, idx...)
		if got[r].Nodes != 2 || got[r].RE != RE(e, f) || got[r].CC != CC(e, f) {
			t.Errorf("region %d: %+v, want 2 nodes, RE %g, CC %g", r, got[r], RE(e, f), CC(e, f))
		}
	}
	if got[2].Nodes != 0 || !math.IsNaN(got[2].RE) || !math.IsNaN(got[2].CC) {
		t.Errorf("empty region: %+v, want NaN scores", got[2])
	}
	if all := ByRegion(est, ref, []int{0, 0, 0, 0}, 1)[0]; all.RE != RE(est, ref) || all.CC != CC(est, ref) {
		t.Errorf("one region: %+v, want RE %g CC %g", all, RE(est, ref), CC(est, ref))
	}
	for _, bad := range [][]int{{0, 0, 0}, {0, 0, 0, 3}} {
		func() {
			defer func() {
				if recover() != mat.ErrShape {
					t.Errorf("labels %v: no ErrShape panic", bad)
				}
			}()
			ByRegion(est, ref, bad, 3)
		}()
	}
}
