package mesh_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// loadFixtures reads testdata/mesh/fixtures.json at the repository root: small
// meshes, each with one defect or none, keyed by name.
func loadFixtures(t *testing.T) map[string]*mesh.Mesh {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "mesh", "fixtures.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	var f struct {
		Cases []struct {
			Name  string
			Nodes [][3]float64
			Tris  [][3]int
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixtures %s: %v", path, err)
	}
	out := make(map[string]*mesh.Mesh, len(f.Cases))
	for _, c := range f.Cases {
		out[c.Name] = &mesh.Mesh{Nodes: c.Nodes, Tris: c.Tris}
	}
	return out
}

func TestValidateFixtures(t *testing.T) {
	fix := loadFixtures(t)
	cases := []struct {
		name     string
		err      error    // wanted defect kind; nil for a valid mesh
		closed   bool     // valid meshes: want Report.Closed
		boundary [][2]int // valid meshes: want Report.BoundaryEdges
		volume   float64  // valid closed meshes: want SignedVolume
	}{
		{name: "tetra", closed: true, volume: 1.0 / 6},
		{name: "cube", closed: true, volume: 1},
		{name: "inward_tetra", closed: true, volume: -1.0 / 6},
		{name: "open_tetra", boundary: [][2]int{{1, 3}, {2, 1}, {3, 2}}},
		{name: "repeated_index", err: mesh.ErrDegenerate},
		{name: "zero_area", err: mesh.ErrDegenerate},
		{name: "duplicate", err: mesh.ErrDuplicate},
		{name: "non_manifold", err: mesh.ErrNonManifold},
		{name: "inconsistent", err: mesh.ErrOrientation},
		{name: "index_out_of_range", err: mesh.ErrIndex},
		{name: "negative_index", err: mesh.ErrIndex},
		{name: "mobius", err: mesh.ErrOrientation},
	}
	if len(cases) != len(fix) {
		t.Errorf("%d fixtures, %d cases: every fixture needs a case", len(fix), len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := fix[c.name]
			if !ok {
				t.Fatalf("fixture %q missing", c.name)
			}
			rep, err := m.Validate()
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Validate error %v, want %v", err, c.err)
				}
				t.Logf("%v", err)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if rep.Closed != c.closed || !reflect.DeepEqual(rep.BoundaryEdges, c.boundary) {
				t.Errorf("report %+v, want closed %v boundary %v", rep, c.closed, c.boundary)
			}
			if c.closed {
				if v := m.SignedVolume(); math.Abs(v-c.volume) > 1e-15 {
					t.Errorf("signed volume %g, want %g", v, c.volume)
				}
			}
		})
	}
}

func TestValidateEdgeCases(t *testing.T) {
	tri := [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}
	t.Run("non-finite", func(t *testing.T) {
		m := &mesh.Mesh{Nodes: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, math.NaN(), 0}}, Tris: [][3]int{{0, 1, 2}}}
		if _, err := m.Validate(); !errors.Is(err, mesh.ErrCoordinate) {
			t.Errorf("Validate error %v, want %v", err, mesh.ErrCoordinate)
		}
	})
	t.Run("no triangles", func(t *testing.T) {
		if _, err := (&mesh.Mesh{Nodes: tri}).Validate(); err == nil {
			t.Error("Validate accepted a mesh without triangles")
		}
	})
	t.Run("isolated node", func(t *testing.T) {
		m := &mesh.Mesh{Nodes: append(slices.Clone(tri), [3]float64{3, 3, 3}), Tris: [][3]int{{0, 1, 2}}}
		rep, err := m.Validate()
		if err != nil || rep.Closed || !reflect.DeepEqual(rep.Isolated, []int{3}) || len(rep.BoundaryEdges) != 3 {
			t.Errorf("report %+v, error %v; want open, 3 boundary edges, node 3 isolated", rep, err)
		}
	})
}

func TestValidateCountsDefects(t *testing.T) {
	m := &mesh.Mesh{Nodes: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}}, Tris: [][3]int{{0, 1, 1}, {0, 1, 2}, {2, 2, 0}}}
	_, err := m.Validate()
	want := "mesh: degenerate triangle: triangle 0 [0 1 1]: repeated node (and 1 more)"
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// flipRandom rewinds a random half of the triangles.
func flipRandom(m *mesh.Mesh, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for k := range m.Tris {
		if rng.IntN(2) == 0 {
			m.Tris[k][1], m.Tris[k][2] = m.Tris[k][2], m.Tris[k][1]
		}
	}
}

func TestOrient(t *testing.T) {
	fix := loadFixtures(t)
	t.Run("scrambled icosphere", func(t *testing.T) {
		want := geometry.Icosphere(2, 5)
		m := geometry.Icosphere(2, 5)
		flipRandom(m, 7)
		if _, err := m.Validate(); !errors.Is(err, mesh.ErrOrientation) {
			t.Fatalf("scrambled: Validate error %v, want %v", err, mesh.ErrOrientation)
		}
		if err := m.Orient(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m.Tris, want.Tris) {
			t.Errorf("Orient did not restore the outward winding")
		}
	})
	t.Run("inward then outward, two components", func(t *testing.T) {
		// A sphere inside an inward-wound sphere: both end up outward.
		a, b := geometry.Icosphere(1, 5), geometry.Icosphere(1, 2)
		m := &mesh.Mesh{Nodes: append(a.Nodes, b.Nodes...)}
		for _, tr := range a.Tris {
			m.Tris = append(m.Tris, [3]int{tr[0], tr[2], tr[1]})
		}
		off := len(a.Nodes)
		for _, tr := range b.Tris {
			m.Tris = append(m.Tris, [3]int{tr[0] + off, tr[1] + off, tr[2] + off})
		}
		if err := m.Orient(); err != nil {
			t.Fatal(err)
		}
		outer := &mesh.Mesh{Nodes: m.Nodes, Tris: m.Tris[:len(a.Tris)]}
		if v, w := m.SignedVolume(), outer.SignedVolume(); v <= w || w <= 0 {
			t.Errorf("volumes: outer %g, total %g; want both positive, total larger", w, v)
		}
	})
	t.Run("open hex grid", func(t *testing.T) {
		m, _ := hexGrid(6, 1)
		orig := slices.Clone(m.Tris)
		flipRandom(m, 9)
		m.Tris[0] = orig[0] // the seed triangle keeps its winding on an open surface
		if err := m.Orient(); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m.Tris, orig) {
			t.Errorf("Orient did not restore the grid's winding")
		}
	})
	t.Run("mobius", func(t *testing.T) {
		m := fix["mobius"]
		before := slices.Clone(m.Tris)
		if err := m.Orient(); !errors.Is(err, mesh.ErrOrientation) {
			t.Errorf("Orient error %v, want %v", err, mesh.ErrOrientation)
		}
		if !reflect.DeepEqual(m.Tris, before) {
			t.Errorf("failed Orient changed the triangles")
		}
	})
	t.Run("non-manifold", func(t *testing.T) {
		if err := fix["non_manifold"].Orient(); !errors.Is(err, mesh.ErrNonManifold) {
			t.Errorf("Orient error %v, want %v", err, mesh.ErrNonManifold)
		}
	})
}

func TestNormalsAndNeighbors(t *testing.T) {
	m := geometry.Icosphere(3, 10)
	for i, n := range m.VertexNormals() {
		p := m.Nodes[i]
		radial := [3]float64{p[0] / 10, p[1] / 10, p[2] / 10}
		if c := n[0]*radial[0] + n[1]*radial[1] + n[2]*radial[2]; c < 0.999 {
			t.Fatalf("node %d: normal %v · radial = %g", i, n, c)
		}
	}
	for k, n := range m.TriangleNormals() {
		p := m.Nodes[m.Tris[k][0]]
		if n[0]*p[0]+n[1]*p[1]+n[2]*p[2] <= 0 {
			t.Fatalf("triangle %d: normal %v points inward", k, n)
		}
	}
	nb := m.Neighbors()
	for i, l := range nb {
		// Icosphere valences: 5 at the 12 original vertices, 6 elsewhere.
		if want := 6; i < 12 {
			want = 5
			if len(l) != want {
				t.Fatalf("node %d: %d neighbours, want %d", i, len(l), want)
			}
		} else if len(l) != want {
			t.Fatalf("node %d: %d neighbours, want %d", i, len(l), want)
		}
		if !slices.IsSorted(l) || slices.Contains(l, i) {
			t.Fatalf("node %d: neighbours %v not sorted or contain the node", i, l)
		}
	}
}

func TestEdgePathDistances(t *testing.T) {
	// Along a grid row the edge path is the straight line.
	g, _ := hexGrid(6, 0.5)
	d := g.EdgePathDistances(0)
	for i := 0; i < 6; i++ {
		if math.Abs(d[i]-0.5*float64(i)) > 1e-12 {
			t.Errorf("grid node %d: %g, want %g", i, d[i], 0.5*float64(i))
		}
	}
	// On a sphere: at least the chord, at most 1.3 x the great-circle arc
	// (zig-zag paths on the irregular icosphere triangulation).
	const r = 10.0
	m := geometry.Icosphere(3, r)
	d = m.EdgePathDistances(5)
	worst := 0.0
	for i, p := range m.Nodes {
		q := m.Nodes[5]
		chord := math.Sqrt((p[0]-q[0])*(p[0]-q[0]) + (p[1]-q[1])*(p[1]-q[1]) + (p[2]-q[2])*(p[2]-q[2]))
		arc := 2 * r * math.Asin(math.Min(1, chord/(2*r)))
		if d[i] < chord-1e-9 || d[i] > 1.3*arc+1e-9 {
			t.Fatalf("node %d: edge path %g, chord %g, arc %g", i, d[i], chord, arc)
		}
		if i != 5 {
			worst = max(worst, d[i]/arc)
		}
	}
	t.Logf("icosphere 642: edge path / great-circle arc ≤ %.3f", worst)
	// Disconnected nodes are unreachable.
	two := &mesh.Mesh{Nodes: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {5, 5, 5}}, Tris: [][3]int{{0, 1, 2}}}
	if d := two.EdgePathDistances(0); !math.IsInf(d[3], 1) {
		t.Errorf("isolated node: %g, want +Inf", d[3])
	}
}

// TestDropRepeats: a triangle written twice in the same cyclic order is
// dropped (the Utah sock's defect), and the mesh then validates; the same
// nodes with the opposite winding are not a repeat and stay for Validate
// to refuse.
func TestDropRepeats(t *testing.T) {
	tetra := func(extra ...[3]int) *mesh.Mesh {
		m := geometry.Icosphere(0, 1)
		m.Tris = append(m.Tris, extra...)
		return m
	}
	base := geometry.Icosphere(0, 1)
	t0 := base.Tris[0]
	for _, tc := range []struct {
		name  string
		m     *mesh.Mesh
		pairs [][2]int
		err   error // Validate after DropRepeats
	}{
		{"none", tetra(), nil, nil},
		{"same order", tetra(t0), [][2]int{{len(base.Tris), 0}}, nil},
		{"rotated", tetra([3]int{t0[1], t0[2], t0[0]}, [3]int{t0[2], t0[0], t0[1]}), [][2]int{{len(base.Tris), 0}, {len(base.Tris) + 1, 0}}, nil},
		{"opposite winding", tetra([3]int{t0[0], t0[2], t0[1]}), nil, mesh.ErrDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pairs := tc.m.DropRepeats()
			if !reflect.DeepEqual(pairs, tc.pairs) {
				t.Errorf("pairs %v, want %v", pairs, tc.pairs)
			}
			if _, err := tc.m.Validate(); !errors.Is(err, tc.err) {
				t.Errorf("Validate: %v, want %v", err, tc.err)
			}
			if tc.err == nil && !slices.Equal(tc.m.Tris, base.Tris) {
				t.Errorf("triangles %v, want %v", tc.m.Tris, base.Tris)
			}
		})
	}
}

// TestUnmergedHint: a mesh whose triangles each have their own nodes (an
// STL export) is named unmerged; a mesh without coincident nodes is not.
func TestUnmergedHint(t *testing.T) {
	tet := &mesh.Mesh{
		Nodes: [][3]float64{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
		Tris:  [][3]int{{0, 2, 1}, {0, 1, 3}, {1, 2, 3}, {0, 3, 2}},
	}
	if h := tet.UnmergedHint(); h != "" {
		t.Errorf("tetrahedron: %q, want none", h)
	}
	stl := &mesh.Mesh{}
	for _, tr := range tet.Tris {
		k := len(stl.Nodes)
		stl.Nodes = append(stl.Nodes, tet.Nodes[tr[0]], tet.Nodes[tr[1]], tet.Nodes[tr[2]])
		stl.Tris = append(stl.Tris, [3]int{k, k + 1, k + 2})
	}
	if h, want := stl.UnmergedHint(), "; 8 nodes sit exactly on an earlier node (node 3 on node 0): unmerged vertices"; !strings.HasPrefix(h, want) {
		t.Errorf("STL tetrahedron: %q, want %q…", h, want)
	}
}
