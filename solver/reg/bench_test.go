package reg

import (
	"context"
	"testing"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// The benchmarks run on the default dataset (m = 352 leads, n = 1094 heart
// nodes, T = 661 frames) at σ = 0.01; building it (BEM + simulation, a few
// seconds) is outside the timer.

// BenchmarkTikhonov2Sweep: factorization, 200-value λ sweep with GCV,
// L-curve corners and discrepancy, and the reconstruction (target < 5 s).
func BenchmarkTikhonov2Sweep(b *testing.B) {
	d := buildDataset(b)
	l, y := mesh.Laplacian(d.heart), inverse.AddNoise(d.y, 0.01, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SolveTikhonov(context.Background(), d.r, l, y, Options{Sigma: 0.01}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSTREAuto: STRE with (λs, λt, w) chosen by GCV over the default
// grids, 7 x 5 x 10 points plus the λt refinement (target < 60 s).
func BenchmarkSTREAuto(b *testing.B) {
	d := buildDataset(b)
	l, y := mesh.Laplacian(d.heart), inverse.AddNoise(d.y, 0.01, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := SolveSTRE(context.Background(), d.r, l, y, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
