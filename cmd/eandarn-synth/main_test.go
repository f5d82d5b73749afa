package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/cmd/internal/clitest"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/io/runfile"
	"github.com/eandarn/eandarn/io/shareddata"
	"github.com/eandarn/eandarn/solver/geometry"
)

// call runs the program in-process: exit status, stdout, stderr.
func call(args ...string) (int, string, string) { return clitest.Call(run, args...) }

// smallCase writes a 162-node icosphere heart (r = 20 mm) and a 162-node
// icosphere torso (r = 80 mm) and returns the flags of a quick generation:
// 30 frames over 20 AP time units.
func smallCase(t *testing.T, dir string) []string {
	t.Helper()
	heart, torso := filepath.Join(dir, "heart.h5"), filepath.Join(dir, "torso.h5")
	clitest.WriteMesh(t, heart, geometry.Icosphere(2, 20))
	clitest.WriteMesh(t, torso, geometry.Icosphere(2, 80))
	return []string{"-heart", heart, "-torso", torso, "-frames", "30", "-tend", "20", "-pace", "0", "-log-level", "warn"}
}

// withFlags returns a copy of the flag=value pairs args with each
// flag=value of kv replaced, or added when absent.
func withFlags(args []string, kv ...string) []string {
	args = append([]string(nil), args...)
	for i := 0; i < len(kv); i += 2 {
		found := false
		for j := 0; j+1 < len(args); j += 2 {
			if args[j] == kv[i] {
				args[j+1], found = kv[i+1], true
			}
		}
		if !found {
			args = append(args, kv[i], kv[i+1])
		}
	}
	return args
}

func TestHelpListsEveryFlagWithDefault(t *testing.T) {
	code, out, errs := call("-h")
	if code != 0 || errs != "" {
		t.Fatalf("-h: exit %d, stderr %q", code, errs)
	}
	lines := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  -") {
			lines[strings.TrimPrefix(strings.Fields(line)[0], "-")] = line
		}
	}
	var c config
	fs := newFlagSet(&c)
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		if line, ok := lines[f.Name]; !ok || !strings.HasSuffix(line, "(default "+def+")") {
			t.Errorf("-h line of -%s is %q, want it to end in (default %s)", f.Name, line, def)
		}
	})
	for _, name := range []string{"out", "cache", "heart", "torso", "leads", "pace", "frames", "tend", "dt", "laplacian", "seed"} {
		if _, ok := lines[name]; !ok {
			t.Errorf("-h does not list -%s", name)
		}
	}
}

// TestSmallDataset generates a small dataset and checks the run file: R·1 = 1
// (a constant heart potential gives the same constant on the torso), the
// BSPM equals R·U, the truth stays in the physical range and the pacing node
// activates first, and the provenance is recorded.
func TestSmallDataset(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.h5")
	code, stdout, stderr := call(append(smallCase(t, dir), "-out", out, "-seed", "9")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("stdout is not one JSON line: %q (%v)", stdout, err)
	}
	p, err := runfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	m, n := p.R.Dims()
	if n != 162 || m != 162 || s.Nodes != 162 || s.Leads != 162 || s.Frames != 30 || len(p.Time) != 30 {
		t.Fatalf("R %dx%d, %d frames, summary %+v: want 162x162, 30 frames", m, n, len(p.Time), s)
	}
	for i := 0; i < m; i++ {
		if sum := mat.Sum(p.R.RowView(i)); math.Abs(sum-1) > 1e-9 {
			t.Fatalf("row %d of R sums to %.12g, want 1", i, sum)
		}
	}
	var ru mat.Dense
	ru.Mul(p.R, p.TruthU)
	ru.Sub(&ru, p.BSPM)
	if d := mat.Norm(&ru, math.Inf(1)); d > 1e-12 {
		t.Errorf("BSPM differs from R·U by %g: noise must not be added here", d)
	}
	if lo, hi := mat.Min(p.TruthU), mat.Max(p.TruthU); lo < -0.05 || hi > 1.05 || hi < 0.9 {
		t.Errorf("u in [%g, %g], want a full action potential within [-0.05, 1.05]", lo, hi)
	}
	if p.TruthU.At(0, 1) <= p.TruthU.At(100, 1) {
		t.Errorf("the pacing node 0 (u = %g) is not ahead of node 100 (u = %g) at frame 1", p.TruthU.At(0, 1), p.TruthU.At(100, 1))
	}
	for _, k := range []string{"generator", "version", "parameters", "seed", "units", "key"} {
		if p.Attrs[k] == "" {
			t.Errorf("attribute %q missing", k)
		}
	}
	if p.Attrs["seed"] != "9" || !strings.Contains(p.Attrs["parameters"], `"frames":30`) {
		t.Errorf("provenance seed %q parameters %q", p.Attrs["seed"], p.Attrs["parameters"])
	}
}

// TestCacheReuse: -cache writes DIR/custom-<key>.h5 once and reuses it; a
// different parameter gives a different key.
func TestCacheReuse(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	args := append(smallCase(t, dir), "-cache", cache)
	var first summary
	for i, wantReused := range []bool{false, true} {
		code, stdout, stderr := call(args...)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, stderr)
		}
		var s summary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatal(err)
		}
		if s.Reused != wantReused {
			t.Errorf("run %d: reused = %v, want %v", i, s.Reused, wantReused)
		}
		if i == 0 {
			first = s
		} else if s.Out != first.Out {
			t.Errorf("second run used %s, first %s", s.Out, first.Out)
		}
	}
	if want := filepath.Join(cache, "custom-"+first.Key+".h5"); first.Out != want {
		t.Errorf("cache file %s, want %s", first.Out, want)
	}
	code, stdout, _ := call(append(args, "-frames", "31")...)
	var other summary
	if code != 0 || json.Unmarshal([]byte(stdout), &other) != nil || other.Key == first.Key || other.Reused {
		t.Errorf("changing -frames: exit %d, key %s (first %s), reused %v", code, other.Key, first.Key, other.Reused)
	}
}

// TestBadInput: each bad geometry or flag gets exit status 2, one line on
// stderr, nothing on stdout, no output file, an existing one untouched.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	base := smallCase(t, dir)
	open := geometry.Icosphere(2, 20)
	open.Tris = open.Tris[1:]
	openHeart := filepath.Join(dir, "open.h5")
	clitest.WriteMesh(t, openHeart, open)
	tinyTorso := filepath.Join(dir, "tinytorso.h5")
	clitest.WriteMesh(t, tinyTorso, geometry.Icosphere(2, 10))
	leads2D := filepath.Join(dir, "leads2d.npy")
	if err := npy.WriteInts(leads2D, 2, 2, []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	with := func(kv ...string) []string { return withFlags(base, kv...) }
	for _, tc := range []struct {
		name string
		args []string
		want string // in the one stderr line
	}{
		{"heart not closed", with("-heart", openHeart), "not closed"},
		{"torso does not enclose the heart", with("-torso", tinyTorso), "does not enclose"},
		{"pacing node out of range", with("-pace", "162"), "out of range"},
		{"pacing site unparsable", with("-pace", "top"), "-pace"},
		{"unstable step", with("-dt", "5"), "unstable"},
		{"missing heart file", with("-heart", filepath.Join(dir, "nope.h5")), "nope.h5"},
		{"too few frames", with("-frames", "4"), "-frames 4"},
		{"zero step", with("-dt", "0"), "-dt 0"},
		{"bad laplacian", with("-laplacian", "fem"), "-laplacian"},
		{"leads with default torso", with("-torso", "default", "-leads", filepath.Join(dir, "l.csv")), "-leads"},
		{"negative refinement", with("-refine", "-1"), "-refine -1"},
		{"unreachable refinement", with("-refine", "0.01"), "subdivisions"},
		{"activated fraction above 1", with("-min-activated", "2"), "-min-activated 2"},
		{"unknown mesh units", with("-mesh-units", "km"), "-mesh-units"},
		{"wave cut off by the window", with("-tend", "2", "-frames", "5"), "still travelling"},
		// A 2 x 2 array is not a list of leads (it was read as 4 leads).
		{"leads of rank 2", with("-leads", leads2D), "want one integer per line (a vector), got shape [2 2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.RefusalKeepsOutput(t, prog, "run.h5", tc.want, func(out string) (int, string, string) {
				return call(append(tc.args, "-out", out)...)
			})
		})
	}
	t.Run("neither -out nor -cache", func(t *testing.T) {
		code, _, stderr := call(base...)
		if code != 2 || !strings.Contains(stderr, "-cache") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("output folder missing", func(t *testing.T) {
		code, _, stderr := call(append(base, "-out", filepath.Join(dir, "no", "run.h5"))...)
		if code != 2 || !strings.Contains(stderr, "does not exist") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestUnitsAndApexHints: a heart whose size says its coordinates are in
// other units than -mesh-units (the ECGSim ventricles, in metres, read as
// mm: 0.19 mm across) is refused with the units named as the cause, not a
// smaller -dt or a -refine of kilometres; the same size is a warning in an
// import. -pace apex on a heart of the user's warns that the apex is a
// guess (on ECGSim and the Utah heart it lies on the base); a -pace x,y,z
// that lies on the heart only read in -mesh-units (ECGSim's node 25 in
// metres paced node 96) warns that the point is in mm; a node index, a
// point in mm or a heart-sized mesh warns of nothing.
func TestUnitsAndApexHints(t *testing.T) {
	dir := t.TempDir()
	base := smallCase(t, dir) // 20 mm sphere in an 80 mm one, -pace 0
	with := func(kv ...string) []string { return withFlags(base, kv...) }
	imp := importCase(t, dir)
	// A 2 cm sphere 1.5 cm off the torso's centre: node 0 in cm read as mm
	// lies near the centre, closest to another node.
	shifted := geometry.Icosphere(2, 2)
	for i := range shifted.Nodes {
		shifted.Nodes[i][0] += 1.5
	}
	cmHeart := filepath.Join(dir, "cmheart.h5")
	clitest.WriteMesh(t, cmHeart, shifted)
	cmPoint := func(f float64) string { // node 0 of cmHeart in cm, times f
		x := shifted.Nodes[0]
		return fmt.Sprintf("%g,%g,%g", f*x[0], f*x[1], f*x[2])
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // each in stderr
		not  string   // not in stderr ("" for no check)
	}{
		{"read as metres: the wave dies", with("-mesh-units", "m", "-log-level", "error"), 2,
			[]string{"the heart is 6.93e+04 mm across (bounding-box diagonal) read in -mesh-units m, not the 20–500 mm of a heart"}, "-refine"},
		{"metres read as mm: unstable step", with("-heart", writeScaled(t, dir, 0.02), "-torso", writeScaled(t, dir, 0.08), "-log-level", "error"), 2,
			[]string{"-dt 0.005 is unstable on this heart; the heart is 0.0693 mm across"}, "smaller -dt"},
		{"import read as metres", withFlags(imp, "-mesh-units", "m"), 0,
			[]string{`level=WARN msg="heart size: the heart is 6.93e+04 mm across`}, ""},
		{"apex of the user's heart", with("-pace", "apex"), 0,
			[]string{`level=WARN msg="-pace apex on a heart of your own`, "pace=52 x_mm="}, ""},
		{"node index", base, 0, nil, "level=WARN"},
		// The heart written in cm; node 0 given in cm instead of mm.
		{"pacing point in the mesh's units", with("-heart", cmHeart, "-torso", writeScaled(t, dir, 8), "-mesh-units", "cm", "-pace", cmPoint(1)), 0,
			[]string{`level=WARN msg="-pace x,y,z: the point is in mm`, "read in -mesh-units cm it would be 0 mm from node 0"}, ""},
		{"pacing point in mm", with("-heart", cmHeart, "-torso", writeScaled(t, dir, 8), "-mesh-units", "cm", "-pace", cmPoint(10)), 0, nil, "level=WARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := call(append(tc.args, "-out", filepath.Join(t.TempDir(), "run.h5"))...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
			if tc.not != "" && strings.Contains(stderr, tc.not) {
				t.Errorf("stderr %q has %q", stderr, tc.not)
			}
		})
	}
}

// writeScaled writes the 162-node icosphere of radius r as a mesh file in
// dir and returns its path.
func writeScaled(t *testing.T, dir string, r float64) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("sphere-%g.h5", r))
	clitest.WriteMesh(t, path, geometry.Icosphere(2, r))
	return path
}

// TestMeshPaths reads one mesh through every accepted path form and gets
// the same nodes and triangles back.
func TestMeshPaths(t *testing.T) {
	dir := t.TempDir()
	want := geometry.Icosphere(1, 20)
	nodes := mat.NewDense(len(want.Nodes), 3, nil)
	for i, x := range want.Nodes {
		nodes.SetRow(i, x[:])
	}
	var tris []int
	for _, tr := range want.Tris {
		tris = append(tris, tr[:]...)
	}
	var csvNodes, csvFaces strings.Builder
	for _, x := range want.Nodes {
		fmt.Fprintf(&csvNodes, "%.17g,%.17g,%.17g\n", x[0], x[1], x[2])
	}
	for _, tr := range want.Tris {
		fmt.Fprintf(&csvFaces, "%d,%d,%d\n", tr[0], tr[1], tr[2])
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	clitest.WriteMesh(t, filepath.Join(dir, "m.h5"), want)
	must(os.MkdirAll(filepath.Join(dir, "npydir"), 0o755))
	must(npy.WriteDense(filepath.Join(dir, "npydir", "nodes.npy"), nodes))
	must(npy.WriteInts(filepath.Join(dir, "npydir", "triangles.npy"), len(want.Tris), 3, tris))
	must(npy.WriteDense(filepath.Join(dir, "heart_nodes.npy"), nodes))
	must(npy.WriteInts(filepath.Join(dir, "heart_triangles.npy"), len(want.Tris), 3, tris))
	must(os.WriteFile(filepath.Join(dir, "h_nodes.csv"), []byte(csvNodes.String()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "h_faces.csv"), []byte(csvFaces.String()), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "csvdir"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "csvdir", "nodes.csv"), []byte(csvNodes.String()), 0o644))
	must(os.WriteFile(filepath.Join(dir, "csvdir", "faces.csv"), []byte(csvFaces.String()), 0o644))
	run := filepath.Join(dir, "run.h5")
	code, _, stderr := call("-heart", filepath.Join(dir, "m.h5"), "-torso", "default", "-frames", "5", "-tend", "1", "-min-activated", "0", "-out", run, "-log-level", "warn")
	if code != 0 {
		t.Fatalf("making a run file: %s", stderr)
	}

	for _, path := range []string{
		"m.h5", "run.h5:geometry/heart", "npydir", "heart_nodes.npy", "heart", "h_nodes.csv", "h", "csvdir",
	} {
		got, _, err := readMesh(filepath.Join(dir, path))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if len(got.Nodes) != len(want.Nodes) || len(got.Tris) != len(want.Tris) {
			t.Errorf("%s: %d nodes %d triangles, want %d, %d", path, len(got.Nodes), len(got.Tris), len(want.Nodes), len(want.Tris))
			continue
		}
		for i := range want.Nodes {
			if got.Nodes[i] != want.Nodes[i] {
				t.Errorf("%s: node %d = %v, want %v", path, i, got.Nodes[i], want.Nodes[i])
				break
			}
		}
	}
	if _, _, err := readMesh(filepath.Join(dir, "nothing")); err == nil {
		t.Error("a path with no mesh was accepted")
	}
}

// TestRealGeometry generates a short dataset on the Utah torso-tank heart
// (337 nodes) and tank (284 nodes) with the 191 jacket electrodes as leads,
// read from the shared CSV files (skipped when ../shared is absent).
func TestRealGeometry(t *testing.T) {
	d := shareddata.Dir(t, "utah_torso_tank_heart337")
	out := filepath.Join(t.TempDir(), "utah.h5")
	code, _, stderr := call("-heart", filepath.Join(d, "heart_closed"), "-torso", filepath.Join(d, "tank_closed"),
		"-leads", filepath.Join(d, "jacket_electrode_node_index.csv"), "-frames", "20", "-tend", "10", "-min-activated", "0", "-out", out, "-log-level", "warn")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, err := runfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if m, n := p.R.Dims(); m != 191 || n != 337 {
		t.Fatalf("R is %dx%d, want 191x337", m, n)
	}
	for i := 0; i < 191; i++ {
		if s := mat.Sum(p.R.RowView(i)); math.Abs(s-1) > 1e-9 {
			t.Fatalf("row %d of R sums to %.12g, want 1", i, s)
		}
	}
}

// TestECGSimVentricles: the 257-node ECGSim ventricles (mean edge 16.5 mm,
// coordinates in metres, inward winding) inside the ECGSim thorax, paced at
// the apex. On the mesh itself the wave reaches 222 of 257 nodes: refused
// with exit 2, one line naming the count, the cause and the -refine fix,
// nothing written. With -refine 9 (one subdivision, 1022 nodes, 8.3 mm)
// every node activates and the dataset is written; the inward winding of
// both meshes is logged as changed.
func TestECGSimVentricles(t *testing.T) {
	d := shareddata.Dir(t, "ecgsim_normal_male")
	args := []string{"-heart", filepath.Join(d, "heart"), "-torso", filepath.Join(d, "thorax"), "-mesh-units", "m",
		"-pace", "18", "-frames", "57", "-tend", "56"}
	out := filepath.Join(t.TempDir(), "ecgsim.h5")
	code, stdout, stderr := call(append(args, "-out", out, "-log-level", "warn")...)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("unrefined: exit %d, stdout %q, stderr %q; want exit 2 and one line", code, stdout, stderr)
	}
	for _, want := range []string{"activated 222 of 257", "still travelling", "mean edge 16.5 mm", "-refine 8.3", "-min-activated 0"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("refusal %q does not contain %q", stderr, want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused dataset was written")
	}

	code, stdout, stderr = call(append(args, "-refine", "9", "-out", out, "-log-level", "info",
		"-regions", filepath.Join(d, "heart_face_region.csv"), "-region-names", "lv_endo,rv_endo,epi")...)
	if code != 0 {
		t.Fatalf("-refine 9: exit %d: %s", code, stderr)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Activated == nil || *s.Activated != 1 || s.SimNodes != 1022 || s.Levels != 1 {
		t.Errorf("summary %s: want activated 1 on 1022 simulation nodes, 1 level", stdout)
	}
	for _, mesh := range []string{"mesh=heart flipped_triangles=510", "mesh=torso flipped_triangles=596"} {
		if !strings.Contains(stderr, mesh) {
			t.Errorf("log does not report the changed winding %q:\n%s", mesh, stderr)
		}
	}
	p, err := runfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := p.TruthU.Dims(); r != 257 || c != 57 {
		t.Fatalf("truth %dx%d, want 257x57", r, c)
	}
	count := make([]int, 3)
	for _, l := range p.Region {
		count[l]++
	}
	if strings.Join(p.RegionNames, ",") != "lv_endo,rv_endo,epi" || count[0] != 49 || count[1] != 58 || count[2] != 150 {
		t.Errorf("regions %v with %v nodes, want lv_endo, rv_endo, epi with 49, 58, 150 (mesh.TestNodeLabelsECGSim)", p.RegionNames, count)
	}
	for i := 0; i < 257; i++ {
		if mat.Max(p.TruthU.RowView(i)) < 0.5 {
			t.Errorf("node %d never activates in the written dataset", i)
		}
	}
	t.Logf("%s; attributes activated_fraction %s, activation_span %s", stdout, p.Attrs["activated_fraction"], p.Attrs["activation_span"])
}

// TestSimulateGivenForward: -forward R in a simulation replaces the BEM.
// On the small case, R taken from a BEM run gives that run's BSPM bit for
// bit, without torso geometry unless -torso is given (then one row per
// lead is required), attribute forward "given" (the BEM run's "bem"), and
// a key that changes with R's values; a non-finite or wrong-shaped R is
// refused. On the real data in ../shared/data: ECGSim's ventricles with
// their own transmembrane-potential transfer matrix (300 thorax leads) and
// the FwdInv heart with its 114-lead matrix make datasets Y = R·u in which
// every node activates.
func TestSimulateGivenForward(t *testing.T) {
	dir := t.TempDir()
	base := smallCase(t, dir)
	bem := filepath.Join(dir, "bem.h5")
	if code, _, stderr := call(append(base, "-out", bem)...); code != 0 {
		t.Fatalf("BEM run: exit %d: %s", code, stderr)
	}
	a, err := runfile.Load(bem)
	if err != nil {
		t.Fatal(err)
	}
	m, n := a.R.Dims()
	rPath := filepath.Join(dir, "R.npy")
	if err := npy.WriteDense(rPath, a.R); err != nil {
		t.Fatal(err)
	}
	noTorso := withFlags(base, "-torso", "default", "-forward", rPath)
	given := filepath.Join(dir, "given.h5")
	code, stdout, stderr := call(append(noTorso, "-out", given)...)
	if code != 0 {
		t.Fatalf("-forward: exit %d: %s", code, stderr)
	}
	b, err := runfile.Load(given)
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(b.BSPM, a.BSPM) || !mat.Equal(b.R, a.R) || b.Torso != nil || b.Leads != nil || s.Leads != m ||
		b.Attrs["forward"] != "given" || a.Attrs["forward"] != "bem" || b.Attrs["bspm"] != runfile.BSPMExactSim {
		t.Errorf("-forward: BSPM or R differ from the BEM run's, or torso %v, leads %d (summary %d), forward %q (BEM run %q), bspm %q",
			b.Torso != nil, len(b.Leads), s.Leads, b.Attrs["forward"], a.Attrs["forward"], b.Attrs["bspm"])
	}
	withTorso := filepath.Join(dir, "with-torso.h5")
	if code, _, stderr := call(append(withFlags(base, "-forward", rPath), "-out", withTorso)...); code != 0 {
		t.Fatalf("-forward with -torso: exit %d: %s", code, stderr)
	}
	if c, err := runfile.Load(withTorso); err != nil || c.Torso == nil || len(c.Leads) != m || !mat.Equal(c.BSPM, a.BSPM) {
		t.Errorf("-forward with -torso: %v; want the torso, %d leads and the BEM run's BSPM", err, m)
	}

	// The cache key hashes R's values: the same path edited in place is
	// a new dataset.
	cache := filepath.Join(dir, "cache")
	key := func() string {
		t.Helper()
		code, stdout, stderr := call(append(noTorso, "-cache", cache)...)
		var s summary
		if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil {
			t.Fatalf("-cache: exit %d: %s", code, stderr)
		}
		return s.Key
	}
	k1 := key()
	scaled := mat.DenseCopyOf(a.R)
	scaled.Scale(2, scaled)
	if err := npy.WriteDense(rPath, scaled); err != nil {
		t.Fatal(err)
	}
	if k2 := key(); k2 == k1 {
		t.Errorf("the key %s did not change with R's values", k1)
	}

	bad := func(name string, rows, cols int, f func([]float64)) string {
		data := make([]float64, rows*cols)
		for i := range data {
			data[i] = 1
		}
		if f != nil {
			f(data)
		}
		p := filepath.Join(dir, name+".npy")
		if err := npy.WriteDense(p, mat.NewDense(rows, cols, data)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"R not finite", withFlags(noTorso, "-forward", bad("nan", m, n, func(d []float64) { d[7] = math.NaN() })), "want finite values"},
		{"R of the wrong width", withFlags(noTorso, "-forward", bad("wide", m, n+1, nil)), "-forward"},
		{"R rows not the torso's leads", withFlags(base, "-forward", bad("short", m-1, n, nil)), "want one row per lead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clitest.RefusalKeepsOutput(t, prog, "run.h5", tc.want, func(out string) (int, string, string) {
				return call(append(tc.args, "-out", out)...)
			})
		})
	}

	for _, c := range []struct {
		folder string
		args   []string
		leads  int
	}{
		{"ecgsim_normal_male", []string{"-heart", "heart", "-forward", "transfer_tmp_to_thorax_wct.csv", "-mesh-units", "m", "-refine", "9", "-pace", "18"}, 300},
		{"fwdinv_spline_subject1", []string{"-heart", "heart", "-forward", "forward_matrix_114x350.csv", "-pace", "10"}, 114},
	} {
		d := shareddata.Dir(t, c.folder)
		args := slices.Clone(c.args)
		args[1], args[3] = filepath.Join(d, args[1]), filepath.Join(d, args[3])
		out := filepath.Join(dir, c.folder+".h5")
		code, stdout, stderr := call(append(args, "-frames", "101", "-out", out, "-log-level", "warn")...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.folder, code, stderr)
		}
		p, err := runfile.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		var ru mat.Dense
		ru.Mul(p.R, p.TruthU)
		if rows, _ := p.BSPM.Dims(); rows != c.leads || !mat.EqualApprox(&ru, p.BSPM, 1e-12) || p.Torso != nil || p.Attrs["activated_fraction"] != "1" {
			t.Errorf("%s: %d leads (want %d), BSPM = R·u %v, torso %v, activated %s", c.folder, rows, c.leads,
				mat.EqualApprox(&ru, p.BSPM, 1e-12), p.Torso != nil, p.Attrs["activated_fraction"])
		}
		t.Logf("%s: %s", c.folder, stdout)
	}
}
