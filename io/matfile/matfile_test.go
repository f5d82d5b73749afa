package matfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/io/matfile/matfiletest"
	"github.com/eandarn/eandarn/io/npy"
)

// fixtures is the folder of the files testdata/matfile/make_fixtures.py
// writes with SciPy and h5py.
const fixtures = "../../testdata/matfile"

// typeCases are the numeric variables of types_*.mat as the script writes
// them: a rows x cols array whose element (i, j) is (i·cols + j)·scale +
// offset (TYPES in make_fixtures.py), with the shape read back.
var typeCases = []struct {
	name          string
	shape         []int
	scale, offset float64
}{
	{"d", []int{3, 4}, 0.25, -1},
	{"s", []int{2, 3}, 0.5, -1},
	{"i8", []int{2, 3}, 1, -3},
	{"u8", []int{2, 3}, 1, 200},
	{"i16", []int{2, 3}, 1, -300},
	{"u16", []int{2, 3}, 1, 60000},
	{"i32", []int{2, 3}, 1, -70000},
	{"u32", []int{2, 3}, 1, 4000000000},
	{"i64", []int{2, 3}, 1, -(1 << 40)},
	{"u64", []int{2, 3}, 1, 1 << 40},
	{"col", []int{4, 1}, 1, 1},
	{"row", []int{1, 5}, 1, 1},
	{"scalar", []int{1, 1}, 1, 7},
	{"nd1", []int{2, 3}, 1, 0}, // 2x3x1: the trailing singleton dropped
}

// typeFiles are the three encodings of the same variables.
var typeFiles = []string{"types_v6.mat", "types_v7.mat", "types_be.mat"}

func open(t *testing.T, name string) *File {
	t.Helper()
	f, err := Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestTypes reads every numeric class from the uncompressed (-v6),
// compressed (-v7) and big-endian files, as floats and as ints, in
// MATLAB's shape, and compares with the values the script wrote.
func TestTypes(t *testing.T) {
	for _, file := range typeFiles {
		f := open(t, file)
		for _, c := range typeCases {
			vals, shape, err := f.ReadFloats(c.name)
			if err != nil {
				t.Errorf("%s: %v", file, err)
				continue
			}
			ints, ishape, ierr := f.ReadInts(c.name)
			whole := c.scale == 1
			if !slices.Equal(shape, c.shape) || whole && (ierr != nil || !slices.Equal(ishape, c.shape)) {
				t.Errorf("%s %s: shape %v (ints %v, %v), want %v", file, c.name, shape, ishape, ierr, c.shape)
				continue
			}
			if !whole && !errors.Is(ierr, inputs.ErrNotInteger) {
				t.Errorf("%s %s: ReadInts of fractions: %v, want ErrNotInteger", file, c.name, ierr)
			}
			for k := range vals {
				want := float64(k)*c.scale + c.offset
				if vals[k] != want || whole && float64(ints[k]) != want {
					t.Errorf("%s %s: row-major [%d] = %v (int %v), want %v", file, c.name, k, vals[k], ints, want)
					break
				}
			}
		}
		if v, shape, err := f.ReadInts("logic"); err != nil || !slices.Equal(v, []int{1, 0, 1, 0, 0, 1}) || !slices.Equal(shape, []int{2, 3}) {
			t.Errorf("%s logic: %v %v %v", file, v, shape, err)
		}
	}
}

// TestRefused: what is not a full real numeric array of at most two
// dimensions is an error naming the variable and what it is, in every
// encoding and in -v7.3.
func TestRefused(t *testing.T) {
	cases := []struct {
		file, name string
		want       string
		is         error
	}{
		{"", "cplx", "cplx is a 1x2 complex double: save real(cplx) or abs(cplx)", ErrUnsupported},
		{"", "sp", "sp is a 3x3 sparse: save full(sp)", ErrUnsupported},
		{"", "cel", "cel is a 1x2 cell: save the numeric array in it as a variable of its own", ErrUnsupported},
		{"", "txt", "txt is a 1x5 char: text, not numbers", ErrUnsupported},
		{"", "mesh", "mesh is a struct with fields node, face: name a field, FILE.mat:mesh.FIELD", ErrUnsupported},
		{"", "sa", "sa is a 1x2 struct array: want a 1x1 struct", ErrUnsupported},
		{"", "cube", "cube is a 3-D array (2x2x2): want at most 2 dimensions", ErrUnsupported},
		{"", "nope", `no variable "nope"; the file holds: `, ErrNotFound},
		{"", "mesh.nope", `mesh has no field "nope"; its fields: node, face`, ErrNotFound},
		{"", "d.x", "d is a 3x4 double, not a struct", ErrUnsupported},
		{"mesh_v73.mat", "cplx", "cplx is a 1x2 complex double: save real(cplx) or abs(cplx)", ErrUnsupported},
		{"mesh_v73.mat", "txt", "txt is a 1x5 char: text, not numbers", ErrUnsupported},
		{"mesh_v73.mat", "sp", "sp is a sparse matrix: save full(sp)", ErrUnsupported},
		{"mesh_v73.mat", "mesh0", "mesh0 is a struct with fields face, node: name a field", ErrUnsupported},
		{"mesh_v73.mat", "u", `no variable "u"; the file holds: R, bspm, cplx, mesh0, nodes, sp, triangles, txt`, ErrNotFound},
		{"mesh_v73.mat", "mesh0.nope", `mesh0 has no field "nope"; its fields: face, node`, ErrNotFound},
	}
	for _, c := range cases {
		files := typeFiles
		if c.file != "" {
			files = []string{c.file}
		}
		for _, file := range files {
			_, _, err := open(t, file).ReadFloats(c.name)
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, c.is) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s %s: %v, want one line containing %q", file, c.name, err, c.want)
			}
		}
	}
	_, _, err := open(t, "types_v7.mat").ReadFloats("nope")
	if want := "the file holds: d (3x4 double), s (2x3 single), i8 (2x3 int8)"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "and 12 more") {
		t.Errorf("missing variable: %v, want the first 10 variables listed (%q …) and the count of the others", err, want)
	}
}

// TestStruct: the fields of a 1x1 struct (SCIRun's mesh: node 3xN, face
// 3xF, 1-based) are read as VAR.FIELD, and listed.
func TestStruct(t *testing.T) {
	for _, file := range typeFiles {
		f := open(t, file)
		fields, err := f.Fields("mesh")
		if err != nil || !slices.Equal(fields, []string{"node", "face"}) {
			t.Errorf("%s: fields %v, %v", file, fields, err)
		}
		face, shape, err := f.ReadInts("mesh.face")
		if err != nil || !slices.Equal(shape, []int{3, 20}) || slices.Min(face) != 1 || slices.Max(face) != 12 {
			t.Errorf("%s mesh.face: shape %v, %v: want 3x20, 1-based (1..12)", file, shape, err)
		}
		if _, shape, err := f.ReadFloats("mesh.node"); err != nil || !slices.Equal(shape, []int{3, 12}) {
			t.Errorf("%s mesh.node: shape %v, %v", file, shape, err)
		}
		if _, err := f.Fields("d"); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: Fields of a matrix: %v", file, err)
		}
	}
}

// TestSameAsNPY: the arrays of the end-to-end recording read from -v7 and
// -v7.3 (transposed in HDF5) equal the .npy files the script wrote, bit
// for bit, and the SCIRun struct's fields are their transposes.
func TestSameAsNPY(t *testing.T) {
	for _, file := range []string{"mesh_v7.mat", "mesh_v73.mat"} {
		f := open(t, file)
		for _, name := range []string{"nodes", "R", "bspm"} {
			want, wshape, err := npy.ReadFloats(filepath.Join(fixtures, "mesh_"+name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			got, shape, err := f.ReadFloats(name)
			if err != nil || !slices.Equal(shape, wshape) || !slices.Equal(got, want) {
				t.Errorf("%s %s: shape %v, %v; want %v and the .npy values", file, name, shape, err, wshape)
			}
			if name != "nodes" {
				continue
			}
			node, shape, err := f.ReadFloats("mesh0.node")
			if err != nil || !slices.Equal(shape, []int{3, wshape[0]}) || node[1] != want[3] || node[wshape[0]] != want[1] {
				t.Errorf("%s mesh0.node: shape %v, %v: want the transpose of nodes", file, shape, err)
			}
		}
		want, _, err := npy.ReadInts(filepath.Join(fixtures, "mesh_triangles.npy"))
		if err != nil {
			t.Fatal(err)
		}
		if got, shape, err := f.ReadInts("triangles"); err != nil || !slices.Equal(got, want) || !slices.Equal(shape, []int{80, 3}) {
			t.Errorf("%s triangles: %v %v", file, shape, err)
		}
	}
}

// TestNotMAT: files that are not Level 5 or HDF5 are named.
func TestNotMAT(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ data, want string }{
		"text.mat":  {"1,2,3\n" + strings.Repeat("4,5,6\n", 30), "not a MAT file (no Level 5 header)"},
		"v4.mat":    {"\x00\x00\x00\x00\x02\x00\x00\x00" + strings.Repeat("\x00", 200), "a MATLAB v4 file"},
		"short.mat": {"MATLAB 5.0", "shorter than the 128-byte header"},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(c.data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	h5, err := os.ReadFile(filepath.Join(fixtures, "mesh_v73.mat"))
	if err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.mat")
	if err := os.WriteFile(plain, h5[512:], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(plain); err == nil || !strings.Contains(err.Error(), "an HDF5 file without MATLAB's -v7.3 header") {
		t.Errorf("plain HDF5 named .mat: %v", err)
	}
	if _, err := Open(dir); err == nil || !errors.Is(err, inputs.ErrNotRegular) {
		t.Errorf("a folder: %v", err)
	}
}

// read reads variable name of the Level 5 bytes b.
func read(b []byte, name string) ([]float64, []int, error) {
	v, err := openV5(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	vals, _, shape, err := v.read(name, false)
	return vals, shape, err
}

// TestTruncated: a file cut anywhere is an error, never a panic, and the
// last variable is never read from a cut file.
func TestTruncated(t *testing.T) {
	for _, file := range typeFiles {
		b, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			if _, _, err := read(b[:n], "sa"); err == nil {
				t.Fatalf("%s cut at %d of %d bytes: read", file, n, len(b))
			}
			if _, _, err := read(b[:n], "u64"); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("%s cut at %d: %v, want ErrCorrupt or ErrNotFound", file, n, err)
			}
		}
	}
}

// TestHostile: sizes that lie, a zip bomb and odd alignments are errors
// that say so, before anything large is allocated.
func TestHostile(t *testing.T) {
	defer inputs.SetBudget(inputs.Budget())
	inputs.SetBudget(1 << 20)
	ok := matfiletest.Double("x", []int32{2, 2}, []float64{1, 2, 3, 4})
	cases := []struct {
		name string
		body []byte
		want string
	}{
		{"zip bomb over the budget", matfiletest.Zeros("x", 1000, 1000), "x (shape (1000, 1000)): 7.63 MiB, over the memory budget of 1 MiB"},
		{"compressed size beyond deflate's ratio", matfiletest.Compressed(lie(ok, 1<<30)), "more than deflate makes of them (1032:1): a zip bomb or a corrupt file"},
		{"element longer than the file", lie(ok, 1<<20), "declares 1048576 bytes, the file has 88 after its tag (truncated)"},
		{"data shorter than the shape", matfiletest.Double("x", []int32{2, 3}, []float64{1, 2, 3, 4}), "shape 2x3 needs 48 bytes of data type 9, its data has 32"},
		{"negative dimension", matfiletest.Double("x", []int32{-2, 2}, []float64{1, 2, 3, 4}), "dimension 1 is negative (-2)"},
		{"dimensions overflowing", matfiletest.Double("x", []int32{1 << 30, 1 << 30}, nil), "byte count overflows"},
		{"odd alignment: a stray byte", append(matfiletest.Double("w", []int32{1, 1}, []float64{1}), 0), "1 stray bytes at the end"},
		{"not a matrix", matfiletest.Element(matfiletest.MiDOUBLE, make([]byte, 8)), "data type 9, want a matrix (14) or compressed (15)"},
		{"a sub-element past its element", lieSub(ok), "its element has"},
	}
	for _, c := range cases {
		_, _, err := read(append(matfiletest.Header(), c.body...), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if v, shape, err := read(append(matfiletest.Header(), matfiletest.Compressed(ok)...), "x"); err != nil || !slices.Equal(v, []float64{1, 3, 2, 4}) || !slices.Equal(shape, []int{2, 2}) {
		t.Errorf("the well-formed element: %v %v %v, want [1 3 2 4] (row-major) of shape [2 2]", v, shape, err)
	}
}

// lie sets the byte count of the element's tag to n.
func lie(elem []byte, n uint32) []byte {
	b := slices.Clone(elem)
	b[4], b[5], b[6], b[7] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return b
}

// lieSub makes the dimensions sub-element of a miMATRIX element claim
// more bytes than the element holds.
func lieSub(elem []byte) []byte {
	b := slices.Clone(elem)
	b[8+16+4] = 0xf0 // tag, flags sub-element, then the dimensions' count
	return b
}

// FuzzRead: no input makes the Level 5 reader panic or return values that
// do not fill their shape; the seeds are the fixtures and the crafted
// files of TestHostile.
func FuzzRead(f *testing.F) {
	for _, file := range append(slices.Clone(typeFiles), "mesh_v7.mat") {
		b, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	ok := matfiletest.Double("x", []int32{2, 2}, []float64{1, 2, 3, 4})
	f.Add(append(matfiletest.Header(), matfiletest.Compressed(ok)...))
	f.Add(append(matfiletest.Header(), lieSub(ok)...))
	defer inputs.SetBudget(inputs.Budget())
	inputs.SetBudget(1 << 20)
	names := []string{"x", "d", "s", "u64", "logic", "mesh", "mesh.node", "mesh.face", "cel", "sa", "cplx", "R", "nodes", "triangles"}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := openV5(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, name := range names {
			for _, ints := range []bool{false, true} {
				vals, iv, shape, err := v.read(name, ints)
				if err != nil {
					continue
				}
				n, _ := inputs.Elements(shape)
				if len(shape) != 2 || ints && len(iv) != n || !ints && len(vals) != n {
					t.Fatalf("%s: shape %v with %d floats, %d ints", name, shape, len(vals), len(iv))
				}
			}
			v.fields(name)
		}
	})
}
