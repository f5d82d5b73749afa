package csvmesh

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

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
	write := writer(t)
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
		{"missing", filepath.Join(filepath.Dir(nodes), "nope.csv"), faces, "no such file"},
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

// TestVariants: the forms other tools write of one table (MATLAB,
// np.savetxt, spreadsheets, Fortran) read as the plain comma-separated
// file does, value for value; what could mean two things is refused with
// a hint saying what the file looks like.
func TestVariants(t *testing.T) {
	write := writer(t)
	want, err := ReadMatrix(write("plain.csv", "1.5,-2,300\n0.25,4e-3,6\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, text string }{
		{"semicolons", "1.5;-2;300\n0.25;4e-3;6\n"},
		{"tabs", "1.5\t-2\t300\n0.25\t4e-3\t6\n"},
		{"spaces (np.savetxt)", "1.500000000000000000e+00 -2.000000000000000000e+00 3.000000000000000000e+02\n2.5e-01 4e-3 6\n"},
		{"aligned spaces (MATLAB save -ascii)", "   1.5000000e+00  -2.0000000e+00   3.0000000e+02\n   2.5000000e-01   4.0000000e-03   6.0000000e+00\n"},
		{"CR LF and a byte-order mark", "\ufeff1.5,-2,300\r\n0.25,4e-3,6\r\n"},
		{"CR line ends (old Mac)", "1.5,-2,300\r0.25,4e-3,6\r"},
		{"a comma ending every row", "1.5,-2,300,\n0.25,4e-3,6,\n"},
		{"blank and space-only lines", "\n1.5,-2,300\n   \n0.25,4e-3,6\n\n\n  \n"},
		{"rows of empty cells at the end (spreadsheet)", "1.5,-2,300\n0.25,4e-3,6\n,,\n,,\n"},
		{"spaces around fields", " 1.5 , -2 ,300 \n0.25,  4e-3,6\n"},
		{"Fortran exponents", "1.5D+00,-2d0,3.0D2\n0.25,4D-3,6\n"},
		{"quoted numbers", "\"1.5\",\"-2\",\"300\"\n0.25,4e-3,6\n"},
	} {
		got, err := ReadMatrix(write("v.csv", c.text))
		if err != nil || !mat.Equal(got, want) {
			t.Errorf("%s: %v %v, want %v", c.name, mat.Formatted(got), err, mat.Formatted(want))
		}
	}
	for _, c := range []struct{ name, text, want string }{
		{"header row", "x,y,z\n1,2,3\n", `row 1, column 1: want a finite number, got "x" (a header row? want numbers only, no header: delete it)`},
		{"pandas to_csv with index and header", ",0,1,2\n0,1.5,2,3\n1,4,5,6\n", `row 1, column 1: want a finite number, got "" (a table's header and row-index column, as pandas' DataFrame.to_csv writes? write it with index=False, header=False)`},
		{"decimal commas, semicolons", "1,5;2,3\n4,1;5,0\n", `row 1 "1,5;2,3": semicolons and commas: decimal commas`},
		{"decimal commas, tabs", "1,5\t2,3\n4,1\t5,0\n", `got "5\t2" (two numbers in one field: decimal commas`},
		{"decimal commas, quoted", "\"1,5\",\"2,3\"\n\"4,1\",\"5,0\"\n", `got "1,5" (a decimal comma? want a decimal point: 1.5, not 1,5)`},
		{"missing value", "1,2,3\n4,,6\n", `row 2, column 2: want a finite number, got "" (an empty cell: a missing value?)`},
		{"missing row of values", "1,2,3\n,,\n4,5,6\n", `row 2, column 1: want a finite number, got "" (an empty cell`},
		{"ragged rows", "1,2,3\n4,5\n", "row 2: 2 values, want 3 as in row 1 (wrong number of fields)"},
		{"NA (R)", "1,2,3\n4,NA,6\n", `row 2, column 2: want a finite number, got "NA"`},
		{"Inf", "1,2,3\n4,-Inf,6\n", `want a finite number, got "-Inf"`},
		{"overflow", "1,2,3\n4,1e400,6\n", `want a finite number, got "1e400"`},
		{"only separators", ",,\n,,\n", "no rows"},
		{"MATLAB v5 .mat", "MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Thu Dec  3 2026\x00\x00", "want CSV text, got a MATLAB v5 .mat file: name it FILE.mat and give FILE.mat:VAR"},
		{"MATLAB -v7.3 .mat (HDF5 after a 512-byte user block)", "MATLAB 7.3 MAT-file" + strings.Repeat(" ", 493) + "\x89HDF\r\n\x1a\n\x00", "got a MATLAB -v7.3 .mat file: name it FILE.mat and give FILE.mat:VAR"},
		{"HDF5", "\x89HDF\r\n\x1a\n\x00", "got an HDF5 file: name it FILE.h5 and give FILE.h5:DATASET"},
		{"npy without its suffix", "\x93NUMPY\x01\x00v\x00{'descr': '<f8'", "got a .npy file: name it FILE.npy"},
		{"Excel workbook", "PK\x03\x04\x14\x00\x06\x00", "got a zip archive (an Excel .xlsx workbook?): save the sheet as CSV"},
		{"Excel Unicode Text (UTF-16)", "\xff\xfe1\x00\t\x002\x00", "got UTF-16 text (Excel's Unicode Text): save it as CSV in UTF-8"},
		{"other binary", "1,2\x00,3\n", "got a binary file (a NUL byte in its first 4 KiB)"},
	} {
		if _, err := ReadMatrix(write("v.csv", c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

// TestMeshMistakes: integer tables written as floats (np.savetxt's
// default) are indices; a row-number column, a polygon list's vertex
// counts, quadrilaterals and 1-based triangles or indices are refused
// with a line that says which it looks like.
func TestMeshMistakes(t *testing.T) {
	write := writer(t)
	nodes := write("nodes.csv", "0,0,0\n1,0,0\n0,1,0\n0,0,1\n")
	faces := "0,2,1\n0,1,3\n1,2,3\n0,3,2\n"
	want, err := Load(nodes, write("faces.csv", faces))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{
		"0.0,2.0,1.0\n0.0,1.0,3.0\n1.0,2.0,3.0\n0.0,3.0,2.0\n",
		"0.000000000000000000e+00 2.000000000000000000e+00 1.000000000000000000e+00\n0 1 3\n1 2 3\n0 3 2\n",
	} {
		if m, err := Load(nodes, write("ff.csv", f)); err != nil || !slices.Equal(m.Tris, want.Tris) {
			t.Errorf("faces as floats %q: %v %v", f, m, err)
		}
	}
	for _, c := range []struct{ name, nodes, faces, want string }{
		{"1-based faces", nodes, "1,3,2\n1,2,4\n2,3,4\n1,4,3\n", "row 2: want node indices in [0, 4) (0-based, " + nodes + "), got 4; the indices run 1..4: 1-based (as MATLAB writes them)? subtract 1 from every index"},
		{"negative index", nodes, "0,2,1\n0,-1,3\n", "row 2: want node indices in [0, 4) (0-based, " + nodes + "), got -1"},
		{"fractional index", nodes, "0,2,1\n0,1.5,3\n", `row 2, column 2: want an integer, got "1.5"`},
		{"nodes with row numbers from 0", "0,0,0,0\n1,1,0,0\n2,0,1,0\n3,0,0,1\n", faces, "want N x 3 node coordinates, got 4 x 4; column 1 counts the rows 0..3: a row-number column? delete it"},
		{"nodes with row numbers from 1", "1,0,0,0\n2,1,0,0\n3,0,1,0\n4,0,0,1\n", faces, "column 1 counts the rows 1..4: a row-number column?"},
		{"faces with row numbers", nodes, "0,0,2,1\n1,0,1,3\n2,1,2,3\n3,0,3,2\n", "want F x 3 triangles, got 4 x 4; column 1 counts the rows 0..3"},
		{"VTK polygon list", nodes, "3,0,2,1\n3,0,1,3\n3,1,2,3\n3,0,3,2\n", "column 1 is 3 in every row: the vertex counts of a polygon list (VTK, PLY)? delete that column"},
		{"quadrilaterals", nodes, "0,1,2,3\n3,2,1,0\n", "want F x 3 triangles, got 2 x 4; quadrilaterals? split each into two triangles"},
	} {
		p := c.nodes
		if !strings.HasSuffix(p, ".csv") {
			p = write("n.csv", c.nodes)
		}
		if _, err := Load(p, write("f.csv", c.faces)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	// A fraction in row 1 is a fraction, not a header.
	if _, err := Load(nodes, write("f.csv", "0,2.5,1\n0,1,3\n")); err == nil || !strings.HasSuffix(err.Error(), `row 1, column 2: want an integer, got "2.5"`) {
		t.Errorf("a fraction in row 1: %v", err)
	}
	if _, err := ReadIndices(write("i.csv", "1\n2\n3\n4\n"), 4); err == nil || !strings.Contains(err.Error(), "row 4: want an index in [0, 4), got 4; the indices run 1..4: 1-based") {
		t.Errorf("1-based indices: %v", err)
	}
}

// writer returns a function that writes a file of text s in a temporary
// folder of t and returns its path.
func writer(t *testing.T) func(name, s string) string {
	dir := t.TempDir()
	return func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}
