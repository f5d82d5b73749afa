package matfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/eandarn/eandarn/io/h5"
)

// A -v7.3 file is HDF5 (MATLAB's own layout, as documented with its
// hdf5 functions and seen in h5dump): each variable is a root dataset, a
// 1x1 struct a group holding one dataset per field; every object carries
// a MATLAB_class attribute ("double", "logical", "struct", "cell", "char",
// a class name for objects); a sparse matrix is a group with a
// MATLAB_sparse attribute, a complex array a compound {real, imag}
// dataset, an empty array a dataset of its dimensions with MATLAB_empty
// set. MATLAB writes its column-major m x n array as the row-major HDF5
// dataset of shape (n, m).

// numericClasses are the MATLAB_class values of the arrays read ("" when a
// tool that wrote the -v7.3 layout left the attribute out; the array is
// still taken as column-major, as the file's header promises).
var numericClasses = []string{"", "double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32",
	"int64", "uint64", "logical"}

// h5Path is the HDF5 path of a variable VAR or VAR.FIELD.
func h5Path(name string) string { return strings.ReplaceAll(name, ".", "/") }

// class returns the MATLAB_class attribute of the object at p, "" when
// it has none.
func (f *File) class(p string) string {
	s, _ := f.h5.String(p, "MATLAB_class")
	return s
}

// readH5 reads the numeric variable name of a -v7.3 file as floats, or
// ints when ints is set, row-major in its MATLAB shape.
func (f *File) readH5(name string, ints bool) ([]float64, []int, []int, error) {
	p := h5Path(name)
	if err := f.numericH5(name, p); err != nil {
		return nil, nil, nil, err
	}
	if _, err := f.h5.Float(p, "MATLAB_empty"); err == nil {
		// The dataset holds the dimensions of the empty array.
		dims, _, err := f.h5.ReadInts(p)
		if err != nil {
			return nil, nil, nil, err
		}
		shape, err := squeeze(name, dims)
		return []float64{}, []int{}, shape, err
	}
	var (
		vals  []float64
		iv    []int
		shape []int
		err   error
	)
	if ints {
		iv, shape, err = f.h5.ReadInts(p)
	} else {
		vals, shape, err = f.h5.ReadFloats(p)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	// The row-major dataset of shape (d_k, …, d_1) is MATLAB's
	// column-major array of shape (d_1, …, d_k).
	slices.Reverse(shape)
	if shape, err = squeeze(name, shape); err != nil {
		return nil, nil, nil, err
	}
	return fromColumnMajor(vals, shape), fromColumnMajor(iv, shape), shape, nil
}

// fromColumnMajor returns the row-major copy of the column-major 2-D
// array v of shape (nil for nil v).
func fromColumnMajor[T any](v []T, shape []int) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for k, x := range v {
		out[rowMajorIndex(k, shape[0], shape[1])] = x
	}
	return out
}

// numericH5 checks that the object at p (variable name) exists and is a
// numeric array, and says what it is otherwise.
func (f *File) numericH5(name, p string) error {
	if !f.h5.Exists(p) {
		return f.missingH5(name)
	}
	class := f.class(p)
	info, err := f.h5.Stat(p)
	if err != nil { // a group: a struct, a sparse matrix, or another tool's group
		switch {
		case class == "struct":
			fields, err := f.fieldsH5(name)
			if err != nil {
				return err
			}
			return structRefusal(name, fields)
		case f.hasAttr(p, "MATLAB_sparse"):
			return refusal(name, "sparse", "sparse matrix")
		}
		return fmt.Errorf("%s is a group (MATLAB_class %q), not an array: %w", name, class, ErrUnsupported)
	}
	dims := slices.Clone(info.Shape)
	slices.Reverse(dims) // MATLAB's shape
	switch {
	case !slices.Contains(numericClasses, class):
		return refusal(name, class, dimText(dims)+" "+class)
	case info.Class == h5.Other && class != "":
		return refusal(name, "complex", dimText(dims)+" complex "+class)
	case info.Class != h5.Float && info.Class != h5.Int:
		return fmt.Errorf("%s holds HDF5 %s elements, not numbers: %w", name, info.Class, ErrUnsupported)
	}
	return nil
}

// hasAttr reports whether the object at p has the attribute name.
func (f *File) hasAttr(p, name string) bool {
	names, _ := f.h5.AttrNames(p)
	return slices.Contains(names, name)
}

// missingH5 is the error for a variable or field that the file does not
// hold, with what the file or the struct holds instead.
func (f *File) missingH5(name string) error {
	parts := strings.Split(name, ".")
	for i := len(parts) - 1; i > 0; i-- {
		parent := strings.Join(parts[:i], ".")
		if f.h5.Exists(h5Path(parent)) {
			fields, err := f.fieldsH5(parent)
			if err != nil {
				return err
			}
			return fmt.Errorf("%s has no field %q; its fields: %s: %w", parent, parts[i], strings.Join(fields, ", "), ErrNotFound)
		}
	}
	vars, err := f.children("")
	if err != nil {
		return err
	}
	return fmt.Errorf("no variable %q; %s: %w", parts[0], listing(vars), ErrNotFound)
}

// children lists the objects of the group at p, MATLAB's bookkeeping
// groups (#refs#, #subsystem#) left out.
func (f *File) children(p string) ([]string, error) {
	entries, err := f.h5.List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Path, p)
		if !ok || p != "" && !strings.HasPrefix(rest, "/") {
			continue
		}
		rest = strings.TrimPrefix(rest, "/")
		if rest != "" && !strings.Contains(rest, "/") && !strings.HasPrefix(rest, "#") {
			out = append(out, rest)
		}
	}
	return out, nil
}

// fieldsH5 returns the fields of the 1x1 struct name of a -v7.3 file.
func (f *File) fieldsH5(name string) ([]string, error) {
	p := h5Path(name)
	if !f.h5.Exists(p) {
		return nil, f.missingH5(name)
	}
	if c := f.class(p); c != "struct" {
		if c == "" {
			c = "not a MATLAB struct"
		}
		return nil, fmt.Errorf("%s is not a struct (MATLAB_class %s): %w", name, c, ErrUnsupported)
	}
	if _, err := f.h5.Stat(p); err == nil {
		return nil, fmt.Errorf("%s is a struct array: want a 1x1 struct: %w", name, ErrUnsupported)
	}
	fields, err := f.children(p)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("%s is a struct without fields: %w", name, ErrUnsupported)
	}
	return fields, nil
}
