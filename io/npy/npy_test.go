package npy

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

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
	copy(d, []float64{math.Copysign(0, -1), 5e-324, -math.MaxFloat64, 1.0 / 3})
	return mat.NewDense(r, c, d)
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func TestRoundTripBitExact(t *testing.T) {
	const n, T, F = 1094, 661, 2184
	dir := t.TempDir()
	u := randomDense(n, T, 11)
	rng := rand.New(rand.NewPCG(11, 2))
	tris := make([]int, 3*F)
	for i := range tris {
		tris[i] = rng.IntN(n)
	}
	up, tp, vp, lp := filepath.Join(dir, "u.npy"), filepath.Join(dir, "t.npy"), filepath.Join(dir, "v.npy"), filepath.Join(dir, "l.npy")
	vec := u.RawRowView(5)
	if err := errors.Join(WriteDense(up, u), WriteInts(tp, F, 3, tris), WriteVector(vp, vec), WriteIntVector(lp, []int{3, 1 << 40, -2})); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDense(up)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := got.Dims(); r != n || c != T || !sameBits(got.RawMatrix().Data, u.RawMatrix().Data) {
		t.Fatalf("float64 %dx%d round trip not bit-exact (got %dx%d)", n, T, r, c)
	}
	ti, shape, err := ReadInts(tp)
	if err != nil || !reflect.DeepEqual(shape, []int{F, 3}) || !reflect.DeepEqual(ti, tris) {
		t.Fatalf("triangles round trip: shape %v err %v", shape, err)
	}
	if v, err := ReadVector(vp); err != nil || !sameBits(v, vec) {
		t.Fatalf("vector round trip: %v", err)
	}
	if l, shape, err := ReadInts(lp); err != nil || !reflect.DeepEqual(l, []int{3, 1 << 40, -2}) || !reflect.DeepEqual(shape, []int{3}) {
		t.Fatalf("int vector round trip: %v %v %v", l, shape, err)
	}
	if _, err := ReadDense(vp); err == nil {
		t.Error("ReadDense of a 1-D file: want error")
	}
}

// TestNumPyInterop checks both directions against NumPy: C-order files
// written here load with the right shape and values, and NumPy's Fortran
// order, int32, float32 and big-endian files read correctly here.
func TestNumPyInterop(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy not available: %v", py, err)
	}
	dir := t.TempDir()
	m := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6.5})
	if err := errors.Join(WriteDense(filepath.Join(dir, "go.npy"), m), WriteInts(filepath.Join(dir, "goi.npy"), 2, 2, []int{0, 1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, os, numpy as np
d = sys.argv[1]
a = np.load(os.path.join(d, "go.npy"))
assert a.shape == (2, 3) and a.dtype == np.float64 and a[1, 2] == 6.5 and a[0, 1] == 2, a
b = np.load(os.path.join(d, "goi.npy"))
assert b.shape == (2, 2) and b.dtype == np.int64 and b[1, 0] == 2, b
x = np.arange(6, dtype=np.float64).reshape(2, 3) + 0.25
np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(x))
np.save(os.path.join(d, "i32.npy"), np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int32))
np.save(os.path.join(d, "i32f.npy"), np.asfortranarray(np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int32)))
np.save(os.path.join(d, "f32.npy"), np.array([0.5, -1.5], dtype=np.float32))
np.save(os.path.join(d, "be.npy"), np.array([1/3, 2.0], dtype=">f8"))
np.save(os.path.join(d, "f16.npy"), np.array([0.5, -1.5, 65504, 2.0**-24, np.inf], dtype=np.float16))
np.save(os.path.join(d, "u64.npy"), np.array([[0, 7, 2**64 - 1]], dtype=np.uint64))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	f, err := ReadDense(filepath.Join(dir, "fortran.npy"))
	if err != nil || !reflect.DeepEqual(f.RawMatrix().Data, []float64{0.25, 1.25, 2.25, 3.25, 4.25, 5.25}) {
		t.Errorf("Fortran-order float64: %v %v", f, err)
	}
	for _, name := range []string{"i32.npy", "i32f.npy"} {
		v, shape, err := ReadInts(filepath.Join(dir, name))
		if err != nil || !reflect.DeepEqual(v, []int{0, 1, 2, 3, 4, 5}) || !reflect.DeepEqual(shape, []int{2, 3}) {
			t.Errorf("%s: %v %v %v", name, v, shape, err)
		}
	}
	if v, err := ReadVector(filepath.Join(dir, "f32.npy")); err != nil || !reflect.DeepEqual(v, []float64{0.5, -1.5}) {
		t.Errorf("float32: %v %v", v, err)
	}
	if v, err := ReadVector(filepath.Join(dir, "be.npy")); err != nil || !reflect.DeepEqual(v, []float64{1.0 / 3, 2}) {
		t.Errorf("big-endian: %v %v", v, err)
	}
	// float16 and uint64, which HDF5 files may hold too: exact values;
	// an unsigned value beyond int64 saturates, as HDF5 converts it.
	if v, err := ReadVector(filepath.Join(dir, "f16.npy")); err != nil || !reflect.DeepEqual(v, []float64{0.5, -1.5, 65504, math.Ldexp(1, -24), math.Inf(1)}) {
		t.Errorf("float16: %v %v", v, err)
	}
	if v, shape, err := ReadInts(filepath.Join(dir, "u64.npy")); err != nil || !reflect.DeepEqual(v, []int{0, 7, math.MaxInt64}) || !reflect.DeepEqual(shape, []int{1, 3}) {
		t.Errorf("uint64: %v %v %v", v, shape, err)
	}
}

func TestReadRejectsDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.npy")
	if err := WriteDense(good, randomDense(10, 4, 1)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string // substring of the error
	}{
		{"cut at an element boundary", b[:len(b)-8*7], "truncated"},
		{"cut inside an element", b[:len(b)-3], "truncated"},
		{"trailing bytes", append(append([]byte{}, b...), 0, 0, 0, 0, 0, 0, 0, 0), "padded"},
		{"cut in the header", b[:20], "not a NumPy"},
		{"not npy", []byte("1,2,3\n4,5,6\n"), "not a NumPy"},
		{"empty", nil, "not a NumPy"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, "bad.npy")
		if err := os.WriteFile(p, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadDense(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	fp := filepath.Join(dir, "frac.npy")
	if err := WriteVector(fp, []float64{1, 2.5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadInts(fp); !errors.Is(err, ErrNotInteger) {
		t.Errorf("ReadInts of 2.5: %v, want ErrNotInteger", err)
	}
	// A whole number too large to be an exact float64 index says so.
	if err := WriteVector(fp, []float64{1, 0x1p60}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadInts(fp); !errors.Is(err, ErrNotInteger) || !strings.Contains(err.Error(), "magnitude at most 2^53") {
		t.Errorf("ReadInts of 2^60: %v, want ErrNotInteger naming the 2^53 bound", err)
	}
}

func BenchmarkWriteDense1094x661(b *testing.B) {
	m := randomDense(1094, 661, 3)
	p := filepath.Join(b.TempDir(), "w.npy")
	b.SetBytes(1094 * 661 * 8)
	for b.Loop() {
		if err := WriteDense(p, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadDense1094x661(b *testing.B) {
	p := filepath.Join(b.TempDir(), "r.npy")
	if err := WriteDense(p, randomDense(1094, 661, 3)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(1094 * 661 * 8)
	for b.Loop() {
		if _, err := ReadDense(p); err != nil {
			b.Fatal(err)
		}
	}
}
