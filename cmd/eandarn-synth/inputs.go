package main

import (
	"fmt"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/csvmesh"
	"github.com/eandarn/eandarn/io/npy"
)

// Array paths accepted by -leads, -regions, -bspm, -truth, -forward and
// -time: FILE.h5[:DATASET] or FILE.mat[:VAR] (the flag's default name
// when none is given; VAR may be STRUCT.FIELD of a 1x1 struct), FILE.npy,
// or anything else as CSV (comma-separated, no header; a one-column or
// one-row CSV is a vector).

// arrayFile returns the file an array path reads: FILE.h5 of
// FILE.h5:DATASET, FILE.mat of FILE.mat:VAR, else the path itself.
func arrayFile(path string) string {
	if file, _, ok := splitContainer(path); ok {
		return file
	}
	return path
}

// readArray reads an array of the path's format as row-major values and
// its shape, with the reader of each format (read for a name in an HDF5
// or MAT file).
func readArray[T any](path, name string, read func(a arrays, name string) ([]T, []int, error),
	fromNPY, fromCSV func(path string) ([]T, []int, error)) ([]T, []int, error) {
	if file, inner, ok := splitContainer(path); ok {
		c, err := openContainer(file)
		if err != nil {
			return nil, nil, err
		}
		defer c.Close()
		if inner == "" {
			inner = name
		}
		return read(c, inner)
	}
	if strings.HasSuffix(path, ".npy") {
		return fromNPY(path)
	}
	return fromCSV(path)
}

// readFloats reads a numeric array as row-major values and its shape.
func readFloats(path, dataset string) ([]float64, []int, error) {
	return readArray(path, dataset, arrays.ReadFloats, npy.ReadFloats, func(path string) ([]float64, []int, error) {
		m, err := csvmesh.ReadMatrix(path)
		if err != nil {
			return nil, nil, err
		}
		r, c := m.Dims()
		return m.RawMatrix().Data, []int{r, c}, nil
	})
}

// readInts reads an integer array as row-major values and its shape.
func readInts(path, dataset string) ([]int, []int, error) {
	return readArray(path, dataset, arrays.ReadInts, npy.ReadInts, func(path string) ([]int, []int, error) {
		v, r, c, err := csvmesh.ReadInts(path)
		return v, []int{r, c}, err
	})
}

// vectorShape reports whether shape holds a vector: 1-D, or 2-D with one
// row or one column.
func vectorShape(shape []int) bool {
	return len(shape) == 1 || len(shape) == 2 && (shape[0] == 1 || shape[1] == 1)
}

// readIntVector reads a vector of integers (see vectorShape).
func readIntVector(path, dataset string) ([]int, error) {
	v, shape, err := readInts(path, dataset)
	if err != nil {
		return nil, err
	}
	if !vectorShape(shape) {
		return nil, fmt.Errorf("want one integer per line (a vector), got shape %v", shape)
	}
	return v, nil
}

// readVector reads a vector of numbers (see vectorShape).
func readVector(path, dataset string) ([]float64, error) {
	v, shape, err := readFloats(path, dataset)
	if err != nil {
		return nil, err
	}
	if !vectorShape(shape) {
		return nil, fmt.Errorf("want one number per line (a vector), got shape %v", shape)
	}
	return v, nil
}

// readMatrix reads a non-empty 2-D numeric array of rows x cols (a
// negative count accepts any); what names the axes for the error, e.g.
// "leads x frames".
func readMatrix(path, dataset string, rows, cols int, what string) (*mat.Dense, error) {
	v, shape, err := readFloats(path, dataset)
	if err != nil {
		return nil, err
	}
	dim := func(k int) string {
		if k < 0 {
			return "K"
		}
		return fmt.Sprint(k)
	}
	if len(shape) != 2 || shape[0] == 0 || shape[1] == 0 || rows >= 0 && shape[0] != rows || cols >= 0 && shape[1] != cols {
		hint := ""
		if len(shape) == 2 && (rows < 0 || shape[1] == rows) && (cols < 0 || shape[0] == cols) && (rows >= 0 || cols >= 0) {
			axes := strings.Split(what, " x ")
			slices.Reverse(axes)
			hint = fmt.Sprintf(": transposed (%s)? transpose it", strings.Join(axes, " x "))
		}
		return nil, fmt.Errorf("want %sx%s (%s), got shape %v%s", dim(rows), dim(cols), what, shape, hint)
	}
	return mat.NewDense(shape[0], shape[1], v), nil
}
