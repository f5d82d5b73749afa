// Package npy reads and writes NumPy .npy files of float64 and integer
// arrays of rank 0, 1 and 2.
//
// Files are written through codeberg.org/sbinet/npyio, always in C
// (row-major) order, version 2 header, with dtype '<f8' for floats and
// '<i8' for integers: a Go n x T matrix loads in NumPy as an array of shape
// (n, T). Every written file goes through bufio: npyio issues one Write call
// per element, which costs a system call each on a bare *os.File.
//
// Reading has its own parser (header.go), because a .npy file may come from
// anyone: the header is parsed strictly (a malformed, negative or
// overflowing shape is an error, never a panic), the file's real size must
// equal what the header promises before anything is allocated (a 200-byte
// file declaring a 4 GB array is refused at once, and so is one cut at an
// element boundary), the declared data must fit the memory budget of
// io/inputs, and a named pipe or device is refused without blocking.
// Reading accepts C or Fortran order (np.asfortranarray output, MATLAB
// exports), either byte order, and the dtypes f8, f4, f2, i8, i4, i2, i1,
// u8, u4, u2, u1 (the numeric types HDF5 files hold too; u8 values beyond
// int64 saturate, as HDF5 converts them); integer reads also accept float
// arrays whose values are all whole numbers. Pickled object arrays are
// refused.
package npy

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/inputs"
)

// create opens path for writing behind a bufio.Writer and calls fn; the
// buffer is flushed and the file closed (and synced) before returning.
func create(path string, fn func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	err = fn(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteDense writes m as a 2-D float64 array of shape (rows, cols).
func WriteDense(path string, m mat.Matrix) error {
	d := mat.DenseCopyOf(m)
	return create(path, func(w io.Writer) error { return npyio.Write(w, d) })
}

// WriteVector writes v as a 1-D float64 array.
func WriteVector(path string, v []float64) error {
	return create(path, func(w io.Writer) error { return npyio.Write(w, v) })
}

// WriteInts writes the row-major rows x cols integers as a 2-D int64 array.
func WriteInts(path string, rows, cols int, data []int) error {
	if len(data) != rows*cols {
		return fmt.Errorf("write %s: %d values for %dx%d", path, len(data), rows, cols)
	}
	if rows == 0 {
		// npyio takes the shape from the nested slices and cannot express (0, c).
		return fmt.Errorf("write %s: no rows", path)
	}
	// npyio writes the shape of nested slices: rows views into one buffer.
	flat := convert[int, int64](data)
	nested := make([][]int64, rows)
	for i := range nested {
		nested[i] = flat[i*cols : (i+1)*cols]
	}
	return create(path, func(w io.Writer) error { return npyio.Write(w, nested) })
}

// WriteIntVector writes v as a 1-D int64 array.
func WriteIntVector(path string, v []int) error {
	flat := convert[int, int64](v)
	return create(path, func(w io.Writer) error { return npyio.Write(w, flat) })
}

// convert widens every element of in to U.
func convert[T, U int | int64](in []T) []U {
	out := make([]U, len(in))
	for i, x := range in {
		out[i] = U(x)
	}
	return out
}

// ReadFloats reads a rank-0, 1 or 2 numeric array as row-major float64
// values and its shape.
func ReadFloats(path string) ([]float64, []int, error) {
	vals, _, shape, err := read(path, false)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	return vals, shape, nil
}

// ReadDense reads a 2-D numeric array as a rows x cols matrix.
func ReadDense(path string) (*mat.Dense, error) {
	v, shape, err := ReadFloats(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] == 0 || shape[1] == 0 {
		return nil, fmt.Errorf("read %s: want a non-empty 2-D array, got shape %v", path, shape)
	}
	return mat.NewDense(shape[0], shape[1], v), nil
}

// ReadVector reads a 1-D numeric array.
func ReadVector(path string) ([]float64, error) {
	v, shape, err := ReadFloats(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("read %s: want a 1-D array, got shape %v", path, shape)
	}
	return v, nil
}

// ErrNotInteger is wrapped when an integer read meets a value that is not
// an integer (inputs.Int).
var ErrNotInteger = inputs.ErrNotInteger

// ReadInts reads an integer array (or a float array of whole numbers) as
// row-major ints and its shape.
func ReadInts(path string) ([]int, []int, error) {
	vals, ints, shape, err := read(path, true)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if vals == nil {
		return ints, shape, nil
	}
	out := make([]int, len(vals))
	for i, x := range vals {
		if out[i], err = inputs.Int(x); err != nil {
			return nil, nil, fmt.Errorf("read %s: at flat index %d: %w", path, i, err)
		}
	}
	return out, shape, nil
}
