package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/inputs"
)

// header builds a version-1 .npy header around dict (padded as NumPy pads).
func header(dict string) []byte {
	h := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := append([]byte(magic+"\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(h)))
	return append(b, h...)
}

func TestParseHeader(t *testing.T) {
	for _, c := range []struct {
		dict    string
		shape   []int
		fortran bool
		descr   string
	}{
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", []int{3, 4}, false, "<f8"},
		{`{"shape": (7,), "fortran_order": True, "descr": ">i4"}`, []int{7}, true, ">i4"},
		{"{'descr': '|u1', 'fortran_order': False, 'shape': ()}", nil, false, "|u1"},
		{"{'descr':'<f4','fortran_order':False,'shape':(2L, 5L)}", []int{2, 5}, false, "<f4"},
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", []int{0, 3}, false, "<f8"},
	} {
		h, err := ParseHeader(bytes.NewReader(header(c.dict)))
		if err != nil || !reflect.DeepEqual(h.Shape, c.shape) || h.Fortran != c.fortran || h.Descr != c.descr || h.Offset%64 != 0 {
			t.Errorf("%s: %+v %v", c.dict, h, err)
		}
	}
	for _, c := range []struct{ name, dict, want string }{
		{"negative dimension", "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 42), }", "dimension ≥ 0"},
		{"overflowing shape", "{'descr': '<f8', 'fortran_order': False, 'shape': (64, 288230376151711744), }", "overflows"},
		{"dimension beyond int64", "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", "too large"},
		{"structured dtype", "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }", "structured"},
		{"missing key", "{'descr': '<f8', 'shape': (3,), }", "fortran_order"},
		{"unknown key", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}", "unknown key"},
		{"repeated key", "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", "twice"},
		{"python expression", "{'descr': '<f8', 'fortran_order': __import__('os'), 'shape': (3,)}", "True or False"},
		{"unterminated", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,", "want"},
		{"trailing text", "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)} x", "after the dict"},
	} {
		_, err := ParseHeader(bytes.NewReader(header(c.dict)))
		if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrHeader mentioning %q", c.name, err, c.want)
		}
	}
	long := append([]byte(magic+"\x02\x00"), 0xff, 0xff, 0xff, 0x7f)
	if _, err := ParseHeader(bytes.NewReader(long)); !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), "at most") {
		t.Errorf("2 GiB header: %v", err)
	}
}

// TestReadChecksSizeFirst: a header declaring gigabytes in a tiny file is
// refused from the file size, and data over the memory budget from the
// header, before anything is allocated.
func TestReadChecksSizeFirst(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.npy")
	if err := os.WriteFile(p, header("{'descr': '<f8', 'fortran_order': False, 'shape': (42, 12000000), }"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Stat(p); err == nil || !strings.Contains(err.Error(), "header promises 4032000000 bytes") {
		t.Errorf("Stat of a header-only file: %v", err)
	}
	if _, _, err := ReadFloats(p); err == nil || !strings.Contains(err.Error(), "truncated or padded") {
		t.Errorf("ReadFloats of a header-only file: %v", err)
	}
	if err := WriteDense(p, mat.NewDense(64, 64, nil)); err != nil {
		t.Fatal(err)
	}
	defer inputs.SetBudget(inputs.DefaultBudget)
	inputs.SetBudget(16 << 10)
	if h, err := Stat(p); err != nil || !reflect.DeepEqual(h.Shape, []int{64, 64}) {
		t.Errorf("Stat needs no budget: %+v %v", h, err)
	}
	if _, _, err := ReadFloats(p); !errors.Is(err, inputs.ErrBudget) {
		t.Errorf("32 KiB of data with a 16 KiB budget: %v, want ErrBudget", err)
	}
}

// FuzzParseHeader: any bytes parse to an error or a header whose shape is
// non-negative with an element count that fits an int; never a panic.
func FuzzParseHeader(f *testing.F) {
	for _, d := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
		"{'descr': '>i4', 'fortran_order': True, 'shape': (7,), }",
		"{'descr': '|u1', 'fortran_order': False, 'shape': (), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 42), }",
		"{'descr': '<f8', 'fortran_order': False, 'shape': (64, 288230376151711744), }",
	} {
		f.Add(header(d))
	}
	f.Add([]byte(magic + "\x03\x00\x10\x00\x00\x00{'descr':'<f8'}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("error not wrapping ErrHeader: %v", err)
			}
			return
		}
		if _, err := inputs.Elements(h.Shape); err != nil {
			t.Fatalf("accepted shape %v: %v", h.Shape, err)
		}
		if h.Offset > int64(len(b)) || h.Offset < 10 {
			t.Fatalf("offset %d for %d bytes", h.Offset, len(b))
		}
	})
}

// FuzzRead: any file reads to an error or to exactly the values its header
// declares (element count = product of the shape, file size = header +
// data); never a panic, never an allocation beyond the file. It runs the
// reader's checks and decoding on the bytes in memory (ReadFloats adds only
// the non-blocking open).
func FuzzRead(f *testing.F) {
	dir := f.TempDir()
	for i, m := range []mat.Matrix{mat.NewDense(2, 3, []float64{1, 2, 3, 4, 5, 6}), mat.NewDense(1, 1, []float64{-0.5})} {
		p := filepath.Join(dir, "seed.npy")
		if err := WriteDense(p, m); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-8*i-3])
	}
	f.Add(append(header("{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }"), 0, 1, 0, 2, 0, 3, 0, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, asInts := range []bool{false, true} {
			r := bytes.NewReader(b)
			h, dt, n, err := check(r, int64(len(b)))
			if err != nil {
				continue
			}
			if h.Offset+int64(n*dt.size) != int64(len(b)) {
				t.Fatalf("%d bytes for header %d + %d x %d", len(b), h.Offset, n, dt.size)
			}
			vals, ints, shape, err := load(r, h, dt, n, asInts)
			if err != nil {
				t.Fatalf("data of a checked file not read: %v", err)
			}
			if m, err := inputs.Elements(shape); err != nil || m != len(vals)+len(ints) {
				t.Fatalf("shape %v (%d elements, %v) but %d values", shape, m, err, len(vals)+len(ints))
			}
		}
	})
}
