package h5

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// randomDense returns an r x c matrix whose entries exercise every float64
// bit pattern class that a lossy path would disturb: random bits (NaN and
// Inf excluded), signed zero, subnormals and extremes.
func randomDense(r, c int, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := make([]float64, r*c)
	for i := range d {
		for {
			x := math.Float64frombits(rng.Uint64())
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				d[i] = x
				break
			}
		}
	}
	special := []float64{math.Copysign(0, -1), 5e-324, -math.MaxFloat64, math.SmallestNonzeroFloat64 * 3, 1.0 / 3}
	copy(d, special)
	return mat.NewDense(r, c, d)
}

func sameBits(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

func randomTris(f, n int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 2))
	t := make([]int, 3*f)
	for i := range t {
		t[i] = rng.IntN(n)
	}
	t[len(t)-1] = n - 1
	return t
}

func TestRoundTripBitExact(t *testing.T) {
	const n, T, F = 1094, 661, 2184
	path := filepath.Join(t.TempDir(), "rt.h5")
	u := randomDense(n, T, 7)
	tris := randomTris(F, n, 7)
	vec := u.RawRowView(3)

	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		f.WriteDense("truth/u", u),
		f.WriteInts("geometry/heart/triangles", F, 3, tris),
		f.WriteVector("signals/time", vec),
		f.WriteIntVector("geometry/torso/leads", []int{0, 5, 1 << 40}),
		f.WriteScalar("metrics/re", math.Pi),
		f.SetString("", "units", "normalized"),
		f.SetString("truth/u", "note", "n x T"),
		f.SetFloat("metrics", "lambda", 1e-3),
		f.Close(),
	}
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}

	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	got, err := g.ReadDense("truth/u")
	if err != nil {
		t.Fatal(err)
	}
	if r, c := got.Dims(); r != n || c != T {
		t.Fatalf("dims %dx%d, want %dx%d", r, c, n, T)
	}
	if i := sameBits(got.RawMatrix().Data, u.RawMatrix().Data); i >= 0 {
		t.Fatalf("float64 round trip differs at flat index %d", i)
	}
	ti, shape, err := g.ReadInts("geometry/heart/triangles")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, []int{F, 3}) || !reflect.DeepEqual(ti, tris) {
		t.Fatalf("triangles round trip: shape %v", shape)
	}
	v, err := g.ReadVector("signals/time")
	if err != nil || sameBits(v, vec) >= 0 {
		t.Fatalf("vector round trip: %v", err)
	}
	leads, _, err := g.ReadInts("geometry/torso/leads")
	if err != nil || !reflect.DeepEqual(leads, []int{0, 5, 1 << 40}) {
		t.Fatalf("int vector round trip: %v %v", leads, err)
	}
	if x, err := g.ReadScalar("metrics/re"); err != nil || x != math.Pi {
		t.Fatalf("scalar: %v %v", x, err)
	}
	if s, err := g.String("", "units"); err != nil || s != "normalized" {
		t.Fatalf("root attr: %q %v", s, err)
	}
	if s, err := g.String("truth/u", "note"); err != nil || s != "n x T" {
		t.Fatalf("dataset attr: %q %v", s, err)
	}
	if x, err := g.Float("metrics", "lambda"); err != nil || x != 1e-3 {
		t.Fatalf("float attr: %v %v", x, err)
	}
	if s, err := g.Text("metrics", "lambda"); err != nil || s != "0.001" {
		t.Fatalf("float attr as text: %q %v", s, err)
	}
	if _, err := g.String("metrics", "lambda"); err == nil {
		t.Fatal("String on a float attribute: want error")
	}
	if names, err := g.AttrNames(""); err != nil || !reflect.DeepEqual(names, []string{"units"}) {
		t.Fatalf("AttrNames: %v %v", names, err)
	}
}

func TestListAndNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.h5")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(
		f.WriteDense("a/b/m", mat.NewDense(2, 3, nil)),
		f.WriteIntVector("a/i", []int{1, 2}),
		f.CreateGroup("empty/deep"),
		f.Close()); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	list, err := g.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range list {
		s := e.Path
		if e.Group {
			s += "/"
		} else {
			s += " " + e.Info.Class.String()
			for _, d := range e.Info.Shape {
				s += " " + string(rune('0'+d))
			}
		}
		got = append(got, s)
	}
	want := []string{"a/", "a/b/", "a/b/m float 2 3", "a/i int 2", "empty/", "empty/deep/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	for _, p := range []string{"nope", "a/nope", "nope/deeper/x"} {
		if g.Exists(p) {
			t.Errorf("Exists(%q) = true", p)
		}
		if _, err := g.ReadDense(p); !errors.Is(err, ErrNotFound) {
			t.Errorf("ReadDense(%q) error %v, want ErrNotFound", p, err)
		}
	}
	if _, err := g.String("a", "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing attribute: %v", err)
	}
	if _, err := g.ReadDense("a/i"); err == nil || !strings.Contains(err.Error(), "want 2-D") {
		t.Errorf("ReadDense on a 1-D dataset: %v", err)
	}
}

func TestOpenRejectsTruncatedAndForeign(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "g.h5")
	f, err := Create(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(f.WriteDense("x", randomDense(200, 100, 1)), f.Close()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"truncated.h5": b[:len(b)/2],
		"text.h5":      []byte("nodes,faces\n1,2,3\n"),
		"empty.h5":     nil,
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if g, err := Open(p); err == nil {
			g.Close()
			t.Errorf("Open(%s) succeeded", name)
		}
	}
}

// TestH5dump checks that the C tools read what Go wrote: the shape is
// (rows, cols) as h5py sees it, the types are F64LE / I64LE, and
// %.17g values parse back to the same bits.
func TestH5dump(t *testing.T) {
	h5dump, err := exec.LookPath("h5dump")
	if err != nil {
		t.Skip("h5dump not installed (apt-get install hdf5-tools)")
	}
	path := filepath.Join(t.TempDir(), "d.h5")
	m := mat.NewDense(2, 3, []float64{0.1, -2.5e-300, 1.0 / 3, 7, math.Copysign(0, -1), 1e300})
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(
		f.WriteDense("forward/R", m),
		f.WriteInts("geometry/heart/triangles", 1, 3, []int{0, 1, 2}),
		f.SetString("", "units", "normalized"),
		f.Close()); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(h5dump, "-H", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump -H: %v\n%s", err, out)
	}
	for _, want := range []string{
		`DATASET "R"`, "H5T_IEEE_F64LE", "SIMPLE { ( 2, 3 ) / ( 2, 3 ) }",
		"H5T_STD_I64LE", "SIMPLE { ( 1, 3 ) / ( 1, 3 ) }", `ATTRIBUTE "units"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("h5dump -H output lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(h5dump, "-d", "/forward/R", "-m", "%.17g", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump -d: %v\n%s", err, out)
	}
	// Drop the "(i,j):" index prefixes and parse the values in order.
	body := string(out)[strings.Index(string(out), "DATA {")+len("DATA {"):]
	body = regexp.MustCompile(`\(\d+,\d+\):`).ReplaceAllString(body, " ")
	var vals []float64
	for _, tok := range strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '}' }) {
		x, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			t.Fatalf("h5dump value %q: %v\n%s", tok, err, out)
		}
		vals = append(vals, x)
	}
	if i := sameBits(vals, m.RawMatrix().Data); i >= 0 || len(vals) != 6 {
		t.Errorf("h5dump values %v differ from written %v (index %d)", vals, m.RawMatrix().Data, i)
	}
}

// TestForeignTypes reads datasets written by h5py as int32, uint16, float32,
// big-endian float64 and float64 indices: HDF5 converts them on read.
func TestForeignTypes(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import h5py, numpy").Run(); err != nil {
		t.Skipf("%s with h5py and numpy not available: %v", py, err)
	}
	path := filepath.Join(t.TempDir(), "py.h5")
	script := `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f["tri32"] = np.array([[0, 1, 2], [2, 1, 3]], dtype=np.int32)
    f["u16"] = np.array([7, 65535], dtype=np.uint16)
    f["f32"] = np.array([[0.5, -1.25]], dtype=np.float32)
    f["f64be"] = np.array([1/3, -2.0], dtype=">f8")
    f["trif"] = np.array([[0.0, 1.0, 2.0]])
    f["frac"] = np.array([0.5])
    f.attrs["units"] = "normalized"
    f.attrs["fixed"] = np.bytes_(b"abc")
    f.attrs["seed"] = np.int64(42)
    f["signals"] = np.zeros(3)
    r = np.arange(33 * 42.0).reshape(33, 42) / 4
    f.create_dataset("gz", data=r, chunks=(8, 5), compression="gzip", shuffle=True, fletcher32=True)
    for name, pad, raw in [("spacepad", h5py.h5t.STR_SPACEPAD, b"mV      "), ("nullpad", h5py.h5t.STR_NULLPAD, b"uV\0\0\0\0\0\0")]:
        t = h5py.h5t.C_S1.copy()
        t.set_size(8)
        t.set_strpad(pad)
        a = h5py.h5a.create(f.id, name.encode(), t, h5py.h5s.create(h5py.h5s.SCALAR))
        a.write(np.array(raw, dtype="S8"))
`
	if out, err := exec.Command(py, "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check := func(name string, got, want any, err error) {
		t.Helper()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	tri, _, err := f.ReadInts("tri32")
	check("tri32", tri, []int{0, 1, 2, 2, 1, 3}, err)
	u16, _, err := f.ReadInts("u16")
	check("u16", u16, []int{7, 65535}, err)
	f32, shape, err := f.ReadFloats("f32")
	check("f32", f32, []float64{0.5, -1.25}, err)
	check("f32 shape", shape, []int{1, 2}, nil)
	be, err := f.ReadVector("f64be")
	check("f64be", be, []float64{1.0 / 3, -2}, err)
	trif, _, err := f.ReadInts("trif")
	check("trif", trif, []int{0, 1, 2}, err)
	if _, _, err := f.ReadInts("frac"); err == nil {
		t.Error("ReadInts of 0.5: want error")
	}
	s, err := f.String("", "units")
	check("units", s, "normalized", err)
	s, err = f.String("", "fixed")
	check("fixed", s, "abc", err)
	s, err = f.Text("", "seed")
	check("seed", s, "42", err)
	// Padding is not part of a fixed-length string: Fortran pads with
	// spaces, others with NULs.
	if _, _, err := f.ReadFloats("signals/bspm"); err == nil || !strings.Contains(err.Error(), "/signals is a dataset, not a group") {
		t.Errorf("signals/bspm below a dataset: %v, want an error saying /signals is a dataset", err)
	}
	s, err = f.String("", "spacepad")
	check("spacepad", s, "mV", err)
	s, err = f.String("", "nullpad")
	check("nullpad", s, "uV", err)
	// Chunked with edge chunks, shuffled, deflated and checksummed, as h5py
	// writes compressed data.
	gz, shape, err := f.ReadFloats("gz")
	want := make([]float64, 33*42)
	for i := range want {
		want[i] = float64(i) / 4
	}
	check("gz shape", shape, []int{33, 42}, err)
	if err == nil && sameBits(gz, want) != -1 {
		t.Errorf("gz: value %d differs", sameBits(gz, want))
	}
}

func benchData() *mat.Dense { return randomDense(1094, 661, 3) }

func BenchmarkWriteDense1094x661(b *testing.B) {
	m := benchData()
	path := filepath.Join(b.TempDir(), "w.h5")
	b.SetBytes(1094 * 661 * 8)
	for b.Loop() {
		f, err := Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := errors.Join(f.WriteDense("u", m), f.Close()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadDense1094x661(b *testing.B) {
	path := filepath.Join(b.TempDir(), "r.h5")
	f, err := Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(f.WriteDense("u", benchData()), f.Close()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(1094 * 661 * 8)
	for b.Loop() {
		g, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.ReadDense("u"); err != nil {
			b.Fatal(err)
		}
		g.Close()
	}
}

// TestWriteErrorSaysWhy: a write that fails because the disk is full says
// so (the system's message from HDF5's error stack), instead of "hdf5
// library call failed" alone. /dev/full is a disk that is always full.
func TestWriteErrorSaysWhy(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	f, err := Create("/dev/full")
	if err == nil {
		err = errors.Join(f.WriteVector("x", make([]float64, 1<<16)), f.Close())
	}
	if err == nil || !strings.Contains(err.Error(), "No space left on device") {
		t.Errorf("writing to a full disk: %v, want the system's message", err)
	}
}
