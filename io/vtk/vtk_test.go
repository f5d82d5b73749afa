package vtk

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/vtk")

const golden = "../../testdata/vtk/tetrahedron.vtp"

// tetrahedron is the smallest closed surface: 4 nodes, 4 outward triangles.
func tetrahedron() *mesh.Mesh {
	return &mesh.Mesh{
		Nodes: [][3]float64{{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}},
		Tris:  [][3]int{{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}},
	}
}

// tetraFields has values that need all 17 significant digits, a negative
// zero-crossing, and a name that must be escaped in XML.
func tetraFields() map[string][]float64 {
	return map[string][]float64{
		"u":          {0, 0.1, 1.0 / 3, -2.5e-7},
		"truth_u":    {1, 0.5, 0.25, 0.125},
		`err<"abs">`: {1, 0.4, 0.25 - 1.0/3, 0.125 + 2.5e-7},
	}
}

// vtpFile mirrors the parts of a VTK XML PolyData file the tests check.
type vtpFile struct {
	XMLName xml.Name `xml:"VTKFile"`
	Type    string   `xml:"type,attr"`
	Piece   struct {
		Points int `xml:"NumberOfPoints,attr"`
		Polys  int `xml:"NumberOfPolys,attr"`
		Data   struct {
			Scalars string      `xml:"Scalars,attr"`
			Arrays  []dataArray `xml:"DataArray"`
		} `xml:"PointData"`
		Points_ struct {
			Array dataArray `xml:"DataArray"`
		} `xml:"Points"`
		Polys_ struct {
			Arrays []dataArray `xml:"DataArray"`
		} `xml:"Polys"`
	} `xml:"PolyData>Piece"`
}

type dataArray struct {
	Type       string `xml:"type,attr"`
	Name       string `xml:"Name,attr"`
	Components int    `xml:"NumberOfComponents,attr"`
	Format     string `xml:"format,attr"`
	Text       string `xml:",chardata"`
}

func (d dataArray) values(t *testing.T) []float64 {
	t.Helper()
	var v []float64
	for _, f := range strings.Fields(d.Text) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("array %q: %v", d.Name, err)
		}
		v = append(v, x)
	}
	return v
}

func parseVTP(t *testing.T, path string) *vtpFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f vtpFile
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s does not parse as XML: %v", path, err)
	}
	return &f
}

// checkVTP parses path and checks it holds exactly m and fields.
func checkVTP(t *testing.T, path string, m *mesh.Mesh, fields map[string][]float64) {
	t.Helper()
	f := parseVTP(t, path)
	p := f.Piece
	if f.Type != "PolyData" || p.Points != len(m.Nodes) || p.Polys != len(m.Tris) {
		t.Fatalf("%s: type %q, %d points, %d polys; want PolyData, %d, %d", path, f.Type, p.Points, p.Polys, len(m.Nodes), len(m.Tris))
	}
	pts := p.Points_.Array
	if pts.Components != 3 || pts.Format != "ascii" {
		t.Errorf("points: %d components, format %q", pts.Components, pts.Format)
	}
	xs := pts.values(t)
	if len(xs) != 3*len(m.Nodes) {
		t.Fatalf("points: %d values, want %d", len(xs), 3*len(m.Nodes))
	}
	for i, x := range m.Nodes {
		for c := range 3 {
			if xs[3*i+c] != x[c] {
				t.Errorf("node %d coordinate %d: got %v, want %v", i, c, xs[3*i+c], x[c])
			}
		}
	}
	arrays := map[string][]float64{}
	for _, a := range p.Polys_.Arrays {
		arrays[a.Name] = a.values(t)
	}
	conn, offs := arrays["connectivity"], arrays["offsets"]
	if len(conn) != 3*len(m.Tris) || len(offs) != len(m.Tris) {
		t.Fatalf("polys: %d connectivity, %d offsets; want %d, %d", len(conn), len(offs), 3*len(m.Tris), len(m.Tris))
	}
	for k, tri := range m.Tris {
		for c := range 3 {
			if int(conn[3*k+c]) != tri[c] {
				t.Errorf("triangle %d: connectivity %v, want %v", k, conn[3*k:3*k+3], tri)
			}
		}
		if int(offs[k]) != 3*(k+1) {
			t.Errorf("offset %d: got %v, want %d", k, offs[k], 3*(k+1))
		}
	}
	if len(p.Data.Arrays) != len(fields) {
		t.Fatalf("%d point-data arrays, want %d", len(p.Data.Arrays), len(fields))
	}
	for _, a := range p.Data.Arrays {
		want, ok := fields[a.Name]
		if !ok {
			t.Errorf("unexpected array %q", a.Name)
			continue
		}
		got := a.values(t)
		if len(got) != len(want) {
			t.Fatalf("array %q: %d values, want %d", a.Name, len(got), len(want))
		}
		for i := range want {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Errorf("array %q node %d: got %v, want %v (bit for bit)", a.Name, i, got[i], want[i])
			}
		}
	}
}

// TestWriteVTPGolden compares the tetrahedron file with the golden copy
// (go test ./io/vtk -update rewrites it) and checks that it parses as XML
// with the right counts and exact values.
func TestWriteVTPGolden(t *testing.T) {
	m, fields := tetrahedron(), tetraFields()
	path := filepath.Join(t.TempDir(), "tetra.vtp")
	if err := WriteVTP(path, m, fields); err != nil {
		t.Fatal(err)
	}
	checkVTP(t, path, m, fields)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./io/vtk -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (-update rewrites it):\n%s", golden, got)
	}
	// The active scalar is the first field by name.
	if s := parseVTP(t, path).Piece.Data.Scalars; s != `err<"abs">` {
		t.Errorf("Scalars = %q, want the first name", s)
	}
}

func TestWriteVTPRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		m      *mesh.Mesh
		fields map[string][]float64
		want   string // part of the error
	}{
		{"short field", tetrahedron(), map[string][]float64{"u": {1, 2, 3}}, `field "u": want 4 values`},
		{"NaN", tetrahedron(), map[string][]float64{"u": {1, math.NaN(), 3, 4}}, "node 1: value NaN not finite"},
		{"empty name", tetrahedron(), map[string][]float64{"": {1, 2, 3, 4}}, "empty name"},
		{"bad triangle", &mesh.Mesh{Nodes: tetrahedron().Nodes, Tris: [][3]int{{0, 1, 4}}}, nil, "triangle 0: node 4 out of range"},
		{"empty mesh", &mesh.Mesh{}, nil, "empty mesh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "x.vtp")
			err := WriteVTP(path, tc.m, tc.fields)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if _, serr := os.Stat(path); serr == nil {
				t.Error("a file was written despite the error")
			}
		})
	}
}

// TestWriteSeries writes three frames of a 42-node icosphere and checks the
// collection (files, time steps) and every frame's values.
func TestWriteSeries(t *testing.T) {
	m := geometry.Icosphere(1, 40)
	n, T := len(m.Nodes), 7
	u := mat.NewDense(n, T, nil)
	w := mat.NewDense(n, T, nil)
	time := make([]float64, T)
	for k := range T {
		time[k] = 0.085 * float64(k)
		for i, x := range m.Nodes {
			u.Set(i, k, math.Tanh(x[2]/40-0.2*float64(k)))
			w.Set(i, k, float64(i*T+k))
		}
	}
	fields := map[string]*mat.Dense{"u": u, "w": w}
	dir := filepath.Join(t.TempDir(), "series")
	frames := []int{0, 3, 6}
	if err := WriteSeries(dir, m, frames, time, fields); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, CollectionName))
	if err != nil {
		t.Fatal(err)
	}
	var pvd struct {
		Type string `xml:"type,attr"`
		Sets []struct {
			Timestep float64 `xml:"timestep,attr"`
			File     string  `xml:"file,attr"`
		} `xml:"Collection>DataSet"`
	}
	if err := xml.Unmarshal(b, &pvd); err != nil {
		t.Fatalf("pvd does not parse: %v", err)
	}
	if pvd.Type != "Collection" || len(pvd.Sets) != len(frames) {
		t.Fatalf("pvd: type %q with %d data sets, want Collection with %d", pvd.Type, len(pvd.Sets), len(frames))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(frames)+1 {
		t.Errorf("%d files in the series folder, want %d", len(entries), len(frames)+1)
	}
	for j, k := range frames {
		s := pvd.Sets[j]
		if s.File != FrameName(k) || s.Timestep != time[k] {
			t.Errorf("data set %d: file %q at %v, want %q at %v", j, s.File, s.Timestep, FrameName(k), time[k])
		}
		checkVTP(t, filepath.Join(dir, s.File), m, map[string][]float64{
			"u": mat.Col(nil, k, u), "w": mat.Col(nil, k, w),
		})
	}

	// A second export replaces the series; an unrelated folder is refused.
	if err := WriteSeries(dir, m, []int{1}, nil, fields); err != nil {
		t.Fatalf("rewriting a series folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("after rewrite: %d files, want 2 (old frames gone)", len(entries))
	}
	other := t.TempDir()
	if err := WriteSeries(other, m, []int{1}, nil, fields); err == nil || !strings.Contains(err.Error(), "not replacing") {
		t.Errorf("unrelated folder: err = %v, want a refusal", err)
	}
}

func TestWriteSeriesRefuses(t *testing.T) {
	m := tetrahedron()
	good := mat.NewDense(4, 3, nil)
	tests := []struct {
		name   string
		frames []int
		time   []float64
		fields map[string]*mat.Dense
		want   string
	}{
		{"no frames", nil, nil, map[string]*mat.Dense{"u": good}, "no frames"},
		{"no fields", []int{0}, nil, nil, "no fields"},
		{"frame out of range", []int{0, 3}, nil, map[string]*mat.Dense{"u": good}, "frame 3 out of range: want 0..2"},
		{"frame twice", []int{1, 1}, nil, map[string]*mat.Dense{"u": good}, "frame 1 listed twice"},
		{"rows", []int{0}, nil, map[string]*mat.Dense{"u": mat.NewDense(5, 3, nil)}, "want 4x3 (nodes x frames), got 5x3"},
		{"frames differ", []int{0}, nil, map[string]*mat.Dense{"a": good, "b": mat.NewDense(4, 2, nil)}, `field "b": want 4x3`},
		{"time", []int{0}, []float64{0, 1}, map[string]*mat.Dense{"u": good}, "time axis: want 3 values"},
		{"NaN", []int{0, 2}, nil, map[string]*mat.Dense{"u": mat.NewDense(4, 3, []float64{0, 0, 0, 0, 0, math.Inf(1), 0, 0, 0, 0, 0, 0})}, "frame 2: field \"u\": node 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			err := WriteSeries(dir, m, tc.frames, tc.time, tc.fields)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if _, serr := os.Stat(dir); serr == nil {
				t.Error("the folder was written despite the error")
			}
		})
	}
}

// TestReadableByVTK reads a written series back with VTK's own
// vtkXMLPolyDataReader (Debian's python3-vtk9; skipped without it) and
// compares point, triangle and array counts and every value with what was
// written.
func TestReadableByVTK(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import vtk").Run(); err != nil {
		t.Skipf("%s with the vtk module (apt-get install python3-vtk9) not available: %v", py, err)
	}
	m := geometry.Icosphere(1, 40)
	n, T := len(m.Nodes), 3
	u := mat.NewDense(n, T, nil)
	u.Apply(func(i, k int, _ float64) float64 { return math.Sin(float64(7*i+k)) / 3 }, u)
	dir := filepath.Join(t.TempDir(), "series")
	if err := WriteSeries(dir, m, []int{0, 2}, nil, map[string]*mat.Dense{"u": u}); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, json, vtk
from vtk.util.numpy_support import vtk_to_numpy as v2n
out = {}
for path in sys.argv[1:]:
    r = vtk.vtkXMLPolyDataReader()
    r.SetFileName(path)
    r.Update()
    p = r.GetOutput()
    out[path] = {
        "points": v2n(p.GetPoints().GetData()).ravel().tolist(),
        "conn": v2n(p.GetPolys().GetConnectivityArray()).tolist(),
        "u": v2n(p.GetPointData().GetArray("u")).tolist(),
        "scalars": p.GetPointData().GetScalars().GetName(),
    }
json.dump(out, sys.stdout)
`
	paths := []string{filepath.Join(dir, FrameName(0)), filepath.Join(dir, FrameName(2))}
	b, err := exec.Command(py, append([]string{"-c", script}, paths...)...).Output()
	if err != nil {
		t.Fatalf("python vtk: %v", err)
	}
	var got map[string]struct {
		Points  []float64
		Conn    []int
		U       []float64
		Scalars string
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for j, k := range []int{0, 2} {
		g := got[paths[j]]
		if len(g.Points) != 3*n || len(g.Conn) != 3*len(m.Tris) || len(g.U) != n || g.Scalars != "u" {
			t.Fatalf("frame %d as VTK reads it: %d coordinates, %d connectivity, %d values, scalars %q", k, len(g.Points), len(g.Conn), len(g.U), g.Scalars)
		}
		for i := range n {
			if g.U[i] != u.At(i, k) || g.Points[3*i+2] != m.Nodes[i][2] {
				t.Fatalf("frame %d node %d: VTK reads u %v z %v, want %v %v", k, i, g.U[i], g.Points[3*i+2], u.At(i, k), m.Nodes[i][2])
			}
		}
		for f, tri := range m.Tris {
			if g.Conn[3*f] != tri[0] || g.Conn[3*f+1] != tri[1] || g.Conn[3*f+2] != tri[2] {
				t.Fatalf("triangle %d: VTK reads %v, want %v", f, g.Conn[3*f:3*f+3], tri)
			}
		}
	}
}
