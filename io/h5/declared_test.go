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
	f := createRaw(t, path)
	defer f.Close()
	var space *hdf5.Dataspace
	var err error
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

// TestChunkedLayouts: datasets stored in chunks, compressed or not, whose
// chunks do not divide the shape (edge chunks larger than the data), read
// back exactly; one whose chunks were only partly written is refused. HDF5
// counts the bytes a chunked dataset occupies, which compression makes
// smaller and edge chunks larger than the data, so the check of "fully
// written" counts its chunks instead.
func TestChunkedLayouts(t *testing.T) {
	const rows, cols = 33, 42
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = math.Sin(float64(i)) * 1e3
	}
	for _, c := range []struct {
		name    string
		chunk   []uint
		deflate int  // 0: no compression
		partial bool // write only the first rows
	}{
		{"one chunk", []uint{rows, cols}, 0, false},
		{"edge chunks", []uint{32, 5}, 0, false},
		{"deflate", []uint{rows, cols}, 6, false},
		{"deflate, edge chunks", []uint{7, 8}, 9, false},
		{"partly written", []uint{7, 8}, 0, true},
		{"deflate, partly written", []uint{7, 8}, 6, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.h5")
			writeChunked(t, path, []uint{rows, cols}, c.chunk, c.deflate, data, c.partial)
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, shape, err := f.ReadFloats("x")
			if c.partial {
				if err == nil || !strings.Contains(err.Error(), "never fully written") {
					t.Errorf("partly written: %v, want an error saying so", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(shape) != 2 || shape[0] != rows || shape[1] != cols || sameBits(got, data) != -1 {
				t.Errorf("read shape %v, first value differing at %d", shape, sameBits(got, data))
			}
		})
	}
}

// writeChunked writes a file holding the float64 dataset "x" of shape dims
// stored in chunks of shape chunk, deflated at level deflate (0: not),
// with all of data written, or only its first chunk row when partial.
func writeChunked(t *testing.T, path string, dims, chunk []uint, deflate int, data []float64, partial bool) {
	t.Helper()
	defer quiet()()
	f := createRaw(t, path)
	defer f.Close()
	space, err := hdf5.CreateSimpleDataspace(dims, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer space.Close()
	pl, err := hdf5.NewPropList(hdf5.P_DATASET_CREATE)
	if err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if err := pl.SetChunk(chunk); err != nil {
		t.Fatal(err)
	}
	if deflate > 0 {
		if err := pl.SetDeflate(deflate); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := f.CreateDatasetWith("x", hdf5.T_NATIVE_DOUBLE, space, pl)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if !partial {
		if err := ds.Write(&data); err != nil {
			t.Fatal(err)
		}
		return
	}
	// The first chunk row only: rows [0, chunk[0]) of every column.
	part := data[:int(chunk[0]*dims[1])]
	mem, err := hdf5.CreateSimpleDataspace([]uint{chunk[0], dims[1]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	file := ds.Space()
	defer file.Close()
	if err := file.SelectHyperslab([]uint{0, 0}, nil, []uint{chunk[0], dims[1]}, nil); err != nil {
		t.Fatal(err)
	}
	if err := ds.WriteSubset(&part, mem, file); err != nil {
		t.Fatal(err)
	}
}

// createRaw creates the HDF5 file at path through the binding, for the
// datasets this package does not write itself.
func createRaw(t testing.TB, path string) *hdf5.File {
	t.Helper()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
