package synth

import (
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/shareddata"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/geometry"
)

func TestDefault(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	m, n := p.R.Dims()
	if n != 1094 || m != 352 || len(p.Leads) != 352 {
		t.Fatalf("R is %dx%d with %d leads, want 352x1094 with 352", m, n, len(p.Leads))
	}
	if r, c := p.BSPM.Dims(); r != m || c != 661 || len(p.Time) != 661 {
		t.Fatalf("BSPM %dx%d, %d times; want %dx661, 661", r, c, len(p.Time), m)
	}
	var want mat.Dense
	want.Mul(p.R, p.TruthU)
	if !mat.EqualApprox(p.BSPM, &want, 1e-12) {
		t.Error("BSPM differs from R·U")
	}
	// The activation front must reach every node: each node's u peaks above 0.5.
	for i := 0; i < n; i++ {
		if mat.Max(p.TruthU.RowView(i)) < 0.5 || math.IsNaN(p.TruthU.At(i, 0)) {
			t.Fatalf("node %d never activates", i)
		}
	}
}

// Simulating on a refined copy returns one row per node of the given heart,
// sampled at its own nodes: the refined run's rows 0…n−1.
func TestSimulateRefined(t *testing.T) {
	heart := geometry.Icosphere(1, 20) // 42 nodes, mean edge 10.5 mm
	cfg := ap.DefaultConfig()
	cfg.Frames, cfg.Tend = 41, 20
	cfg.Stim.Pacing = ap.Pacing{Kind: ap.PaceNode, Node: 0}
	coarse, err := Simulate(heart, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fine, err := Simulate(heart, cfg, Options{Refine: 6})
	if err != nil {
		t.Fatal(err)
	}
	if r, c := fine.U.Dims(); r != 42 || c != 41 || fine.Levels != 1 || len(fine.Mesh.Nodes) != 162 {
		t.Fatalf("refined: U %dx%d, %d levels, %d simulation nodes; want 42x41, 1, 162", r, c, fine.Levels, len(fine.Mesh.Nodes))
	}
	if coarse.Levels != 0 || coarse.Mesh != heart {
		t.Errorf("unrefined run: %d levels, mesh %p; want 0 and the heart itself", coarse.Levels, coarse.Mesh)
	}
	for _, s := range []*Simulation{coarse, fine} {
		if a := s.Activation; a.Activated != 42 || a.Fraction() != 1 || !(a.First < a.Last) {
			t.Errorf("%d levels: %d of 42 nodes activate (span %g–%g), want all", s.Levels, a.Activated, a.First, a.Last)
		}
	}
	t.Logf("activation span: coarse %.2f–%.2f, refined %.2f–%.2f", coarse.Activation.First, coarse.Activation.Last, fine.Activation.First, fine.Activation.Last)
}

// The ECGSim ventricles (257 nodes, mean edge 16.5 mm) paced at the apex:
// with the one-ring stimulus the wave dies out before reaching every node
// on the mesh itself, and reaches all of them on the once-subdivided copy.
func TestECGSimPropagation(t *testing.T) {
	dir := shareddata.Dir(t, "ecgsim_normal_male")
	heart, err := csvmesh.LoadScaled(filepath.Join(dir, "heart_nodes.csv"), filepath.Join(dir, "heart_faces.csv"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := heart.Orient(); err != nil {
		t.Fatal(err)
	}
	cfg := ap.DefaultConfig()
	cfg.Stim.Pacing = ap.Pacing{Kind: ap.PaceNode, Node: 18} // README: apex is node 19, 1-based
	for _, tc := range []struct {
		refine   float64
		all      bool
		simNodes int
		levels   int
	}{{0, false, 257, 0}, {9, true, 1022, 1}} {
		s, err := Simulate(heart, cfg, Options{Refine: tc.refine})
		if err != nil {
			t.Fatal(err)
		}
		a := s.Activation
		t.Logf("refine %g: %d levels, %d simulation nodes (mean edge %.1f mm), %d stimulated: %d of 257 nodes activate, %.2f–%.2f",
			tc.refine, s.Levels, len(s.Mesh.Nodes), s.Mesh.MeanEdgeLength(), len(s.Stimulated), a.Activated, a.First, a.Last)
		if (a.Activated == 257) != tc.all || len(s.Mesh.Nodes) != tc.simNodes || s.Levels != tc.levels {
			t.Errorf("refine %g: %d of 257 activate on %d nodes (%d levels); want all = %v on %d (%d levels)",
				tc.refine, a.Activated, len(s.Mesh.Nodes), s.Levels, tc.all, tc.simNodes, tc.levels)
		}
	}
}
