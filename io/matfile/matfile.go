// Package matfile reads numeric arrays from MATLAB .mat files, the format
// in which ECGI researchers keep their meshes, transfer matrices and
// recordings (SCIRun, the FwdInvToolkit, ECGSim exports, EDGAR).
//
// Two formats are read:
//   - Level 5 (MATLAB's save -v6 and -v7, v7 being the default): a
//     128-byte header whose endian indicator gives the byte order, then
//     one data element per variable, miMATRIX or miCOMPRESSED (zlib, -v7).
//     This package parses it itself (v5.go).
//   - -v7.3: an HDF5 file behind a 512-byte user block, read through
//     io/h5 (HDF5 finds the superblock after the user block itself). Each
//     variable is a dataset with a MATLAB_class attribute.
//
// A variable is named as MATLAB names it, and a field of a 1x1 struct as
// VAR.FIELD (to any depth), the form in which SCIRun and the
// FwdInvToolkit save meshes (mesh.node, mesh.face).
//
// Full, real arrays of class double, single, int8 to uint64 and logical
// are read, as float64 or as int (integer reads take float arrays of whole
// numbers, as MATLAB stores indices, through inputs.Int). MATLAB stores
// arrays column-major; they are returned row-major in MATLAB's own shape,
// so an m x T matrix in MATLAB is m x T here, with trailing singleton
// dimensions beyond the second dropped. Complex, sparse, cell, char,
// struct, function-handle and object variables, arrays of more than two
// non-singleton dimensions and missing variables are errors that name the
// variable and say what it is (for a missing variable, the variables the
// file holds). Indices are returned as stored: MATLAB's are 1-based, and
// the callers' 0-based checks (inputs.BadIndex) say so.
//
// Files are read as untrusted input (see io/inputs): only a regular file
// is opened; every declared size is checked against the bytes that hold
// it before it is read, so a truncated file or a lying size is an error,
// never a panic or an allocation; a variable's declared shape is
// multiplied with overflow checks and checked against the memory budget
// before its data is read; and a compressed element is inflated only up
// to the size its tag declares, which may not exceed what deflate can make
// of its compressed bytes (at most 1032:1), so a zip bomb is refused
// before it inflates.
package matfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/eandarn/eandarn/io/h5"
	"github.com/eandarn/eandarn/io/inputs"
)

// ErrNotFound is wrapped by errors about a variable or field that the file
// does not hold.
var ErrNotFound = errors.New("not found")

// ErrUnsupported is wrapped by errors about a variable that is not a full,
// real numeric array of at most two dimensions (complex, sparse, cell,
// char, struct, function handle, object, N-D).
var ErrUnsupported = errors.New("not a numeric array")

// ErrCorrupt is wrapped by errors about a file whose structure is broken:
// truncated, a size that does not fit, an unknown element type.
var ErrCorrupt = errors.New("corrupt or truncated MAT file")

// File is an open .mat file.
type File struct {
	name string
	fh   *os.File // Level 5: read in place
	v5   *v5File
	h5   *h5.File // -v7.3
}

// hdf5Magic is the HDF5 superblock signature; a -v7.3 .mat has it at byte
// 512, after MATLAB's user block.
var hdf5Magic = []byte("\x89HDF\r\n\x1a\n")

// Open opens a .mat file of Level 5 (v6, v7) or -v7.3 (HDF5) for reading.
// A file of neither kind (a MATLAB v4 file, a text file) is an error that
// says what it is.
func Open(path string) (*File, error) {
	fh, err := inputs.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	head := make([]byte, 520)
	n, _ := fh.ReadAt(head, 0)
	head = head[:n]
	if bytes.HasPrefix(head, hdf5Magic) {
		fh.Close()
		return nil, fmt.Errorf("open %s: an HDF5 file without MATLAB's -v7.3 header, whose arrays are not MATLAB's: name it FILE.h5 and give FILE.h5:DATASET", path)
	}
	if len(head) >= 520 && bytes.Equal(head[512:520], hdf5Magic) {
		fh.Close()
		f, err := h5.Open(path)
		if err != nil {
			return nil, err
		}
		return &File{name: path, h5: f}, nil
	}
	v, err := openV5(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &File{name: path, fh: fh, v5: v}, nil
}

// Close closes the file.
func (f *File) Close() error {
	if f.h5 != nil {
		return f.h5.Close()
	}
	return f.fh.Close()
}

// Name returns the path the file was opened with.
func (f *File) Name() string { return f.name }

// ReadFloats reads the numeric variable name (VAR or VAR.FIELD) as
// row-major float64 values with its shape (MATLAB's, at least 2-D).
func (f *File) ReadFloats(name string) ([]float64, []int, error) {
	vals, _, shape, err := f.read(name, false)
	return vals, shape, err
}

// ReadInts reads the variable name as row-major ints with its shape: an
// integer or logical array, or a float array of whole numbers.
func (f *File) ReadInts(name string) ([]int, []int, error) {
	_, ints, shape, err := f.read(name, true)
	return ints, shape, err
}

// read reads a variable as floats, or as ints when ints is set.
func (f *File) read(name string, ints bool) ([]float64, []int, []int, error) {
	var (
		vals  []float64
		iv    []int
		shape []int
		err   error
	)
	if f.h5 != nil {
		vals, iv, shape, err = f.readH5(name, ints)
	} else {
		vals, iv, shape, err = f.v5.read(name, ints)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", f.name, err)
	}
	return vals, iv, shape, nil
}

// Fields returns the field names of the 1x1 struct name, in the file's
// order.
func (f *File) Fields(name string) ([]string, error) {
	var fields []string
	var err error
	if f.h5 != nil {
		fields, err = f.fieldsH5(name)
	} else {
		fields, err = f.v5.fields(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.name, err)
	}
	return fields, nil
}

// squeeze drops the trailing singleton dimensions beyond the second of a
// MATLAB shape and refuses the rest of N-D arrays; what names the variable.
func squeeze(what string, dims []int) ([]int, error) {
	for len(dims) > 2 && dims[len(dims)-1] == 1 {
		dims = dims[:len(dims)-1]
	}
	if len(dims) > 2 {
		return nil, fmt.Errorf("%s is a %d-D array (%s): want at most 2 dimensions: %w", what, len(dims), dimText(dims), ErrUnsupported)
	}
	for len(dims) < 2 { // MATLAB writes at least two
		dims = append(dims, 1)
	}
	return dims, nil
}

// refusal is the error for the variable name that is not a numeric array
// but of kind (MATLAB's class name, "complex" or "struct array"),
// described by desc ("1x2 complex double"), with what to do instead.
func refusal(name, kind, desc string) error {
	var advice string
	switch kind {
	case "complex":
		advice = fmt.Sprintf("save real(%s) or abs(%s)", name, name)
	case "sparse":
		advice = fmt.Sprintf("save full(%s)", name)
	case "cell", "struct array":
		advice = "save the numeric array in it as a variable of its own"
	case "char":
		advice = "text, not numbers"
	case "function_handle":
		advice = "a function, not numbers"
	default:
		advice = "a MATLAB object (a string, table or class instance), not numbers"
	}
	return fmt.Errorf("%s is a %s: %s: %w", name, desc, advice, ErrUnsupported)
}

// structRefusal is the error for the 1x1 struct name given where an array
// is wanted: it lists the fields to choose from.
func structRefusal(name string, fields []string) error {
	return fmt.Errorf("%s is a struct with fields %s: name a field, FILE.mat:%s.FIELD: %w", name, strings.Join(fields, ", "), name, ErrUnsupported)
}

// dimText renders a shape MATLAB's way: "162x3".
func dimText(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// rowMajorIndex is where element k of a column-major rows x cols array
// (MATLAB's layout) goes in the row-major one.
func rowMajorIndex(k, rows, cols int) int {
	return k%rows*cols + k/rows
}

// listing renders the variables a file holds for a missing-variable
// error: up to 10, then how many more.
func listing(vars []string) string {
	if len(vars) == 0 {
		return "the file holds no variables"
	}
	const most = 10
	s := "the file holds: " + strings.Join(vars[:min(len(vars), most)], ", ")
	if len(vars) > most {
		s += fmt.Sprintf(" and %d more", len(vars)-most)
	}
	return s
}
