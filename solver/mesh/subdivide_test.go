package mesh_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/shareddata"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// Midpoint subdivision keeps the original nodes first and in place, keeps a
// closed surface closed, consistently wound and of the same volume, adds
// one node per edge and quadruples the triangles, and halves the mean edge
// (exactly on a closed mesh: the 2E half-edges and the 3F = 2E inner edges
// each sum to the old total).
func TestSubdivide(t *testing.T) {
	fix := loadFixtures(t)
	cases := []struct {
		name string
		m    *mesh.Mesh
	}{
		{"tetra", fix["tetra"]},
		{"inward_tetra", fix["inward_tetra"]},
		{"cube", fix["cube"]},
		{"open_tetra", fix["open_tetra"]},
		{"icosphere", geometry.Icosphere(2, 20)},
		{"heart", geometry.Heart()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep0, err := c.m.Validate()
			if err != nil {
				t.Fatal(err)
			}
			s := c.m.Subdivide()
			rep, err := s.Validate()
			if err != nil {
				t.Fatalf("subdivided mesh invalid: %v", err)
			}
			edges := (3*len(c.m.Tris) + len(rep0.BoundaryEdges)) / 2
			if got, want := len(s.Nodes), len(c.m.Nodes)+edges; got != want {
				t.Errorf("%d nodes, want %d (nodes + edges)", got, want)
			}
			if len(s.Tris) != 4*len(c.m.Tris) {
				t.Errorf("%d triangles, want %d", len(s.Tris), 4*len(c.m.Tris))
			}
			for i, x := range c.m.Nodes {
				if s.Nodes[i] != x {
					t.Fatalf("node %d moved: %v -> %v", i, x, s.Nodes[i])
				}
			}
			if rep.Closed != rep0.Closed || len(rep.BoundaryEdges) != 2*len(rep0.BoundaryEdges) {
				t.Errorf("closed %v with %d boundary edges, want %v with %d", rep.Closed, len(rep.BoundaryEdges), rep0.Closed, 2*len(rep0.BoundaryEdges))
			}
			if v0, v := c.m.SignedVolume(), s.SignedVolume(); rep0.Closed && math.Abs(v-v0) > 1e-12*math.Abs(v0) {
				t.Errorf("volume %g, want %g (same winding, same surface)", v, v0)
			}
			if e0, e := c.m.MeanEdgeLength(), s.MeanEdgeLength(); rep0.Closed && math.Abs(e-e0/2) > 1e-12*e0 {
				t.Errorf("mean edge %g, want half of %g", e, e0)
			}
		})
	}
}

// RefineTo stops at the first level whose mean edge is within the bound and
// refuses a bound it cannot reach. On the ECGSim ventricles (mean edge
// 16.5 mm) 9 mm takes one level (8.3 mm, 1022 nodes), 8 mm two (4.1 mm,
// 4082 nodes).
func TestRefineTo(t *testing.T) {
	ico := geometry.Icosphere(1, 20) // 42 nodes, mean edge ≈ 10.5 mm
	e := ico.MeanEdgeLength()
	for _, tc := range []struct {
		maxEdge float64
		levels  int
	}{{2 * e, 0}, {e, 0}, {0.99 * e, 1}, {0.51 * e, 1}, {0.49 * e, 2}, {e / 5, 3}} {
		r, levels, err := ico.RefineTo(tc.maxEdge)
		if err != nil || levels != tc.levels || r.MeanEdgeLength() > tc.maxEdge {
			t.Errorf("RefineTo(%g) with mean edge %g: %d levels, mean edge %g, err %v; want %d levels", tc.maxEdge, e, levels, r.MeanEdgeLength(), err, tc.levels)
		}
	}
	for _, bad := range []float64{0, -1, math.NaN(), e / 100} {
		if _, _, err := ico.RefineTo(bad); err == nil {
			t.Errorf("RefineTo(%g): no error", bad)
		} else if !strings.Contains(err.Error(), "mesh: refine to mean edge") {
			t.Errorf("RefineTo(%g): error %q does not name the refinement", bad, err)
		}
	}

	dir := shareddata.Dir(t, "ecgsim_normal_male")
	m, err := csvmesh.LoadScaled(filepath.Join(dir, "heart_nodes.csv"), filepath.Join(dir, "heart_faces.csv"), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		maxEdge float64
		levels  int
	}{{9, 1}, {8, 2}} {
		r, levels, err := m.RefineTo(tc.maxEdge)
		if err != nil || levels != tc.levels {
			t.Fatalf("ECGSim RefineTo(%g): %d levels, err %v; want %d", tc.maxEdge, levels, err, tc.levels)
		}
		t.Logf("ECGSim ventricles: mean edge %.2f mm, %d nodes -> %.2f mm, %d nodes (%d levels)", m.MeanEdgeLength(), len(m.Nodes), r.MeanEdgeLength(), len(r.Nodes), levels)
	}
}
