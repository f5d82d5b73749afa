package hostile

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

// This file holds the classes of a fifth audit: a researcher brings their
// own meshes and recordings to eandarn-synth, exported from MATLAB,
// Python, ECGSim, SCIRun or a spreadsheet. What means one thing is read
// as the plain file (TestBroughtVariants); what could mean two things, or
// is wrong, is refused with a line that says what the file looks like
// (broughtCases). Each case says what the code before its fix did; those
// marked "already" were right before and are kept as they are.

// Sizes of the corpus' own recording: the heart and torso of smallMeshes
// (162-node icospheres of 20 and 80 mm), every 4th torso node a lead.
const (
	broughtNodes  = 162
	broughtLeads  = 41
	broughtFrames = 20
)

// broughtFiles writes the recording a researcher brings, as plain CSV:
// heart_nodes.csv and heart_faces.csv, torso_*.csv, leads.csv, bspm.csv
// (leads x frames, mV), truth.csv (heart nodes x frames) and R.csv (leads
// x heart nodes, the BEM's); it returns the flags of an import with a
// given R (no BEM): -heart heart -forward R.csv -bspm bspm.csv -units mV
// -rate 1000.
func broughtFiles(w *work) []string {
	heart, torso := geometry.Icosphere(2, 20), geometry.Icosphere(2, 80)
	writeMeshCSV(w, "heart", heart)
	writeMeshCSV(w, "torso", torso)
	var leads []int
	for i := 0; i < len(torso.Nodes); i += 4 {
		leads = append(leads, i)
	}
	writeCSV(w, "leads.csv", mat.NewDense(len(leads), 1, floats(leads)), "%g")
	R, err := forward.TransferMatrix(heart, torso, leads)
	must(w.t, err)
	writeCSV(w, "R.csv", R, "%.17g")
	truth := mat.NewDense(broughtNodes, broughtFrames, nil)
	for i, x := range heart.Nodes {
		for k := 0; k < broughtFrames; k++ {
			truth.Set(i, k, -80+90/(1+float64((k-10)*(k-10))*(1+x[2]/40)))
		}
	}
	writeCSV(w, "truth.csv", truth, "%.17g")
	var Y mat.Dense
	Y.Mul(R, truth)
	writeCSV(w, "bspm.csv", &Y, "%.17g")
	return args("-heart", "heart", "-forward", "R.csv", "-bspm", "bspm.csv", "-units", "mV", "-rate", "1000", "-log-level", "warn")
}

// writeMeshCSV writes m as NAME_nodes.csv and NAME_faces.csv.
func writeMeshCSV(w *work, name string, m *mesh.Mesh) {
	nodes, tris := clitest.MeshArrays(m)
	writeCSV(w, name+"_nodes.csv", nodes, "%.17g")
	writeCSV(w, name+"_faces.csv", mat.NewDense(len(m.Tris), 3, floats(tris)), "%g")
}

// writeCSV writes a as comma-separated rows, each value in format.
func writeCSV(w *work, name string, a mat.Matrix, format string) {
	r, c := a.Dims()
	var b strings.Builder
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, format, a.At(i, j))
		}
		b.WriteByte('\n')
	}
	must(w.t, os.WriteFile(w.path(name), []byte(b.String()), 0o644))
}

// floats converts ints to float64.
func floats(v []int) []float64 {
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	return f
}

// editCSV rewrites the text of a file of the case's folder.
func (w *work) editCSV(name string, edit func(string) string) {
	b, err := os.ReadFile(w.path(name))
	must(w.t, err)
	must(w.t, os.WriteFile(w.path(name), []byte(edit(string(b))), 0o644))
}

// mapLines applies f to every line of s (the final newline kept).
func mapLines(s string, f func(i int, line string) string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = f(i, l)
	}
	return strings.Join(lines, "\n") + "\n"
}

// transposeCSV transposes a comma-separated table.
func transposeCSV(s string) string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		rows = append(rows, strings.Split(l, ","))
	}
	var b strings.Builder
	for j := range rows[0] {
		for i := range rows {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(rows[i][j])
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// shiftIndices adds d to every integer of a comma-separated table.
func shiftIndices(s string, d int) string {
	return mapLines(s, func(_ int, l string) string {
		f := strings.Split(l, ",")
		for k, v := range f {
			var x int
			fmt.Sscan(v, &x)
			f[k] = fmt.Sprint(x + d)
		}
		return strings.Join(f, ",")
	})
}

// timeFile writes t.csv, the frame times k·step, and gives it to the
// import a as -time instead of its -rate.
func (w *work) timeFile(a []string, step float64) []string {
	var b strings.Builder
	for k := 0; k < broughtFrames; k++ {
		fmt.Fprintf(&b, "%g\n", float64(k)*step)
	}
	must(w.t, os.WriteFile(w.path("t.csv"), []byte(b.String()), 0o644))
	for i := range a {
		if a[i] == "-rate" {
			a[i], a[i+1] = "-time", "t.csv"
		}
	}
	return a
}

// broughtCases are the refusals of the fifth audit; TestCorpus runs them
// with the others.
func broughtCases() []hostileCase {
	imp := func(w *work, extra ...string) []string {
		return append(append(broughtFiles(w), "-out", "out.h5"), extra...)
	}
	// withTorso swaps -forward for the BEM's inputs, with the leads.
	withTorso := func(a []string) []string {
		for i := range a {
			if a[i] == "-forward" {
				a[i], a[i+1] = "-torso", "torso"
			}
		}
		return append(a, "-leads", "leads.csv")
	}
	// editing is the setup of an import whose file, once written, edit
	// rewrites.
	editing := func(file string, edit func(string) string, extra ...string) func(w *work) []string {
		return func(w *work) []string {
			a := imp(w, extra...)
			w.editCSV(file, edit)
			return a
		}
	}
	return []hostileCase{
		// Each was refused, but as "row 1, column 1: want a finite
		// number, got "t1"": a header row was not named.
		{name: "bspm_header_row", prog: "synth", want: `-bspm bspm.csv: read bspm.csv: row 1, column 1: want a finite number, got "lead" (a header row? want numbers only, no header: delete it)`,
			setup: editing("bspm.csv", func(s string) string { return "lead" + strings.Repeat(",t", broughtFrames-1) + "\n" + s })},
		{name: "bspm_pandas_index_and_header", prog: "synth", want: "as pandas' DataFrame.to_csv writes? write it with index=False, header=False",
			setup: editing("bspm.csv", func(s string) string {
				head := ""
				for k := 0; k < broughtFrames; k++ {
					head += fmt.Sprintf(",%d", k)
				}
				return head + "\n" + mapLines(s, func(i int, l string) string { return fmt.Sprintf("%d,%s", i, l) })
			})},
		// "record on line 1: wrong number of fields".
		{name: "bspm_decimal_commas", prog: "synth", want: "semicolons and commas: decimal commas (1,5;2,3, a European spreadsheet's CSV)? want decimal points and comma separators",
			setup: editing("bspm.csv", func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, ",", ";"), ".", ",") })},
		// Refused, but as "got """ alone.
		{name: "bspm_empty_cell", prog: "synth", want: `row 3, column 5: want a finite number, got "" (an empty cell: a missing value?)`,
			setup: editing("bspm.csv", func(s string) string {
				return mapLines(s, func(i int, l string) string {
					if i != 2 {
						return l
					}
					f := strings.Split(l, ",")
					f[4] = ""
					return strings.Join(f, ",")
				})
			})},
		// Already: NaN and Inf in any spelling.
		{name: "bspm_nan_lower_case", prog: "synth", want: `-bspm bspm.csv: read bspm.csv: row 1, column 1: want a finite number, got "nan"`,
			setup: editing("bspm.csv", func(s string) string { return "nan" + s[strings.Index(s, ","):] })},
		// The transposes were refused as "want 41xK (leads x frames), got
		// shape [20 41]", without saying that the file is transposed.
		{name: "bspm_transposed", prog: "synth", want: "-bspm bspm.csv: want 41xK (leads x frames), got shape [20 41]: transposed (frames x leads)? transpose it",
			setup: editing("bspm.csv", transposeCSV)},
		{name: "truth_transposed", prog: "synth", want: "-truth truth.csv: want 162x20 (heart nodes x frames), got shape [20 162]: transposed (frames x heart nodes)? transpose it",
			setup: editing("truth.csv", transposeCSV, "-truth", "truth.csv")},
		{name: "forward_transposed", prog: "synth", want: "-forward R.csv: want Kx162 (leads x heart nodes), got shape [162 41]: transposed (heart nodes x leads)? transpose it",
			setup: editing("R.csv", transposeCSV)},
		// Imported with exit 0: 20 frames in 0.019 ms (1 MHz), and with
		// -rate 1, in 19 s.
		{name: "time_in_seconds", prog: "synth", want: "-time t.csv: want times in ms, got a step of 0.001 ms (1e+06 Hz sampling, outside the 50 Hz–100 kHz of an ECG recording): are they in seconds? (×1000 for ms)",
			setup: func(w *work) []string { return w.timeFile(imp(w), 0.001) }},
		{name: "time_in_microseconds", prog: "synth", want: "-time t.csv: want times in ms, got a step of 1e+03 ms (1 Hz sampling, outside the 50 Hz–100 kHz of an ECG recording): are they in microseconds? (÷1000 for ms)",
			setup: func(w *work) []string { return w.timeFile(imp(w), 1000) }},
		{name: "rate_above_100kHz", prog: "synth", want: "-rate 1e+06: want a sampling rate in Hz, 50 Hz–100 kHz for an ECG recording",
			setup: func(w *work) []string { return imp(w, "-rate", "1e6") }},
		{name: "rate_in_kHz", prog: "synth", want: "-rate 1: want a sampling rate in Hz, 50 Hz–100 kHz for an ECG recording: is it in kHz? (-rate 1000 for 1 kHz)",
			setup: func(w *work) []string { return imp(w, "-rate", "1") }},
		// Refused as "row 300: want node indices in [0, 162) (0-based,
		// heart_nodes.csv), got 162", not named 1-based.
		{name: "faces_1_based", prog: "synth", want: "got 162; the indices run 1..162: 1-based (as MATLAB writes them)? subtract 1 from every index",
			setup: editing("heart_faces.csv", func(s string) string { return shiftIndices(s, 1) })},
		{name: "leads_1_based", prog: "synth", want: "-leads leads.csv: lead 161 is torso node 162, want 0..161 (0-based); the indices run 1..162: 1-based",
			setup: func(w *work) []string {
				a := withTorso(imp(w))
				var b strings.Builder
				for i := 1; i <= broughtNodes; i++ {
					fmt.Fprintln(&b, i)
				}
				must(w.t, os.WriteFile(w.path("leads.csv"), []byte(b.String()), 0o644))
				return a
			}},
		// Refused as "row 1, column 1: want an integer, got "-10.51…"".
		{name: "leads_electrode_positions", prog: "synth", want: "-leads torso_nodes.csv: want one integer per line (a vector), got shape [162 3]: electrode positions (x, y, z)? -leads wants the 0-based torso node of each lead",
			setup: func(w *work) []string { return append(withTorso(imp(w)), "-leads", "torso_nodes.csv") }},
		// Refused as "lead 41 repeats torso node 0", not naming the other.
		{name: "leads_repeated", prog: "synth", want: "-leads leads.csv: lead 41 repeats torso node 0 (lead 0): want distinct nodes",
			setup: func(w *work) []string {
				a := withTorso(imp(w))
				w.editCSV("leads.csv", func(s string) string { return s + "0\n" })
				return a
			}},
		// Refused as "orient: mesh: triangle index out of range: …".
		{name: "npy_triangles_1_based", prog: "synth", want: "-heart h: h_triangles: row 1: want node indices in [0, 162) (0-based, h_nodes), got 162; the indices run 1..162: 1-based",
			setup: func(w *work) []string {
				m := geometry.Icosphere(2, 20)
				nodes, tris := clitest.MeshArrays(m)
				for i := range tris {
					tris[i]++
				}
				tris[0] = broughtNodes // the first out-of-range index in row 1
				must(w.t, npy.WriteDense(w.path("h_nodes.npy"), nodes))
				must(w.t, npy.WriteInts(w.path("h_triangles.npy"), len(m.Tris), 3, tris))
				a := imp(w)
				a[1] = "h"
				return a
			}},
		// Refused as "want N x 3 node coordinates, got 162 x 4" and
		// "want F x 3 triangles, got 320 x 4".
		{name: "nodes_row_number_column", prog: "synth", want: "want N x 3 node coordinates, got 162 x 4; column 1 counts the rows 1..162: a row-number column? delete it",
			setup: editing("heart_nodes.csv", func(s string) string {
				return mapLines(s, func(i int, l string) string { return fmt.Sprintf("%d,%s", i+1, l) })
			})},
		{name: "faces_vtk_polygon_list", prog: "synth", want: "want F x 3 triangles, got 320 x 4; column 1 is 3 in every row: the vertex counts of a polygon list (VTK, PLY)? delete that column",
			setup: editing("heart_faces.csv", func(s string) string {
				return mapLines(s, func(_ int, l string) string { return "3," + l })
			})},
		// Refused as "not closed: 960 boundary edges, the first (0, 1)".
		{name: "heart_stl_unmerged", prog: "synth", want: "not closed: 960 boundary edges, the first (0, 1); 798 nodes sit exactly on an earlier node (node 5 on node 1): unmerged vertices, as an STL export writes? merge them",
			setup: func(w *work) []string {
				a := imp(w)
				m := geometry.Icosphere(2, 20)
				stl := &mesh.Mesh{}
				for _, tr := range m.Tris {
					k := len(stl.Nodes)
					stl.Nodes = append(stl.Nodes, m.Nodes[tr[0]], m.Nodes[tr[1]], m.Nodes[tr[2]])
					stl.Tris = append(stl.Tris, [3]int{k, k + 1, k + 2})
				}
				writeMeshCSV(w, "stl", stl)
				a[1] = "stl"
				return a
			}},
		// Already: separate LV and RV surfaces, an unreferenced node and
		// a zero-area triangle.
		{name: "heart_two_components", prog: "synth", want: "-heart two: 2 separate surfaces (node 162 is not connected to node 0)",
			setup: func(w *work) []string {
				a := imp(w)
				lv, rv := geometry.Icosphere(2, 20), geometry.Icosphere(2, 15)
				two := &mesh.Mesh{Nodes: lv.Nodes, Tris: lv.Tris}
				for _, x := range rv.Nodes {
					two.Nodes = append(two.Nodes, [3]float64{x[0] + 40, x[1], x[2]})
				}
				for _, t := range rv.Tris {
					two.Tris = append(two.Tris, [3]int{t[0] + 162, t[1] + 162, t[2] + 162})
				}
				writeMeshCSV(w, "two", two)
				a[1] = "two"
				return a
			}},
		{name: "heart_unreferenced_node", prog: "synth", want: "-heart heart: node 162 is in no triangle (1 such nodes)",
			setup: editing("heart_nodes.csv", func(s string) string { return s + "0,0,0\n" })},
		{name: "heart_degenerate_triangle", prog: "synth", want: "degenerate triangle: triangle 0",
			setup: func(w *work) []string {
				a := imp(w)
				m := geometry.Icosphere(2, 20)
				t0 := m.Tris[0]
				p, q := m.Nodes[t0[0]], m.Nodes[t0[2]]
				m.Nodes[t0[1]] = [3]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2}
				writeMeshCSV(w, "heart", m)
				return a
			}},
		// Refused after the simulation (in an import, before the BEM) as
		// "forward: torso mesh is not closed …", naming no flag.
		{name: "torso_open", prog: "synth", want: "-torso torso: forward: torso mesh is not closed: 3 boundary edges",
			setup: func(w *work) []string {
				a := withTorso(imp(w))
				w.editCSV("torso_faces.csv", func(s string) string { return s[strings.Index(s, "\n")+1:] })
				return a
			}},
		{name: "heart_torso_swapped", prog: "synth", want: "-heart torso -torso heart: forward: torso does not enclose the heart: heart node 0 at (-42.06, 68.05, 0) mm is outside the torso (162 of 162 heart nodes outside); the whole torso is inside the heart: heart and torso swapped?",
			setup: func(w *work) []string {
				a := withTorso(imp(w))
				a[1], a[3] = "torso", "heart" // -heart torso -torso heart
				return a
			}},
		// Refused as "forward: torso does not enclose the heart …", which
		// did not say why.
		{name: "torso_in_metres", prog: "synth", want: "-heart heart -torso torso: forward: torso does not enclose the heart: heart node 0 at (-10.51, 17.01, 0) mm is outside the torso (162 of 162 heart nodes outside); the torso is 0.277 mm across (bounding-box diagonal), the heart 69.3 mm: are they in different units?",
			setup: func(w *work) []string {
				a := withTorso(imp(w))
				writeMeshCSV(w, "torso", geometry.Icosphere(2, 0.08)) // 80 mm in metres
				return a
			}},
		// A simulation: refused only after the simulation, as "forward:
		// torso does not enclose the heart …".
		{name: "sim_heart_partly_outside_torso", prog: "synth", want: "-heart shifted.h5 -torso torso.h5: forward: torso does not enclose the heart: heart node 1 at (80.51, 17.01, 0) mm is outside the torso (51 of 162 heart nodes outside)",
			setup: func(w *work) []string {
				m := geometry.Icosphere(2, 20)
				for i := range m.Nodes {
					m.Nodes[i][0] += 70
				}
				clitest.WriteMesh(w.t, w.path("shifted.h5"), m)
				return append(smallMeshes(w), "-heart", "shifted.h5", "-out", "res.h5")
			}},
	}
}

// TestBroughtVariants: the forms other tools write of the recording's CSV
// files import as the plain files do: the same run file, dataset for
// dataset. Each was refused before (wrong number of fields, a whole row
// read as one number, "want a finite number, got "1.5D+00"") but CR LF
// with a byte-order mark, already read.
func TestBroughtVariants(t *testing.T) {
	plain := newWork(t)
	a := append(broughtFiles(plain), "-torso", "torso", "-leads", "leads.csv", "-out", "out.h5")
	if o := run(t, plain.dir, "eandarn-synth", a...); o.code != 0 {
		t.Fatalf("the plain files: exit %d: %s", o.code, o.stderr)
	}
	want, err := runfile.Load(plain.path("out.h5"))
	must(t, err)
	sep := func(s string) func(string) string {
		return func(text string) string { return strings.ReplaceAll(text, ",", s) }
	}
	for _, c := range []struct {
		name  string
		files []string // the files edited
		edit  func(string) string
	}{
		{"semicolons", []string{"bspm.csv", "R.csv", "heart_nodes.csv"}, sep(";")},
		{"tabs", []string{"bspm.csv", "heart_faces.csv", "torso_nodes.csv"}, sep("\t")},
		{"spaces (np.savetxt, MATLAB save -ascii)", []string{"bspm.csv", "R.csv", "heart_nodes.csv", "heart_faces.csv"}, func(s string) string {
			return mapLines(s, func(_ int, l string) string { return "   " + strings.ReplaceAll(l, ",", "   ") })
		}},
		{"CR LF and a byte-order mark", []string{"bspm.csv", "heart_nodes.csv", "heart_faces.csv", "leads.csv"}, func(s string) string {
			return "\ufeff" + strings.ReplaceAll(s, "\n", "\r\n")
		}},
		{"a comma ending every row", []string{"bspm.csv", "R.csv", "heart_faces.csv", "leads.csv"}, func(s string) string {
			return mapLines(s, func(_ int, l string) string { return l + "," })
		}},
		{"blank lines and rows of empty cells at the end", []string{"bspm.csv", "heart_nodes.csv", "leads.csv"}, func(s string) string {
			return s + "\n   \n" + strings.Repeat(",", strings.Count(s[:strings.Index(s, "\n")], ",")) + "\n\n"
		}},
		{"Fortran exponents", []string{"bspm.csv", "R.csv"}, func(s string) string {
			return mapLines(s, func(_ int, l string) string {
				f := strings.Split(l, ",")
				for k, v := range f {
					var x float64
					fmt.Sscan(v, &x)
					f[k] = strings.Replace(fmt.Sprintf("%.17e", x), "e", "D", 1)
				}
				return strings.Join(f, ",")
			})
		}},
		{"indices as floats (np.savetxt's default)", []string{"heart_faces.csv", "torso_faces.csv", "leads.csv"}, func(s string) string {
			return mapLines(s, func(_ int, l string) string {
				f := strings.Split(l, ",")
				for k, v := range f {
					var x float64
					fmt.Sscan(v, &x)
					f[k] = fmt.Sprintf("%.18e", x)
				}
				return strings.Join(f, " ")
			})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWork(t)
			a := append(broughtFiles(w), "-torso", "torso", "-leads", "leads.csv", "-out", "out.h5")
			for _, f := range c.files {
				w.editCSV(f, c.edit)
			}
			if o := run(t, w.dir, "eandarn-synth", a...); o.code != 0 {
				t.Fatalf("exit %d: %s", o.code, o.stderr)
			}
			got, err := runfile.Load(w.path("out.h5"))
			must(t, err)
			switch {
			case !mat.Equal(got.BSPM, want.BSPM):
				t.Error("the BSPM differs from the plain files'")
			case !mat.Equal(got.R, want.R):
				t.Error("R differs from the plain files'")
			case fmt.Sprint(got.Heart, got.Torso, got.Leads) != fmt.Sprint(want.Heart, want.Torso, want.Leads):
				t.Error("the geometry differs from the plain files'")
			}
		})
	}
}
