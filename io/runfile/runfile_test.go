package runfile

import (
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/hdf5"

	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/npy"
	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/inverse"
)

var update = flag.Bool("update", false, "regenerate testdata/io/tiny_run.h5")

const fixture = "../../testdata/io/tiny_run.h5"

// tinyProblem is the fixture run: an icosphere heart (42 nodes, radius 40
// mm) inside an icosphere torso (162 nodes, radius 150 mm), every 5th torso
// node a lead (33 leads), a random positive R with rows summing to 1 (as a
// potential-based transfer matrix does), 12 frames 0.125 AP units apart, a
// travelling-wave U, V = U/10 and BSPM = R U. Deterministic (PCG seed 2026).
func tinyProblem() *inverse.Problem {
	heart := geometry.Icosphere(1, 40)
	torso := geometry.Icosphere(2, 150)
	var leads []int
	for i := 0; i < len(torso.Nodes); i += 5 {
		leads = append(leads, i)
	}
	n, m, T := len(heart.Nodes), len(leads), 12
	rng := rand.New(rand.NewPCG(2026, 1))
	R := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		row := R.RawRowView(i)
		s := 0.0
		for j := range row {
			row[j] = rng.Float64()
			s += row[j]
		}
		for j := range row {
			row[j] /= s
		}
	}
	time := make([]float64, T)
	U := mat.NewDense(n, T, nil)
	for k := range time {
		time[k] = 0.125 * float64(k)
		for i, x := range heart.Nodes {
			U.Set(i, k, 1/(1+math.Exp(-(time[k]-0.7-x[2]/80)/0.1)))
		}
	}
	V := mat.NewDense(n, T, nil)
	V.Scale(0.1, U)
	Y := mat.NewDense(m, T, nil)
	Y.Mul(R, U)
	return &inverse.Problem{
		Heart: heart, Torso: torso, Leads: leads,
		R: R, BSPM: Y, Time: time, TruthU: U, TruthV: V,
		Attrs: map[string]string{
			"units":      "normalized",
			"generator":  "io/runfile tinyProblem (test fixture)",
			"version":    "0",
			"seed":       "2026",
			"parameters": `{"heart":"icosphere(1, 40 mm)","torso":"icosphere(2, 150 mm)","leads":"every 5th torso node","T":12,"dt":0.125}`,
		},
	}
}

// withRegions labels the tiny problem's heart nodes by hemisphere: z < 0
// "south", the rest "north".
func withRegions(p *inverse.Problem) *inverse.Problem {
	p.RegionNames = []string{"north", "south"}
	p.Region = make([]int, len(p.Heart.Nodes))
	for i, x := range p.Heart.Nodes {
		if x[2] < 0 {
			p.Region[i] = 1
		}
	}
	return p
}

// roundTrip saves p at path (an .h5 file or an NPY folder, replacing what
// is there), loads it back and requires it bit-identical.
func roundTrip(t *testing.T, path string, p *inverse.Problem) {
	t.Helper()
	if err := Save(path, p); err != nil {
		t.Fatalf("save %s: %v", path, err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	equalBits(t, got, p)
}

// equalBits compares two problems exactly, float64 bit patterns included.
func equalBits(t *testing.T, got, want *inverse.Problem) {
	t.Helper()
	if !reflect.DeepEqual(got.Heart, want.Heart) || !reflect.DeepEqual(got.Torso, want.Torso) {
		t.Error("meshes differ")
	}
	if !reflect.DeepEqual(got.Leads, want.Leads) || !reflect.DeepEqual(got.Time, want.Time) || !reflect.DeepEqual(got.Attrs, want.Attrs) {
		t.Errorf("leads, time or attrs differ: attrs %v vs %v", got.Attrs, want.Attrs)
	}
	if !reflect.DeepEqual(got.Region, want.Region) || !reflect.DeepEqual(got.RegionNames, want.RegionNames) {
		t.Errorf("regions differ: %v %v vs %v %v", got.Region, got.RegionNames, want.Region, want.RegionNames)
	}
	for _, c := range []struct {
		name string
		g, w *mat.Dense
	}{{"R", got.R, want.R}, {"BSPM", got.BSPM, want.BSPM}, {"U", got.TruthU, want.TruthU}, {"V", got.TruthV, want.TruthV}} {
		if (c.g == nil) != (c.w == nil) {
			t.Errorf("%s: presence differs", c.name)
			continue
		}
		if c.g == nil {
			continue
		}
		gr, gc := c.g.Dims()
		wr, wc := c.w.Dims()
		if gr != wr || gc != wc {
			t.Errorf("%s: %dx%d vs %dx%d", c.name, gr, gc, wr, wc)
			continue
		}
		for i := 0; i < gr; i++ {
			for j := 0; j < gc; j++ {
				if math.Float64bits(c.g.At(i, j)) != math.Float64bits(c.w.At(i, j)) {
					t.Fatalf("%s[%d,%d] = %v, want %v", c.name, i, j, c.g.At(i, j), c.w.At(i, j))
				}
			}
		}
	}
}

func TestFixture(t *testing.T) {
	want := tinyProblem()
	if *update {
		if err := Save(fixture, want); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(fixture)
	if err != nil {
		t.Fatalf("%v (regenerate with go test ./io/runfile -run TestFixture -update)", err)
	}
	if st.Size() > 100<<10 {
		t.Errorf("fixture is %d bytes, keep it under 100 KiB", st.Size())
	}
	got, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	equalBits(t, got, want)
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "run.h5"), filepath.Join(dir, "run")} {
		p := tinyProblem()
		roundTrip(t, path, p)
		// Without truth, the truth datasets are absent and load as nil;
		// the second save overwrites the first.
		p.TruthU, p.TruthV = nil, nil
		roundTrip(t, path, p)
	}
	for _, f := range []string{"attrs.json", "forward/R.npy", "geometry/heart/nodes.npy", "geometry/heart/triangles.npy",
		"geometry/torso/nodes.npy", "geometry/torso/triangles.npy", "geometry/torso/leads.npy", "signals/bspm.npy", "signals/time.npy"} {
		if _, err := os.Stat(filepath.Join(dir, "run", f)); err != nil {
			t.Errorf("NPY folder: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "truth")); err == nil {
		t.Error("NPY folder kept truth/ from the replaced run")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// Region labels with their names, and a transfer matrix without torso
	// geometry (the torso group absent), in both formats.
	dir = t.TempDir()
	for _, path := range []string{filepath.Join(dir, "regions.h5"), filepath.Join(dir, "regions")} {
		p := withRegions(tinyProblem())
		roundTrip(t, path, p)
		p.Torso, p.Leads = nil, nil
		roundTrip(t, path, p)
	}
	if _, err := os.Stat(filepath.Join(dir, "regions", "geometry", "torso")); err == nil {
		t.Error("NPY folder without torso geometry has geometry/torso/")
	}
}

// TestRoundTripPaperSize saves a paper-sized problem (1094 heart nodes,
// 2184 triangles, 661 frames) in both formats and reads it back bit-exact.
func TestRoundTripPaperSize(t *testing.T) {
	const n, F, T, m = 1094, 2184, 661, 40
	rng := rand.New(rand.NewPCG(9, 9))
	// The default heart (a valid closed surface of the paper's size) with
	// every coordinate moved by a random amount, so that the bits differ.
	heart := geometry.Heart()
	if len(heart.Nodes) != n || len(heart.Tris) != F {
		t.Fatalf("default heart has %d nodes, %d triangles; want %d, %d", len(heart.Nodes), len(heart.Tris), n, F)
	}
	for i := range heart.Nodes {
		for k := range heart.Nodes[i] {
			heart.Nodes[i][k] += 1e-3 * rng.NormFloat64()
		}
	}
	randDense := func(r, c int) *mat.Dense {
		d := mat.NewDense(r, c, nil)
		for i := range d.RawMatrix().Data {
			d.RawMatrix().Data[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(40)-20))
		}
		return d
	}
	time := make([]float64, T)
	for k := range time {
		time[k] = 56 * float64(k) / (T - 1)
	}
	torso := geometry.Icosphere(2, 150)
	leads := make([]int, m)
	for i := range leads {
		leads[i] = 4 * i
	}
	p := &inverse.Problem{Heart: heart, Torso: torso, Leads: leads, R: randDense(m, n), BSPM: randDense(m, T),
		Time: time, TruthU: randDense(n, T), TruthV: randDense(n, T), Attrs: map[string]string{"units": "normalized"}}
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "big.h5"), filepath.Join(dir, "big")} {
		roundTrip(t, path, p)
	}
}

// filterSink writes through to s except dataset skip, then runs extra.
type filterSink struct {
	sink
	skip string
}

func (f filterSink) dense(ds string, m mat.Matrix) error {
	if ds == f.skip {
		return nil
	}
	return f.sink.dense(ds, m)
}

func (f filterSink) vector(ds string, v []float64) error {
	if ds == f.skip {
		return nil
	}
	return f.sink.vector(ds, v)
}

func (f filterSink) ints(ds string, r, c int, v []int) error {
	if ds == f.skip {
		return nil
	}
	return f.sink.ints(ds, r, c, v)
}

func (f filterSink) intVector(ds string, v []int) error {
	if ds == f.skip {
		return nil
	}
	return f.sink.intVector(ds, v)
}

// writeUnchecked writes p without validation (Save refuses bad problems),
// leaving out dataset skip and then calling extra on the raw sink.
func writeUnchecked(t *testing.T, path string, p *inverse.Problem, skip string, extra func(sink) error) {
	t.Helper()
	var s sink
	var closeFn func() error
	if IsHDF5Path(path) {
		f, err := h5.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		s, closeFn = h5Sink{f}, f.Close
	} else {
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		s, closeFn = npySink(path), func() error { return nil }
	}
	err := put(filterSink{s, skip}, p)
	if extra != nil {
		err = errors.Join(err, extra(s))
	}
	if err := errors.Join(err, closeFn()); err != nil {
		t.Fatal(err)
	}
}

// TestBadRunFiles checks that each defect gives its own one-line
// *SchemaError, in both formats. In want, {file} stands for the file the
// message must name: the .h5 file, or the .npy file (or attrs.json) of the
// dataset in a folder.
func TestBadRunFiles(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(p *inverse.Problem)        // breaks the problem before writing
		skip   string                          // dataset left out
		extra  func(s sink) error              // written after the rest
		damage func(t *testing.T, path string) // applied to the written file(s)
		ds     string                          // dataset whose .npy is named in folder form ("" = attrs.json)
		want   string                          // the whole message, or its start when prefix is set
		prefix bool
	}{
		{name: "missing dataset", skip: BSPM, ds: BSPM,
			want: "{file}: dataset signals/bspm: want a 2-D float dataset (leads x frames), got missing"},
		{name: "missing leads", skip: Leads, ds: Leads,
			want: "{file}: dataset geometry/torso/leads: want a 1-D integer dataset (leads), got missing"},
		{name: "wrong shape of R", ds: Forward,
			edit: func(p *inverse.Problem) { p.R = mat.DenseCopyOf(p.R.Slice(0, 33, 0, 40)) },
			want: "{file}: dataset forward/R: want 33x42 (leads x heart nodes), got 33x40"},
		{name: "BSPM rows differ from leads", ds: BSPM,
			edit: func(p *inverse.Problem) { p.BSPM = mat.DenseCopyOf(p.BSPM.Slice(0, 30, 0, 12)) },
			want: "{file}: dataset signals/bspm: want 33xT (leads x frames), got 30x12"},
		{name: "heart nodes not x 3", ds: HeartNodes, skip: HeartNodes,
			extra: func(s sink) error { return s.dense(HeartNodes, mat.NewDense(42, 2, nil)) },
			want:  "{file}: dataset geometry/heart/nodes: want Kx3 (heart nodes x 3), got 42x2"},
		{name: "time is 2-D", ds: Time, skip: Time,
			extra: func(s sink) error { return s.dense(Time, mat.NewDense(12, 1, nil)) },
			want:  "{file}: dataset signals/time: want a 1-D float dataset (frames), got shape 12x1"},
		{name: "NaN in BSPM", ds: BSPM,
			edit: func(p *inverse.Problem) { p.BSPM.Set(3, 7, math.NaN()) },
			want: "{file}: dataset signals/bspm: want finite values, got NaN at [3,7]"},
		{name: "Inf in R", ds: Forward,
			edit: func(p *inverse.Problem) { p.R.Set(0, 41, math.Inf(-1)) },
			want: "{file}: dataset forward/R: want finite values, got -Inf at [0,41]"},
		{name: "NaN in truth", ds: TruthV,
			edit: func(p *inverse.Problem) { p.TruthV.Set(41, 11, math.NaN()) },
			want: "{file}: dataset truth/v: want finite values, got NaN at [41,11]"},
		{name: "triangle index out of range", ds: HeartTris,
			edit: func(p *inverse.Problem) { p.Heart.Tris[5][1] = 42 },
			want: "{file}: dataset geometry/heart/triangles: want indices in [0, 42) (heart nodes), got 42 at [5,1]"},
		{name: "1-based heart triangles (MATLAB)", ds: HeartTris,
			edit: func(p *inverse.Problem) {
				for i := range p.Heart.Tris {
					for k := range p.Heart.Tris[i] {
						p.Heart.Tris[i][k]++
					}
				}
			},
			want: "{file}: dataset geometry/heart/triangles: want indices in [0, 42) (heart nodes), got 42 at [57,1]; the indices run 1..42: 1-based (as MATLAB writes them)? subtract 1 from every index"},
		{name: "negative torso triangle index", ds: TorsoTris,
			edit: func(p *inverse.Problem) { p.Torso.Tris[319][2] = -1 },
			want: "{file}: dataset geometry/torso/triangles: want indices in [0, 162) (torso nodes), got -1 at [319,2]"},
		{name: "T < 5", ds: BSPM,
			edit: func(p *inverse.Problem) {
				p.BSPM = mat.DenseCopyOf(p.BSPM.Slice(0, 33, 0, 3))
				p.Time = p.Time[:3]
				p.TruthU, p.TruthV = nil, nil
			},
			want: "{file}: dataset signals/bspm: want at least 5 frames (columns), got 3"},
		{name: "time length differs", ds: Time,
			edit: func(p *inverse.Problem) { p.Time = p.Time[:11] },
			want: "{file}: dataset signals/time: want 12 values (frames of signals/bspm), got 11"},
		{name: "time not increasing", ds: Time,
			edit: func(p *inverse.Problem) { p.Time[4] = p.Time[3] },
			want: "{file}: dataset signals/time: want strictly increasing times, got t[4] = 0.375 after t[3] = 0.375"},
		{name: "truth shape", ds: TruthU,
			edit: func(p *inverse.Problem) { p.TruthU = mat.DenseCopyOf(p.TruthU.Slice(0, 42, 0, 11)) },
			want: "{file}: dataset truth/u: want 42x12 (heart nodes x frames), got 42x11"},
		{name: "lead index out of range", ds: Leads,
			edit: func(p *inverse.Problem) { p.Leads[3] = 162 },
			want: "{file}: dataset geometry/torso/leads: want indices in [0, 162) (torso nodes), got 162 at [3]"},
		{name: "1-based leads (MATLAB)", ds: Leads,
			edit: func(p *inverse.Problem) {
				p.Leads[0], p.Leads[1] = 0, 161
				for i := range p.Leads {
					p.Leads[i]++
				}
			},
			want: "{file}: dataset geometry/torso/leads: want indices in [0, 162) (torso nodes), got 162 at [1]; the indices run 1..162: 1-based (as MATLAB writes them)? subtract 1 from every index"},
		{name: "duplicate lead", ds: Leads,
			edit: func(p *inverse.Problem) { p.Leads[4] = p.Leads[3] },
			want: "{file}: dataset geometry/torso/leads: want distinct torso nodes, got node 15 at [3] and [4]"},
		{name: "torso nodes missing beside leads", skip: TorsoNodes, ds: TorsoNodes,
			want: "{file}: dataset geometry/torso/nodes: want a 2-D float dataset (torso nodes x 3), got missing"},
		{name: "region labels too few", ds: Region,
			edit: func(p *inverse.Problem) { withRegions(p).Region = p.Region[:40] },
			want: "{file}: dataset geometry/heart/region: want 42 labels (heart nodes), got 40"},
		{name: "region label out of range", ds: Region,
			edit: func(p *inverse.Problem) { withRegions(p).Region[7] = 2 },
			want: "{file}: dataset geometry/heart/region: want labels in [0, 2) (region_names), got 2 at [7]"},
		{name: "region names repeated",
			edit: func(p *inverse.Problem) { withRegions(p).RegionNames[1] = "north" },
			want: `{file}: attribute region_names: want distinct names, got "north" twice`},
		{name: "region name with a slash",
			edit: func(p *inverse.Problem) { withRegions(p).RegionNames[0] = "lv/endo" },
			want: `{file}: attribute region_names: want names of letters, digits, '_', '-' and '.', got "lv/endo" at [0]`},
		{name: "region names not JSON",
			edit: func(p *inverse.Problem) { p.Attrs[RegionNamesAttr] = "north,south" },
			want: `{file}: attribute region_names: want a JSON array of region names, e.g. ["lv_endo","rv_endo","epi"], got "north,south"`},
		{name: "region names without labels", ds: Region,
			edit: func(p *inverse.Problem) { p.Attrs[RegionNamesAttr] = `["north","south"]` },
			want: "{file}: dataset geometry/heart/region: want a label per heart node, as attribute region_names names regions, got missing"},
		{name: "unknown units",
			edit: func(p *inverse.Problem) { p.Attrs["units"] = "furlongs" },
			want: `{file}: attribute units: want one of normalized, mV, uV, got "furlongs"`},
		{name: "missing units",
			edit: func(p *inverse.Problem) { delete(p.Attrs, "units") },
			want: "{file}: attribute units: want one of normalized, mV, uV, got missing"},
		{name: "heart not closed", ds: HeartTris,
			edit:   func(p *inverse.Problem) { p.Heart.Tris = p.Heart.Tris[1:] },
			want:   "{file}: dataset geometry/heart/triangles: want one closed, connected, consistently oriented, non-degenerate heart surface using every node, got not closed: 3 boundary edges",
			prefix: true},
		{name: "heart nodes coincide", ds: HeartTris,
			edit: func(p *inverse.Problem) {
				for i := range p.Heart.Nodes {
					p.Heart.Nodes[i] = [3]float64{1, 2, 3}
				}
			},
			want:   "{file}: dataset geometry/heart/triangles: want one closed, connected, consistently oriented, non-degenerate heart surface using every node, got mesh: degenerate triangle",
			prefix: true},
		{name: "time not uniform", ds: Time,
			edit:   func(p *inverse.Problem) { p.Time[4] += 0.01 },
			want:   "{file}: dataset signals/time: want uniform sampling (every step within 1.25e-07 of the first, 0.125), got step 0.135 from t[3] to t[4]",
			prefix: true},
		{name: "R all zero", ds: Forward,
			edit: func(p *inverse.Problem) { p.R.Zero() },
			want: "{file}: dataset forward/R: want an entry of magnitude at least 1e-150 (squares must not underflow), got all zeros"},
		{name: "R so small its squares underflow", ds: Forward,
			edit: func(p *inverse.Problem) { p.R.Scale(1e-300, p.R) },
			want: "{file}: dataset forward/R: want an entry of magnitude at least 1e-150 (squares must not underflow), got none above ", prefix: true},
		{name: "BSPM all zero", ds: BSPM,
			edit: func(p *inverse.Problem) { p.BSPM.Zero() },
			want: "{file}: dataset signals/bspm: want an entry of magnitude at least 1e-150 (squares must not underflow), got all zeros"},
		{name: "time step so small its reciprocal overflows", ds: Time,
			edit: func(p *inverse.Problem) {
				for i := range p.Time {
					p.Time[i] = float64(i) * 5e-324
				}
			},
			want: "{file}: dataset signals/time: want a time step of at least 1e-150 (time derivatives divide by it), got 5e-324"},
		{name: "heart coordinates whose cubes overflow", ds: HeartNodes,
			edit: func(p *inverse.Problem) {
				for i := range p.Heart.Nodes {
					p.Heart.Nodes[i][0] *= 1e110
				}
			},
			want: "{file}: dataset geometry/heart/nodes: want coordinates of magnitude at most 1e+75 (areas and volumes must stay finite), got ", prefix: true},
		{name: "heart of two separate surfaces", ds: HeartTris,
			edit: func(p *inverse.Problem) {
				n := len(p.Heart.Nodes)
				for i := range n {
					x := p.Heart.Nodes[i]
					p.Heart.Nodes = append(p.Heart.Nodes, [3]float64{x[0] + 200, x[1], x[2]})
				}
				for _, t := range p.Heart.Tris {
					p.Heart.Tris = append(p.Heart.Tris, [3]int{t[0] + n, t[1] + n, t[2] + n})
				}
				var r, u, v mat.Dense
				r.Augment(p.R, p.R)
				u.Stack(p.TruthU, p.TruthU)
				v.Stack(p.TruthV, p.TruthV)
				p.R, p.TruthU, p.TruthV = &r, &u, &v
			},
			want: "{file}: dataset geometry/heart/triangles: want one closed, connected, consistently oriented, non-degenerate heart surface using every node, got 2 separate surfaces (node 42 is not connected to node 0)"},
		{name: "value whose square overflows", ds: BSPM,
			edit: func(p *inverse.Problem) { p.BSPM.Set(2, 3, -1e200) },
			want: "{file}: dataset signals/bspm: want values of magnitude at most 1e+150 (squares must stay finite), got -1e+200 at [2,3]"},
		{name: "truth a symbolic link to nothing", ds: TruthU,
			damage: func(t *testing.T, path string) {
				if IsHDF5Path(path) {
					t.Skip("a .npy folder case")
				}
				p := filepath.Join(path, "truth", "u.npy")
				if err := errors.Join(os.Remove(p), os.Symlink("gone.npy", p)); err != nil {
					t.Fatal(err)
				}
			},
			want: "{file}: dataset truth/u: want a 2-D float dataset (heart nodes x frames), got unreadable: {file} is a symbolic link to gone.npy, which does not exist"},
		{name: "truncated file", ds: Forward,
			damage: func(t *testing.T, path string) {
				if !IsHDF5Path(path) {
					path = filepath.Join(path, "forward", "R.npy")
				}
				truncate(t, path)
			},
			want: "{file}: want a readable HDF5 file, got unreadable, truncated or not HDF5"},
	}
	for _, c := range cases {
		for _, form := range []string{"h5", "npy"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "run.h5")
				file := path
				want := c.want
				if form == "npy" {
					path = filepath.Join(dir, "run")
					file = filepath.Join(path, AttrsFile)
					if c.ds != "" {
						file = filepath.Join(path, filepath.FromSlash(c.ds)+".npy")
					}
					if c.damage != nil && c.ds == Forward {
						// A damaged .npy is reported as an unreadable dataset.
						want = "{file}: dataset forward/R: want a 2-D float dataset (leads x heart nodes), got unreadable: read {file}: truncated"
						c.prefix = true
					}
				}
				want = strings.ReplaceAll(want, "{file}", file)
				p := tinyProblem()
				if c.edit != nil {
					c.edit(p)
				}
				writeUnchecked(t, path, p, c.skip, c.extra)
				if c.damage != nil {
					c.damage(t, path)
				}
				_, err := Load(path)
				var se *SchemaError
				if !errors.As(err, &se) {
					t.Fatalf("Load: %v (%T), want a *SchemaError", err, err)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") {
					t.Errorf("message spans lines: %q", msg)
				}
				if c.prefix && !strings.HasPrefix(msg, want) || !c.prefix && msg != want {
					t.Errorf("error\n got: %s\nwant: %s", msg, want)
				}
			})
		}
	}
}

// truncate cuts a file to half its size.
func truncate(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMissingAndForeign(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "run.csv")
	if err := os.WriteFile(text, []byte("1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "nope.h5"), filepath.Join(dir, "nope.h5") + ": want a run file (HDF5) or run folder (.npy), got nothing readable there: stat "},
		{text, text + ": want a readable HDF5 file, got unreadable, truncated or not HDF5"},
	} {
		_, err := Load(c.path)
		var se *SchemaError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Load(%s) = %v, want prefix %q", c.path, err, c.want)
		}
	}
}

// TestSaveRefusesAndKeepsOld: an invalid problem, or a missing output
// folder, writes nothing and leaves an existing output as it was.
func TestSaveRefusesAndKeepsOld(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "run.h5"), filepath.Join(dir, "run")} {
		good := tinyProblem()
		if err := Save(path, good); err != nil {
			t.Fatal(err)
		}
		bad := tinyProblem()
		bad.BSPM.Set(0, 0, math.NaN())
		err := Save(path, bad)
		var se *SchemaError
		if !errors.As(err, &se) || se.Dataset != BSPM {
			t.Fatalf("Save of a NaN BSPM: %v", err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		equalBits(t, got, good)
	}
	missing := filepath.Join(dir, "no", "such", "run.h5")
	if err := Save(missing, tinyProblem()); err == nil {
		t.Error("Save into a missing folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "no")); err == nil {
		t.Error("Save created the missing folder")
	}
	// A folder that is not a run folder is never replaced.
	other := filepath.Join(dir, "notes")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(other, tinyProblem()); err == nil {
		t.Error("Save replaced a folder without attrs.json")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("want run.h5, run, notes; got %v", entries)
	}
}

// TestReadableByPython checks the h5py and NumPy views of both formats:
// shapes (n, 3), (m, n), dtypes int64/float64, 0-based indices, attributes.
func TestReadableByPython(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import h5py, numpy").Run(); err != nil {
		t.Skipf("%s with h5py and numpy not available: %v", py, err)
	}
	dir := t.TempDir()
	p := tinyProblem()
	h5path, npyDir := filepath.Join(dir, "run.h5"), filepath.Join(dir, "run")
	if err := errors.Join(Save(h5path, p), Save(npyDir, p)); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, os, json, h5py, numpy as np
h5path, d = sys.argv[1], sys.argv[2]
with h5py.File(h5path, "r") as f:
    assert f["geometry/heart/nodes"].shape == (42, 3) and f["geometry/heart/nodes"].dtype == np.float64
    assert f["geometry/heart/triangles"].shape == (80, 3) and f["geometry/heart/triangles"].dtype == np.int64
    assert f["geometry/torso/leads"].shape == (33,) and f["geometry/torso/leads"][1] == 5
    assert f["forward/R"].shape == (33, 42) and f["signals/bspm"].shape == (33, 12)
    assert f["signals/time"].shape == (12,) and f["truth/u"].shape == (42, 12)
    assert f.attrs["units"] == "normalized" and json.loads(f.attrs["parameters"])["T"] == 12
    R, U, Y = f["forward/R"][()], f["truth/u"][()], f["signals/bspm"][()]
    assert np.array_equal(R @ U, Y) or np.allclose(R @ U, Y, rtol=1e-14, atol=1e-15)
    tri = f["geometry/heart/triangles"][()]
    assert tri.min() == 0 and tri.max() == 41
    for k in ["geometry/heart/nodes", "geometry/torso/triangles", "forward/R", "signals/bspm", "signals/time", "truth/v"]:
        assert np.array_equal(f[k][()], np.load(os.path.join(d, k + ".npy"))), k
with open(os.path.join(d, "attrs.json")) as a:
    assert json.load(a)["seed"] == "2026"
`
	if out, err := exec.Command(py, "-c", script, h5path, npyDir).CombinedOutput(); err != nil {
		t.Fatalf("python check: %v\n%s", err, out)
	}

	// A run file made in Python the way a user would: int32 indices,
	// fixed-length string units, a numeric seed and an array attribute.
	pyPath := filepath.Join(dir, "py.h5")
	script = `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as src, h5py.File(sys.argv[2], "w") as dst:
    def copy(name, obj):
        if isinstance(obj, h5py.Dataset):
            a = obj[()]
            dst[name] = a.astype(np.int32) if a.dtype.kind == "i" else a
    src.visititems(copy)
    dst.attrs["units"] = np.bytes_(b"normalized")
    dst.attrs["seed"] = np.int64(2026)
    dst.attrs["electrode_xyz"] = np.zeros((2, 3))
`
	if out, err := exec.Command(py, "-c", script, h5path, pyPath).CombinedOutput(); err != nil {
		t.Fatalf("python writer: %v\n%s", err, out)
	}
	got, err := Load(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	p.Attrs = map[string]string{"units": "normalized", "seed": "2026"}
	equalBits(t, got, p)
}

// TestH5dumpRunFile checks that the C tools see every schema dataset with
// its shape and type.
func TestH5dumpRunFile(t *testing.T) {
	h5dump, err := exec.LookPath("h5dump")
	if err != nil {
		t.Skip("h5dump not installed (apt-get install hdf5-tools)")
	}
	out, err := exec.Command(h5dump, "-H", fixture).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump -H: %v\n%s", err, out)
	}
	// h5dump -H prints each dataset's name and, after its type, its shape.
	txt := string(out)
	for _, c := range []struct{ name, typ, shape string }{
		{"nodes", "H5T_IEEE_F64LE", "( 42, 3 )"},
		{"triangles", "H5T_STD_I64LE", "( 80, 3 )"},
		{"leads", "H5T_STD_I64LE", "( 33 )"},
		{"R", "H5T_IEEE_F64LE", "( 33, 42 )"},
		{"bspm", "H5T_IEEE_F64LE", "( 33, 12 )"},
		{"time", "H5T_IEEE_F64LE", "( 12 )"},
		{"u", "H5T_IEEE_F64LE", "( 42, 12 )"},
	} {
		i := strings.Index(txt, "DATASET \""+c.name+"\"")
		if i < 0 {
			t.Errorf("h5dump -H: no dataset %s", c.name)
			continue
		}
		block := txt[i:]
		block = block[:strings.Index(block, "}\n   }")+1]
		if !strings.Contains(block, c.typ) || !strings.Contains(block, c.shape) {
			t.Errorf("dataset %s: want %s %s in\n%s", c.name, c.typ, c.shape, block)
		}
	}
}

// TestDeclaredBeforeRead: a run folder whose R.npy declares a shape that
// contradicts the leads and heart is refused from the headers, before the
// data of any dataset is read (the truth here holds a NaN too, which only
// reading would find).
func TestDeclaredBeforeRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := Save(dir, tinyProblem()); err != nil {
		t.Fatal(err)
	}
	if err := npy.WriteDense(filepath.Join(dir, "forward", "R.npy"), mat.NewDense(33, 40, nil)); err != nil {
		t.Fatal(err)
	}
	nan := mat.NewDense(42, 12, nil)
	nan.Set(0, 0, math.NaN())
	if err := npy.WriteDense(filepath.Join(dir, "truth", "u.npy"), nan); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "dataset forward/R: want 33x42 (leads x heart nodes), got 33x40") {
		t.Errorf("Load: %v", err)
	}
	if err := Validate("x", smallProblem()); err != nil {
		t.Errorf("the fuzz seed problem is invalid: %v", err)
	}
}

// TestStoredTimePrecision: times stored as float32 are uniform only to
// float32's precision (sample times of a recording near 1000, step 0.1,
// have steps that differ by 1e-4): they load, while the same rounding in a
// float64 dataset, or a real jitter in a float32 one, is refused.
func TestStoredTimePrecision(t *testing.T) {
	p := tinyProblem()
	t32 := make([]float32, len(p.Time))
	t64 := make([]float64, len(p.Time))
	for i := range t32 {
		t32[i] = float32(1000 + 0.1*float64(i))
		t64[i] = float64(t32[i])
	}
	jitter := slices.Clone(t32)
	jitter[5] += 0.002
	for _, c := range []struct {
		name   string
		time   any
		refuse bool
	}{
		{"float32", t32, false},
		{"float64 holding float32 values", t64, true},
		{"float32 with jitter", jitter, true},
	} {
		for _, form := range []string{"h5", "npy"} {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "run")
				if form == "h5" {
					path += ".h5"
				}
				writeUnchecked(t, path, p, Time, nil)
				writeTime(t, path, c.time)
				_, err := Load(path)
				switch {
				case c.refuse && (err == nil || !strings.Contains(err.Error(), "uniform sampling")):
					t.Errorf("%v, want a refusal of the non-uniform times", err)
				case !c.refuse && err != nil:
					t.Errorf("%v, want the run file loaded", err)
				}
			})
		}
	}
}

// writeTime adds signals/time holding times ([]float32 or []float64) to
// the run file at path, with their own dtype.
func writeTime(t *testing.T, path string, times any) {
	t.Helper()
	if !IsHDF5Path(path) {
		f, err := os.Create(filepath.Join(path, "signals", "time.npy"))
		if err == nil {
			err = errors.Join(npyio.Write(f, times), f.Close())
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDWR)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := reflect.ValueOf(times).Len()
	dtype, ptr := hdf5.T_NATIVE_DOUBLE, any(nil)
	switch v := times.(type) {
	case []float32:
		dtype, ptr = hdf5.T_NATIVE_FLOAT, &v
	case []float64:
		ptr = &v
	}
	space, err := hdf5.CreateSimpleDataspace([]uint{uint(n)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer space.Close()
	ds, err := f.CreateDataset("/signals/time", dtype, space)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if err := ds.Write(ptr); err != nil {
		t.Fatal(err)
	}
}
