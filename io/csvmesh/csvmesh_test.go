package csvmesh

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/shareddata"
)

// TestSharedMeshes loads the real meshes of ../shared/data with the node and
// triangle counts their READMEs state, a plausible size in mm, and the Euler
// characteristic V - E + F of the closed surfaces: 2 (a sphere) for all but
// the FwdInvToolkit heart, whose 350 nodes / 700 triangles give 0 — a closed
// surface of genus 1, not a sphere (worth knowing before using it as a heart).
func TestSharedMeshes(t *testing.T) {
	cases := []struct {
		dir, nodes, faces string
		scale             float64
		n, f              int
		chi               int     // Euler characteristic; checked when closed
		closed            bool    // closed 2-manifold per the README
		maxExtent         float64 // bounding-box size bound in mm, catches a unit slip
	}{
		{"ecgsim_normal_male", "heart_nodes.csv", "heart_faces.csv", 1000, 257, 510, 2, true, 200},
		{"ecgsim_normal_male", "thorax_nodes.csv", "thorax_faces.csv", 1000, 300, 596, 2, true, 700},
		{"utah_torso_tank_heart337", "heart_closed_nodes.csv", "heart_closed_faces.csv", 1, 337, 670, 2, true, 200},
		{"utah_torso_tank_heart337", "tank_closed_nodes.csv", "tank_closed_faces.csv", 1, 284, 564, 2, true, 700},
		{"utah_torso_tank_sock128", "sock_nodes.csv", "sock_faces.csv", 1, 128, 253, 0, false, 200},
		{"utah_torso_tank_sock128", "tank_nodes.csv", "tank_faces.csv", 1, 771, 1538, 2, true, 700},
		{"fwdinv_spline_subject1", "heart_nodes.csv", "heart_faces.csv", 1, 350, 700, 0, true, 200},
	}
	for _, c := range cases {
		t.Run(c.dir+"/"+c.nodes, func(t *testing.T) {
			d := shareddata.Dir(t, c.dir)
			m, err := LoadScaled(filepath.Join(d, c.nodes), filepath.Join(d, c.faces), c.scale)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Nodes) != c.n || len(m.Tris) != c.f {
				t.Fatalf("%d nodes / %d triangles, want %d / %d", len(m.Nodes), len(m.Tris), c.n, c.f)
			}
			lo, hi := m.Nodes[0], m.Nodes[0]
			for _, p := range m.Nodes {
				for k := range p {
					lo[k], hi[k] = math.Min(lo[k], p[k]), math.Max(hi[k], p[k])
				}
			}
			for k := range lo {
				if ext := hi[k] - lo[k]; ext <= 10 || ext > c.maxExtent {
					t.Errorf("axis %d extent %.1f mm outside (10, %g]: wrong unit?", k, ext, c.maxExtent)
				}
			}
			edges := map[[2]int]bool{}
			used := map[int]bool{}
			for _, tri := range m.Tris {
				for k := 0; k < 3; k++ {
					a, b := tri[k], tri[(k+1)%3]
					edges[[2]int{min(a, b), max(a, b)}] = true
					used[a] = true
				}
			}
			if chi := len(used) - len(edges) + len(m.Tris); c.closed && chi != c.chi {
				t.Errorf("Euler characteristic %d, want %d", chi, c.chi)
			}
		})
	}
}

func TestSharedMatrices(t *testing.T) {
	cases := []struct {
		dir, file string
		r, c      int
		rowSum1   bool // potential-based transfer matrix: rows sum to 1
	}{
		{"utah_torso_tank_sock128", "forward_matrix_tank771_from_sock128.csv", 771, 128, true},
		{"utah_torso_tank_sock128", "sock_potentials_frames170to190.csv", 128, 21, false},
		{"fwdinv_spline_subject1", "forward_matrix_114x350.csv", 114, 350, true},
		{"utah_torso_tank_heart337", "epicardial_potentials_337x563.csv", 337, 563, false},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			d := shareddata.Dir(t, c.dir)
			m, err := ReadMatrix(filepath.Join(d, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if r, cc := m.Dims(); r != c.r || cc != c.c {
				t.Fatalf("%dx%d, want %dx%d", r, cc, c.r, c.c)
			}
			if !c.rowSum1 {
				return
			}
			for i := 0; i < c.r; i++ {
				s := 0.0
				for _, x := range m.RawRowView(i) {
					s += x
				}
				if math.Abs(s-1) > 1e-3 {
					t.Fatalf("row %d sums to %v, want 1", i, s)
				}
			}
		})
	}
	d := shareddata.Dir(t, "physionet2007_case3_torso")
	idx, err := ReadIndices(filepath.Join(d, "electrode_node_index_120.csv"), 352)
	if err != nil || len(idx) != 120 {
		t.Fatalf("electrode indices: %d, %v", len(idx), err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nodes := write("nodes.csv", "# a tetrahedron\n0,0,0\n1,0,0\n0,1,0\n\n0,0,1\n")
	faces := write("faces.csv", "0,2,1\n0,1,3\n1,2,3\n0,3,2\n")
	m, err := Load(nodes, faces)
	if err != nil || len(m.Nodes) != 4 || len(m.Tris) != 4 || m.Nodes[3] != [3]float64{0, 0, 1} {
		t.Fatalf("tetrahedron: %v %v", m, err)
	}
	cases := []struct{ name, nodes, faces, want string }{
		{"face index out of range", nodes, write("f1.csv", "0,2,1\n0,1,4\n"), "row 2: want node indices in [0, 4)"},
		{"1-based faces", nodes, write("f2.csv", "1,2,3\n1,3,4\n"), "got 4"},
		{"two-column nodes", write("n2.csv", "0,0\n1,0\n"), faces, "want N x 3 node coordinates, got 2 x 2"},
		{"ragged row", write("n3.csv", "0,0,0\n1,0\n"), faces, "wrong number of fields"},
		{"NaN coordinate", write("n4.csv", "0,0,0\n1,NaN,0\n0,1,0\n0,0,1\n"), faces, `row 2, column 2: want a finite number, got "NaN"`},
		{"float faces", nodes, write("f3.csv", "0,2,1.5\n"), `want an integer, got "1.5"`},
		{"empty", write("n5.csv", ""), faces, "no rows"},
		{"missing", filepath.Join(dir, "nope.csv"), faces, "no such file"},
	}
	for _, c := range cases {
		_, err := Load(c.nodes, c.faces)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if _, err := ReadIndices(write("i.csv", "0\n5\n"), 4); err == nil || !strings.Contains(err.Error(), "row 2: want an index in [0, 4), got 5") {
		t.Errorf("index out of range: %v", err)
	}
	// Spreadsheets save CSV as UTF-8 with a byte-order mark, and Windows
	// ends lines with CR LF: both read as the plain file does.
	if idx, err := ReadIndices(write("bom.csv", "\ufeff0\r\n3\r\n"), 4); err != nil || len(idx) != 2 || idx[0] != 0 || idx[1] != 3 {
		t.Errorf("indices with a byte-order mark: %v %v", idx, err)
	}
	if m, err := Load(write("bomn.csv", "\ufeff0,0,0\n1,0,0\n0,1,0\n0,0,1\n"), faces); err != nil || m.Nodes[0] != [3]float64{} {
		t.Errorf("nodes with a byte-order mark: %v %v", m, err)
	}
}
