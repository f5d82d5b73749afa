package nn

import (
	"testing"
)

// Full-grid size of the default problem: 1094 heart nodes x 661 frames.
const fullGrid = 1094 * 661

// benchmarkEpoch times Forward + Backward of a network over npts points with
// a fixed output adjoint: the network part of one full-grid training epoch
// (one batch of all points). testdata/nn/torch_bench.py times the same
// computation in PyTorch.
func benchmarkEpoch(b *testing.B, cfg Config, npts int, prec Precision) {
	benchmarkBatches(b, cfg, npts, npts, prec)
}

// benchmarkJet times ForwardJet + BackwardJet with the AD variants' jets
// (first along t and the normal, second along x, y, z) over npts points.
func benchmarkJet(b *testing.B, cfg Config, npts int) {
	n, err := New(cfg, testNorm, 1)
	if err != nil {
		b.Fatal(err)
	}
	x := randomPoints(npts, 2)
	d1 := [][]float64{axis(npts, 3), randomVec(npts*In, 4)}
	d2 := [][]float64{axis(npts, 0), axis(npts, 1), axis(npts, 2)}
	jc := newJetCase(npts, d1, d2, x)
	gy := randomVec(npts*Out, 3)
	grad := make([]float64, n.NumParams())
	var ws Workspace
	b.ResetTimer()
	for range b.N {
		if err := n.ForwardJet(&ws, x, d1, d2, jc.y, jc.dy1, jc.dy2); err != nil {
			b.Fatal(err)
		}
		if err := n.BackwardJet(&ws, gy, jc.dy1, jc.dy2, grad); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkBatches times one epoch over npts points split into mini-batches
// of batch points (8 frames of 1094 nodes in the default training), each a
// Forward + Backward on a reused workspace.
func benchmarkBatches(b *testing.B, cfg Config, npts, batch int, prec Precision) {
	n, err := New(cfg, testNorm, 1)
	if err != nil {
		b.Fatal(err)
	}
	n.Precision = prec
	x := randomPoints(batch, 2)
	dy := randomVec(batch*Out, 3)
	y := make([]float64, batch*Out)
	grad := make([]float64, n.NumParams())
	var ws Workspace
	b.ResetTimer()
	for range b.N {
		for range npts / batch {
			if err := n.Forward(&ws, x, y); err != nil {
				b.Fatal(err)
			}
			if err := n.Backward(&ws, dy, grad); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/epoch")
}

func BenchmarkEpochNN6Batches8Frames(b *testing.B) {
	benchmarkBatches(b, Config{10, 15, 3}, fullGrid, 8*1094, Float64)
}
func BenchmarkEpochNN6FullGrid(b *testing.B) { benchmarkEpoch(b, Config{10, 15, 3}, fullGrid, Float64) }
func BenchmarkEpochNN6FullGridFloat32(b *testing.B) {
	benchmarkEpoch(b, Config{10, 15, 3}, fullGrid, Float32)
}
func BenchmarkEpochFNN10x15FullGrid(b *testing.B) {
	benchmarkEpoch(b, Config{Layers: 11, Width: 15}, fullGrid, Float64)
}
func BenchmarkJetNN6_8752(b *testing.B) { benchmarkJet(b, Config{10, 15, 3}, 8*1094) }
