package nn

import (
	"testing"

	"github.com/eandarn/eandarn/kernels"
)

// Full-grid size of the default problem: 1094 heart nodes x 661 frames.
const fullGrid = 1094 * 661

// benchmarkBatches times one epoch of the network over npts points split
// into mini-batches of batch points (8 frames of 1094 nodes in the default
// training), each a Forward + Backward with a fixed output adjoint on the
// CPU backend, with k1, k2 jet directions (0, 0: values only). One batch of
// all points is the network part of a full-grid training epoch, which
// testdata/nn/torch_bench.py times in PyTorch.
func benchmarkBatches(b *testing.B, cfg Config, npts, batch, k1, k2 int, prec kernels.DType) {
	n, err := New(cfg, testNorm, 1)
	if err != nil {
		b.Fatal(err)
	}
	be, err := kernels.Open("cpu", kernels.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	pass, err := be.NewNet(n.Spec(), kernels.NetOptions{Compute: prec, IO: kernels.F64, First: k1, Second: k2, MaxPoints: batch, Tape: true})
	if err != nil {
		b.Fatal(err)
	}
	up := func(v []float64) kernels.View {
		buf, err := be.Alloc(kernels.F64, len(v))
		if err != nil {
			b.Fatal(err)
		}
		if err := be.Upload(kernels.Whole(buf), v); err != nil {
			b.Fatal(err)
		}
		return kernels.Whole(buf)
	}
	nout := (1 + k1 + k2) * Out
	params, grad := up(n.Params), up(make([]float64, n.NumParams()))
	x := up(randomPoints(batch, 2)).Mat(in, batch)
	var dirs []kernels.Mat
	for k := range k1 + k2 {
		dirs = append(dirs, up(randomVec(in*batch, 4+uint64(k))).Mat(in, batch))
	}
	y, gy := up(make([]float64, nout*batch)).Mat(nout, batch), up(randomVec(nout*batch, 3)).Mat(nout, batch)
	b.ResetTimer()
	for range b.N {
		for range npts / batch {
			if err := pass.Forward(params, x, dirs, y); err != nil {
				b.Fatal(err)
			}
			if err := pass.Backward(params, gy, grad); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/epoch")
}

func BenchmarkEpochNN6Batches8Frames(b *testing.B) {
	benchmarkBatches(b, Config{10, 15, 3}, fullGrid, 8*1094, 0, 0, kernels.F64)
}
func BenchmarkEpochNN6FullGrid(b *testing.B) {
	benchmarkBatches(b, Config{10, 15, 3}, fullGrid, fullGrid, 0, 0, kernels.F64)
}
func BenchmarkEpochNN6FullGridFloat32(b *testing.B) {
	benchmarkBatches(b, Config{10, 15, 3}, fullGrid, fullGrid, 0, 0, kernels.F32)
}
func BenchmarkEpochFNN10x15FullGrid(b *testing.B) {
	benchmarkBatches(b, Config{Layers: 11, Width: 15}, fullGrid, fullGrid, 0, 0, kernels.F64)
}

// BenchmarkJetNN6_8752 times the AD variants' jets (first along t and the
// normal, second along x, y, z) and their reverse pass over 8 frames.
func BenchmarkJetNN6_8752(b *testing.B) {
	benchmarkBatches(b, Config{10, 15, 3}, 8*1094, 8*1094, 2, 3, kernels.F64)
}
