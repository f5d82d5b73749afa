package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/io/shareddata"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/forward"
	"github.com/eandarn/eandarn/solver/geometry"
)

// importCase writes a measured-like recording on the small case's meshes
// (162-node icosphere heart of radius 20 mm in a 162-node torso of 80 mm,
// every 4th torso node a lead: 41 leads): a BSPM in mV (.npy), frame
// times in ms (CSV), a truth (.npy), per-triangle region labels (northern
// and southern hemisphere, CSV) and the lead list; it returns the flags.
func importCase(t *testing.T, dir string) []string {
	t.Helper()
	base := smallCase(t, dir) // writes heart.h5, torso.h5
	heart, torso := geometry.Icosphere(2, 20), geometry.Icosphere(2, 80)
	var leads []int
	var leadsCSV strings.Builder
	for i := 0; i < len(torso.Nodes); i += 4 {
		leads = append(leads, i)
		fmt.Fprintln(&leadsCSV, i)
	}
	R, err := forward.TransferMatrix(heart, torso, leads)
	if err != nil {
		t.Fatal(err)
	}
	const T = 40
	truth := mat.NewDense(len(heart.Nodes), T, nil)
	for i, x := range heart.Nodes {
		for k := 0; k < T; k++ {
			truth.Set(i, k, -80+90/(1+math.Exp(-(float64(k)-20-x[2]/4)/2)))
		}
	}
	var Y mat.Dense
	Y.Mul(R, truth)
	var times, faces strings.Builder
	for k := 0; k < T; k++ {
		fmt.Fprintf(&times, "%g\n", 100+2*float64(k)) // 500 Hz from 100 ms
	}
	for _, tr := range heart.Tris {
		label := 7
		if heart.Nodes[tr[0]][2]+heart.Nodes[tr[1]][2]+heart.Nodes[tr[2]][2] < 0 {
			label = 3
		}
		fmt.Fprintln(&faces, label)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(npy.WriteDense(filepath.Join(dir, "bspm.npy"), &Y))
	must(npy.WriteDense(filepath.Join(dir, "truth.npy"), truth))
	must(os.WriteFile(filepath.Join(dir, "time.csv"), []byte(times.String()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "faces.csv"), []byte(faces.String()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "leads.csv"), []byte(leadsCSV.String()), 0o644))
	return []string{base[0], base[1], base[2], base[3], // -heart, -torso
		"-leads", filepath.Join(dir, "leads.csv"), "-bspm", filepath.Join(dir, "bspm.npy"), "-units", "mV",
		"-time", filepath.Join(dir, "time.csv"), "-truth", filepath.Join(dir, "truth.npy"),
		"-regions", filepath.Join(dir, "faces.csv"), "-region-names", "south,north", "-log-level", "warn"}
}

// TestImport: one command turns the meshes, the lead list, a BSPM in mV,
// frame times in ms, a truth and per-triangle regions into a valid run
// file: R by BEM (rows sum to 1), the signals as given, time in AP units
// (ms / 12.9), units mV, regions as node labels with their names.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.h5")
	code, stdout, stderr := call(append(importCase(t, dir), "-out", out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s importSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Mode != "import" || s.Leads != 41 || s.Frames != 40 || s.Forward != "bem" || !s.Truth || s.Regions != 2 || s.DurationMS != 78 {
		t.Fatalf("summary %s (%v)", stdout, err)
	}
	p, err := runfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := npy.ReadDense(filepath.Join(dir, "bspm.npy"))
	if !mat.Equal(p.BSPM, want) || p.Attrs["units"] != "mV" || p.Attrs["forward"] != "bem" || len(p.Leads) != 41 {
		t.Errorf("BSPM, units %q, forward %q or %d leads differ from the input", p.Attrs["units"], p.Attrs["forward"], len(p.Leads))
	}
	for i := 0; i < 41; i++ {
		if s := mat.Sum(p.R.RowView(i)); math.Abs(s-1) > 1e-9 {
			t.Fatalf("row %d of R sums to %g", i, s)
		}
	}
	if math.Abs(p.Time[0]-100/ap.MillisecondsPerUnit) > 1e-12 || math.Abs(p.Time[39]-178/ap.MillisecondsPerUnit) > 1e-12 {
		t.Errorf("time %g … %g AP units, want 100/12.9 … 178/12.9", p.Time[0], p.Time[39])
	}
	// The provenance holds the import's flags, not the defaults of a
	// simulation that never ran (pace apex, 661 frames).
	var par map[string]any
	if err := json.Unmarshal([]byte(p.Attrs["parameters"]), &par); err != nil || par["units"] != "mV" || par["bspm"] == nil {
		t.Errorf("parameters %s (%v): want the import's flags", p.Attrs["parameters"], err)
	}
	for _, k := range []string{"pace", "frames", "tend", "dt", "laplacian", "refine", "seed"} {
		if _, ok := par[k]; ok {
			t.Errorf("parameters %s: simulation flag %q in an import", p.Attrs["parameters"], k)
		}
	}
	if len(p.RegionNames) != 2 || p.RegionNames[0] != "south" || p.TruthU == nil {
		t.Fatalf("region names %v, truth %v", p.RegionNames, p.TruthU != nil)
	}
	for i, x := range p.Heart.Nodes {
		// Label 3 (south, index 0) below the equator, 7 (north) above; the
		// equator's nodes border both.
		if x[2] < -1 && p.Region[i] != 0 || x[2] > 1 && p.Region[i] != 1 {
			t.Fatalf("node %d at z = %g has region %d", i, x[2], p.Region[i])
		}
	}

	// -bspm forward: the body-surface signals are R·truth, here the same
	// as the BSPM file, which was made that way.
	args := withFlags(importCase(t, dir), "-bspm", "forward")
	fwd := filepath.Join(dir, "forward.h5")
	if code, _, stderr := call(append(args, "-out", fwd)...); code != 0 {
		t.Fatalf("-bspm forward: exit %d: %s", code, stderr)
	}
	q, err := runfile.Load(fwd)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(q.BSPM, want, 1e-12) || q.Attrs["bspm"] == "" {
		t.Errorf("-bspm forward: BSPM differs from R·truth, or attribute bspm %q missing", q.Attrs["bspm"])
	}
}

// TestImportGivenForward imports the measured paced QRS of the FwdInv
// spline-inverse subject (114 leads x 310 frames) with its own 114 x 350
// transfer matrix and no torso geometry: a valid run file without the torso
// group, R and BSPM as in the CSV files.
func TestImportGivenForward(t *testing.T) {
	d := shareddata.Dir(t, "fwdinv_spline_subject1")
	out := filepath.Join(t.TempDir(), "fwdinv.h5")
	code, stdout, stderr := call("-heart", filepath.Join(d, "heart"), "-forward", filepath.Join(d, "forward_matrix_114x350.csv"),
		"-bspm", filepath.Join(d, "ecg_114x310.csv"), "-units", "mV", "-rate", "1000", "-out", out, "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, err := runfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	R, _ := csvmesh.ReadMatrix(filepath.Join(d, "forward_matrix_114x350.csv"))
	Y, _ := csvmesh.ReadMatrix(filepath.Join(d, "ecg_114x310.csv"))
	if p.Torso != nil || p.Leads != nil || !mat.Equal(p.R, R) || !mat.Equal(p.BSPM, Y) || p.Attrs["forward"] != "given" {
		t.Errorf("torso %v, leads %v, R or BSPM differ, forward %q", p.Torso != nil, p.Leads, p.Attrs["forward"])
	}
	if dt := p.Time[1] - p.Time[0]; math.Abs(dt-1/ap.MillisecondsPerUnit) > 1e-15 {
		t.Errorf("frame spacing %g AP units, want 1 ms = %g", dt, 1/ap.MillisecondsPerUnit)
	}
	t.Log(stdout)
}

// TestImportBadInput: each inconsistent import is refused with exit 2 and
// one line naming the flag and what was wrong, nothing written.
func TestImportBadInput(t *testing.T) {
	dir := t.TempDir()
	base := importCase(t, dir)
	with := func(kv ...string) []string { return withFlags(base, kv...) }
	without := func(flag string) []string {
		var args []string
		for j := 0; j < len(base); j += 2 {
			if base[j] != flag {
				args = append(args, base[j], base[j+1])
			}
		}
		return args
	}
	nan := mat.NewDense(41, 40, nil)
	nan.Set(2, 5, math.NaN())
	if err := npy.WriteDense(filepath.Join(dir, "nan.npy"), nan); err != nil {
		t.Fatal(err)
	}
	oneFrame := mat.NewDense(41, 1, nil)
	oneFrame.Set(0, 0, 1)
	if err := os.WriteFile(filepath.Join(dir, "t1.csv"), []byte("100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var rounded strings.Builder // 40 frames at 1017.25 Hz, written to 1 µs
	for k := 0; k < 40; k++ {
		fmt.Fprintf(&rounded, "%.3f\n", float64(k)*1000/1017.25)
	}
	if err := os.WriteFile(filepath.Join(dir, "rounded.csv"), []byte(rounded.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*mat.Dense{"short.npy": mat.NewDense(40, 40, nil), "r40.npy": mat.NewDense(40, 162, nil),
		"one.npy": oneFrame, "zero.npy": mat.NewDense(162, 40, nil)} {
		if err := npy.WriteDense(filepath.Join(dir, name), m); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no units", without("-units"), "-units"},
		{"unknown units", with("-units", "volts"), "-units"},
		{"rate and time", with("-rate", "500"), "exactly one of -rate"},
		{"neither rate nor time", without("-time"), "exactly one of -rate"},
		{"BSPM rows differ from the leads", with("-bspm", filepath.Join(dir, "short.npy")), "want 41xK (leads x frames)"},
		{"NaN in the BSPM", with("-bspm", filepath.Join(dir, "nan.npy")), "NaN at [2,5]"},
		{"truth of the wrong shape", with("-truth", filepath.Join(dir, "bspm.npy")), "want 162x40 (heart nodes x frames)"},
		{"time of the wrong length", with("-time", filepath.Join(dir, "leads.csv")), "want 40 times"},
		{"region names miscounted", with("-region-names", "a,b,c"), "3 names for the 2 distinct labels"},
		{"forward columns differ from the heart nodes", with("-forward", filepath.Join(dir, "short.npy")), "want Kx162"},
		{"forward rows differ from the leads", with("-forward", filepath.Join(dir, "r40.npy")), "40 rows, but the torso has 41 leads"},
		{"simulation flag", with("-pace", "3"), "-pace is for simulations"},
		{"default heart", with("-heart", "default"), "-heart PATH"},
		{"forward without truth", append(without("-truth"), "-bspm", "forward"), "needs -truth"},
		// The run-file check's findings name the input they came from, not
		// the run file that was not written (the Utah jacket's one frame).
		{"one frame", withFlags(without("-truth"), "-bspm", filepath.Join(dir, "one.npy"), "-time", filepath.Join(dir, "t1.csv")), "-bspm " + filepath.Join(dir, "one.npy") + ": want at least 5 frames (columns), got 1"},
		{"rounded times", with("-time", filepath.Join(dir, "rounded.csv")), "(dataset signals/time of the run file); if the times are rounded, give -rate 1017.2"},
		{"forward of an all-zero truth", with("-bspm", "forward", "-truth", filepath.Join(dir, "zero.npy")), "-bspm forward (R·truth of -truth " + filepath.Join(dir, "zero.npy") + "): want an entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.RefusalKeepsOutput(t, prog, "run.h5", tc.want, func(out string) (int, string, string) {
				return call(append(tc.args, "-out", out)...)
			})
		})
	}
	t.Run("import flag without -bspm", func(t *testing.T) {
		code, _, stderr := call(append(smallCase(t, dir), "-units", "mV", "-out", filepath.Join(dir, "x.h5"))...)
		if code != 2 || !strings.Contains(stderr, "-units needs -bspm") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestImportRepeatedTriangle: a heart mesh that lists a triangle twice (the
// Utah 128-node sock: triangle 246 repeats 194) imports in one command; the
// repeat is dropped with a warning naming it, and per-triangle region labels
// counted on the file's triangles still fit.
func TestImportRepeatedTriangle(t *testing.T) {
	t.Run("small heart with per-triangle regions", func(t *testing.T) {
		dir := t.TempDir()
		args := importCase(t, dir)
		heart := geometry.Icosphere(2, 20)
		clean := len(heart.Tris)
		heart.Tris = append(heart.Tris, heart.Tris[5])
		clitest.WriteMesh(t, filepath.Join(dir, "heart.h5"), heart)
		labels, err := os.ReadFile(filepath.Join(dir, "faces.csv"))
		if err != nil {
			t.Fatal(err)
		}
		sixth := strings.Split(string(labels), "\n")[5]
		if err := os.WriteFile(filepath.Join(dir, "faces.csv"), append(labels, sixth+"\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "run.h5")
		code, _, stderr := call(append(args, "-out", out)...)
		if code != 0 || !strings.Contains(stderr, `repeated triangles dropped: the mesh lists them twice" mesh=heart dropped=1 first="triangle 320 repeats 5"`) {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		p, err := runfile.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Heart.Tris) != clean || len(p.RegionNames) != 2 {
			t.Errorf("%d triangles, regions %v; want %d, 2 regions", len(p.Heart.Tris), p.RegionNames, clean)
		}
	})
	t.Run("Utah sock", func(t *testing.T) {
		d := shareddata.Dir(t, "utah_torso_tank_sock128")
		out := filepath.Join(t.TempDir(), "sock.h5")
		code, _, stderr := call("-heart", filepath.Join(d, "sock"), "-torso", filepath.Join(d, "tank"),
			"-forward", filepath.Join(d, "forward_matrix_tank771_from_sock128.csv"),
			"-truth", filepath.Join(d, "sock_potentials_frames170to190.csv"), "-bspm", "forward", "-units", "uV", "-rate", "1000",
			"-out", out, "-log-level", "warn")
		if code != 0 || !strings.Contains(stderr, `first="triangle 246 repeats 194"`) {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		p, err := runfile.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Heart.Tris) != 252 || len(p.Leads) != 771 || p.TruthU == nil {
			t.Errorf("%d triangles, %d leads, truth %v; want 252, 771, a truth", len(p.Heart.Tris), len(p.Leads), p.TruthU != nil)
		}
	})
}

// TestImportMAT: an import from .mat files, -v7 (compressed Level 5) and
// -v7.3 (HDF5), with the mesh as variables or as SCIRun's struct (node
// 3xN, face 3xF), gives the run file of the same arrays as .npy files,
// dataset for dataset, bit for bit (testdata/matfile/make_fixtures.py
// wrote both with SciPy and h5py); what a .mat holds wrongly is refused
// naming the variable.
func TestImportMAT(t *testing.T) {
	const fix = "../../testdata/matfile/"
	dir := t.TempDir()
	imp := func(out string, heart, forward, bspm string, extra ...string) (int, string) {
		args := append([]string{"-heart", fix + heart, "-forward", fix + forward, "-bspm", fix + bspm,
			"-units", "mV", "-rate", "1000", "-out", filepath.Join(dir, out), "-log-level", "warn"}, extra...)
		code, _, stderr := call(args...)
		return code, stderr
	}
	if code, stderr := imp("npy.h5", "mesh_nodes.npy", "mesh_R.npy", "mesh_bspm.npy"); code != 0 {
		t.Fatalf("the .npy files: exit %d: %s", code, stderr)
	}
	want := datasets(t, filepath.Join(dir, "npy.h5"))
	for _, c := range [][3]string{
		{"mesh_v7.mat", "mesh_v7.mat:R", "mesh_v7.mat:bspm"},
		{"mesh_v7.mat:mesh0", "mesh_v7.mat:R", "mesh_v7.mat"},
		{"mesh_v73.mat", "mesh_v73.mat:R", "mesh_v73.mat:bspm"},
		{"mesh_v73.mat:mesh0", "mesh_v73.mat:R", "mesh_v73.mat"},
	} {
		if code, stderr := imp("mat.h5", c[0], c[1], c[2]); code != 0 {
			t.Errorf("%v: exit %d: %s", c, code, stderr)
			continue
		}
		got := datasets(t, filepath.Join(dir, "mat.h5"))
		if len(got) != len(want) {
			t.Errorf("%v: datasets %d, want %d", c, len(got), len(want))
		}
		for name, v := range want {
			if !slices.Equal(got[name], v) {
				t.Errorf("%v: dataset %s differs from the .npy import's", c, name)
			}
		}
	}
	for _, c := range []struct {
		heart, forward, bspm string
		extra                []string
		want                 string
	}{
		{"mesh_v7.mat:mesh", "mesh_v7.mat:R", "mesh_v7.mat", nil,
			"-heart ../../testdata/matfile/mesh_v7.mat:mesh: mesh.face: row 58: want node indices in [0, 42) (0-based, mesh.node), got 42; the indices run 1..42: 1-based (as MATLAB writes them)? subtract 1 from every index"},
		{"mesh_v7.mat", "mesh_v7.mat:R", "mesh_v7.mat:mesh", nil, "mesh is a struct with fields node, face: name a field, FILE.mat:mesh.FIELD"},
		{"mesh_v7.mat", "mesh_v7.mat:R", "mesh_v7.mat", []string{"-truth", fix + "mesh_v7.mat"},
			`-truth ../../testdata/matfile/mesh_v7.mat: read ../../testdata/matfile/mesh_v7.mat: no variable "u"; the file holds: nodes (42x3 double), triangles (80x3 int32), R (6x42 double), bspm (6x10 double), mesh (1x1 struct), mesh0 (1x1 struct)`},
		{"mesh_v7.mat:R", "mesh_v7.mat:R", "mesh_v7.mat", nil, "R is a 6x42 double, not a struct"},
		{"mesh_v73.mat", "mesh_v73.mat:cplx", "mesh_v73.mat", nil, "cplx is a 1x2 complex double: save real(cplx) or abs(cplx)"},
	} {
		code, stderr := imp("bad.h5", c.heart, c.forward, c.bspm, c.extra...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s %s %s: exit %d, %q; want 2 and one line containing %q", c.heart, c.forward, c.bspm, code, stderr, c.want)
		}
	}
}

// datasets reads every dataset of an HDF5 file as floats, by path.
func datasets(t *testing.T, path string) map[string][]float64 {
	t.Helper()
	f, err := h5.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := f.List()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float64{}
	for _, e := range entries {
		if e.Group {
			continue
		}
		if out[e.Path], _, err = f.ReadFloats(e.Path); err != nil {
			t.Fatal(err)
		}
	}
	return out
}
