package main

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/resultfile"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/io/vtk"
)

// tinyRun is io's fixture run file: 42 heart nodes, 12 frames, with truth.
const tinyRun = "../../testdata/io/tiny_run.h5"

// writeReconstruction writes a result file for tinyRun whose u is the
// truth plus a known perturbation, and returns it with that u.
func writeReconstruction(t *testing.T, dir string, input string) (string, *mat.Dense) {
	t.Helper()
	p, err := runfile.Load(tinyRun)
	if err != nil {
		t.Fatal(err)
	}
	n, T := p.TruthU.Dims()
	u := mat.NewDense(n, T, nil)
	u.Apply(func(i, k int, x float64) float64 { return x + 0.01*math.Sin(float64(3*i+k)) }, p.TruthU)
	f := resultfile.New()
	f.Matrices["reconstruction/u"] = u
	f.Vectors["reconstruction/time"] = p.Time
	f.Attrs["method"] = "tikhonov2"
	if input != "" {
		f.Attrs["input"] = input
	}
	path := filepath.Join(dir, "result.h5")
	if err := resultfile.Save(path, f); err != nil {
		t.Fatal(err)
	}
	return path, u
}

// readFrame parses one .vtp of the series: point count and arrays by name.
func readFrame(t *testing.T, path string) (int, map[string][]float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Piece struct {
			Points int `xml:"NumberOfPoints,attr"`
			Arrays []struct {
				Name string `xml:"Name,attr"`
				Text string `xml:",chardata"`
			} `xml:"PointData>DataArray"`
		} `xml:"PolyData>Piece"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	arrays := map[string][]float64{}
	for _, a := range f.Piece.Arrays {
		for _, s := range strings.Fields(a.Text) {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			arrays[a.Name] = append(arrays[a.Name], x)
		}
	}
	return f.Piece.Points, arrays
}

// TestVTKMode exports frames 0, 5, 10 and 11 of a reconstruction (the run
// file found through the result's input attribute) and checks each frame's
// u, u_truth and u_abs_error = |u − u_truth| node by node.
func TestVTKMode(t *testing.T) {
	dir := t.TempDir()
	result, u := writeReconstruction(t, dir, tinyRun)
	p, err := runfile.Load(tinyRun)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "maps")
	code, stdout, errs := call("-vtk", out, "-result", result, "-frames", "::5,11")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, errs)
	}
	pvd, err := os.ReadFile(filepath.Join(out, vtk.CollectionName))
	if err != nil {
		t.Fatal(err)
	}
	n := len(p.Heart.Nodes)
	for _, k := range []int{0, 5, 10, 11} {
		if !strings.Contains(string(pvd), `timestep="`+strconv.FormatFloat(p.Time[k], 'g', -1, 64)+`" group="" part="0" file="`+vtk.FrameName(k)+`"`) {
			t.Errorf("series.pvd lacks frame %d:\n%s", k, pvd)
		}
		points, arrays := readFrame(t, filepath.Join(out, vtk.FrameName(k)))
		if points != n || len(arrays) != 3 {
			t.Fatalf("frame %d: %d points, %d arrays; want %d, 3", k, points, len(arrays), n)
		}
		for i := range n {
			want := map[string]float64{
				"u": u.At(i, k), "u_truth": p.TruthU.At(i, k), "u_abs_error": math.Abs(u.At(i, k) - p.TruthU.At(i, k)),
			}
			for name, w := range want {
				if got := arrays[name][i]; got != w {
					t.Errorf("frame %d node %d %s: got %v, want %v", k, i, name, got, w)
				}
			}
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 5 {
		t.Errorf("%d files in the series, want 4 frames + series.pvd", len(entries))
	}

	// Rerunning replaces the series it wrote.
	if code, _, errs := call("-vtk", out, "-result", result, "-run", tinyRun, "-frames", "3"); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, errs)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 {
		t.Errorf("after rerun: %d files, want 1 frame + series.pvd", len(entries))
	}
}

// TestVTKModeRunBesideResult: a result whose input attribute is relative
// to the folder its job ran in ("run.h5", job run beside it) is found from
// another folder through the result's own, as HTML mode finds it.
func TestVTKModeRunBesideResult(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(tinyRun)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.h5"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	result, _ := writeReconstruction(t, dir, "run.h5")
	if _, err := os.Stat("run.h5"); err == nil {
		t.Fatal("run.h5 in the test's working folder: the case needs it absent")
	}
	if code, _, errs := call("-vtk", filepath.Join(dir, "maps"), "-result", result, "-frames", "0"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// TestVTKModeRefuses: a result without an input attribute and no -run, a
// run file of another mesh, and frames beyond the recording are bad input.
func TestVTKModeRefuses(t *testing.T) {
	dir := t.TempDir()
	result, _ := writeReconstruction(t, dir, "")
	other := filepath.Join(dir, "other.h5")
	f := resultfile.New()
	f.Matrices["reconstruction/u"] = mat.NewDense(5, 12, nil)
	f.Attrs["method"] = "stre"
	if err := resultfile.Save(other, f); err != nil {
		t.Fatal(err)
	}
	// A result whose input attribute names a run file that is not there
	// (eandarn-batch ran in another folder).
	moved, _ := writeReconstruction(t, t.TempDir(), "elsewhere/run.h5")
	out := filepath.Join(dir, "maps")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no run", []string{"-result", result}, "names no input run file: give -run"},
		{"other mesh", []string{"-result", other, "-run", tinyRun}, "reconstruction/u has 5 nodes, the heart of " + tinyRun + " has 42"},
		{"frame range", []string{"-result", result, "-run", tinyRun, "-frames", "12"}, "frame 12 out of range: the result has 12 frames"},
		{"run missing", []string{"-result", result, "-run", filepath.Join(dir, "nope.h5")}, "-run:"},
		{"input attribute missing", []string{"-result", moved}, "run file of " + moved + " (its input attribute; -run names another)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, errs := call(append([]string{"-vtk", out}, tc.args...)...)
			if code != 2 || stdout != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line containing %q", code, stdout, errs, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("the series folder was written")
			}
		})
	}
}

// TestVTKModeEnsemble: a result with an ensemble's reconstruction/u_std
// (eandarn-batch -ensemble K) exports it as the field u_std beside u,
// node by node.
func TestVTKModeEnsemble(t *testing.T) {
	dir := t.TempDir()
	result, u := writeReconstruction(t, dir, tinyRun)
	f, err := resultfile.Read(result)
	if err != nil {
		t.Fatal(err)
	}
	n, T := u.Dims()
	std := mat.NewDense(n, T, nil)
	std.Apply(func(i, k int, _ float64) float64 { return 0.001 * float64(i+k) }, std)
	f.Matrices["reconstruction/u_std"] = std
	if err := resultfile.Save(result, f); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "maps")
	if code, _, errs := call("-vtk", out, "-result", result, "-frames", "4"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	_, arrays := readFrame(t, filepath.Join(out, vtk.FrameName(4)))
	if len(arrays) != 4 || len(arrays["u_std"]) != n {
		t.Fatalf("arrays %d, u_std %d values; want 4 arrays, %d values", len(arrays), len(arrays["u_std"]), n)
	}
	for i := range n {
		if arrays["u_std"][i] != std.At(i, 4) || arrays["u"][i] != u.At(i, 4) {
			t.Errorf("node %d: u_std %v, u %v; want %v, %v", i, arrays["u_std"][i], arrays["u"][i], std.At(i, 4), u.At(i, 4))
		}
	}
}
