package h5

import (
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gonum.org/v1/hdf5"

	"github.com/eandarn/eandarn/io/inputs"
)

// declare writes a file holding one dataset "x" of shape dims and element
// type dtype, chunked (chunks of at most 64 elements per dimension), with
// its data written when write is set; ok is false when HDF5 refuses to
// create such a dataset.
func declare(t testing.TB, path string, dims []uint, dtype *hdf5.Datatype, write bool) (ok bool) {
	t.Helper()
	defer quiet()()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var space *hdf5.Dataspace
	if len(dims) == 0 {
		space, err = hdf5.CreateDataspace(hdf5.S_SCALAR)
	} else {
		space, err = hdf5.CreateSimpleDataspace(dims, nil)
	}
	if err != nil {
		return false
	}
	defer space.Close()
	pl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if len(dims) > 0 {
		chunk := make([]uint, len(dims))
		for i, d := range dims {
			chunk[i] = max(1, min(d, 64))
		}
		if pl.SetChunk(chunk) != nil {
			return false
		}
	}
	ds, err := f.CreateDatasetWith("x", dtype, space, pl)
	if err != nil {
		return false
	}
	defer ds.Close()
	if write {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		switch dtype {
		case hdf5.T_NATIVE_DOUBLE:
			buf := make([]float64, max(n, 1))
			for i := range buf {
				buf[i] = float64(i) + 0.5
			}
			return ds.Write(&buf) == nil
		default:
			buf := make([]int32, max(n, 1))
			for i := range buf {
				buf[i] = int32(i)
			}
			return ds.Write(&buf) == nil
		}
	}
	return true
}

// TestDeclaredShapes: shapes whose element count overflows, data over the
// memory budget, and data never written are refused before anything is
// allocated; special files are never opened.
func TestDeclaredShapes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.h5")
	for _, c := range []struct {
		dims []uint
		want string
	}{
		{[]uint{64, 1 << 58}, "overflows"},
		{[]uint{42, 1 << 58}, "overflows"},
		{[]uint{1e9, 1e9}, "memory budget"},
		{[]uint{1 << 40}, "memory budget"},
		{[]uint{7, 9}, "never fully written"},
	} {
		if !declare(t, p, c.dims, hdf5.T_NATIVE_DOUBLE, false) {
			t.Fatalf("HDF5 refused to declare %v", c.dims)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		_, _, errF := f.ReadFloats("x")
		_, _, errI := f.ReadInts("x")
		f.Close()
		for _, err := range []error{errF, errI} {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v: %v, want an error mentioning %q", c.dims, err, c.want)
			}
		}
	}
	fifo := filepath.Join(dir, "p.h5")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, dir, "/dev/null"} {
		if _, err := Open(path); !errors.Is(err, inputs.ErrNotRegular) {
			t.Errorf("Open(%s): %v, want ErrNotRegular", path, err)
		}
	}
}

// FuzzDeclared fuzzes the shape and dtype checks of reading: a dataset of
// any declared rank, shape and element class, written or not, reads to an
// error or to exactly its elements, within the memory budget; never a
// panic or an allocation the budget does not allow.
func FuzzDeclared(f *testing.F) {
	f.Add(uint8(2), uint64(3), uint64(4), uint64(0), uint8(0), true)
	f.Add(uint8(2), uint64(64), uint64(1<<58), uint64(0), uint8(0), false)
	f.Add(uint8(1), uint64(1<<40), uint64(0), uint64(0), uint8(1), false)
	f.Add(uint8(0), uint64(0), uint64(0), uint64(0), uint8(1), true)
	f.Add(uint8(3), uint64(2), uint64(3), uint64(4), uint8(2), true)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, rank uint8, d0, d1, d2 uint64, class uint8, write bool) {
		dims := []uint{uint(d0 & math.MaxInt64), uint(d1 & math.MaxInt64), uint(d2 & math.MaxInt64)}[:rank%4]
		total := new(big.Int).SetUint64(1)
		for _, d := range dims {
			total.Mul(total, new(big.Int).SetUint64(uint64(d)))
		}
		write = write && total.Cmp(big.NewInt(4096)) <= 0
		dtype := []*hdf5.Datatype{hdf5.T_NATIVE_DOUBLE, hdf5.T_NATIVE_INT32, hdf5.T_GO_STRING}[class%3]
		if dtype == hdf5.T_GO_STRING {
			write = false
		}
		p := filepath.Join(dir, "f.h5")
		defer os.Remove(p)
		if !declare(t, p, dims, dtype, write) {
			return
		}
		file, err := Open(p)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer file.Close()
		v, shape, err := file.ReadFloats("x")
		if err != nil {
			return
		}
		n, err := inputs.Elements(shape)
		if err != nil || n != len(v) || total.Cmp(big.NewInt(int64(n))) != 0 {
			t.Fatalf("declared %v: read %d values of shape %v (%v)", dims, len(v), shape, err)
		}
		if int64(n)*8 > inputs.Budget() {
			t.Fatalf("read %d values, over the budget", n)
		}
		if !write && n > 0 {
			t.Fatalf("read %d values that were never written", n)
		}
		if dtype == hdf5.T_GO_STRING {
			t.Fatal("read strings as numbers")
		}
	})
}
