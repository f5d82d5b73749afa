// Package npy reads and writes NumPy .npy files of float64 and integer
// arrays of rank 1 and 2 through codeberg.org/sbinet/npyio.
//
// Files are always written in C (row-major) order, version 2 header, with
// dtype '<f8' for floats and '<i8' for integers: a Go n x T matrix loads in
// NumPy as an array of shape (n, T). Reading accepts C or Fortran order
// (np.asfortranarray output, MATLAB exports), either byte order, and the
// dtypes f8, f4, i8, i4, i2, i1, u4, u2, u1; integer reads also accept float
// arrays whose values are all whole numbers.
//
// Every file goes through bufio: npyio issues one Read or Write call per
// element, which costs a system call each on a bare *os.File (about 80x
// slower for a 1094 x 661 matrix).
//
// Reads check that the file holds exactly the bytes its header promises:
// npyio alone treats a file cut at an element boundary as complete and
// leaves the missing elements zero.
package npy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"
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

// countingReader counts the bytes npyio consumes, to find the header length
// and to detect a short data section.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// array is a decoded file in row-major order: vals for float dtypes, ints
// for integer dtypes, and the shape.
type array struct {
	vals  []float64
	ints  []int64
	shape []int
}

// readTyped reads n elements of Go type T; npyio rejects a dtype mismatch.
func readTyped[T any](r *npyio.Reader, n int) ([]T, error) {
	buf := make([]T, n)
	if n == 0 {
		return buf, nil
	}
	if err := r.Read(&buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// convert widens (or narrows) every element of in to U; a slice that is
// already []U is returned as it is, not copied.
func convert[T, U int | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | float32 | float64](in []T) []U {
	if out, ok := any(in).([]U); ok {
		return out
	}
	out := make([]U, len(in))
	for i, x := range in {
		out[i] = U(x)
	}
	return out
}

// dtypes maps the last two characters of a dtype string (kind and size) to
// the element size in bytes and a decoder of n elements into a.vals (float
// kinds) or a.ints (integer kinds).
var dtypes = map[string]struct {
	size   int
	decode func(r *npyio.Reader, n int, a *array) error
}{
	"f8": {8, decodeFloats[float64]},
	"f4": {4, decodeFloats[float32]},
	"i8": {8, decodeInts[int64]},
	"i4": {4, decodeInts[int32]},
	"i2": {2, decodeInts[int16]},
	"i1": {1, decodeInts[int8]},
	"u4": {4, decodeInts[uint32]},
	"u2": {2, decodeInts[uint16]},
	"u1": {1, decodeInts[uint8]},
}

func decodeFloats[T float32 | float64](r *npyio.Reader, n int, a *array) error {
	v, err := readTyped[T](r, n)
	a.vals = convert[T, float64](v)
	return err
}

func decodeInts[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32](r *npyio.Reader, n int, a *array) error {
	v, err := readTyped[T](r, n)
	a.ints = convert[T, int64](v)
	return err
}

// newReader parses the header. npyio v0.14.0 panics (slice bounds) on some
// headers cut short, so a panic is turned into an error here.
func newReader(r io.Reader) (rr *npyio.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			rr, err = nil, fmt.Errorf("malformed header: %v", p)
		}
	}()
	return npyio.NewReader(r)
}

// read decodes the file at path.
func read(path string) (*array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	cr := &countingReader{r: bufio.NewReaderSize(f, 1<<16)}
	r, err := newReader(cr)
	if err != nil {
		return nil, fmt.Errorf("not a NumPy .npy file (or truncated header): %w", err)
	}
	hdrLen := cr.n
	h := r.Header.Descr
	if len(h.Shape) > 2 {
		return nil, fmt.Errorf("want rank 1 or 2, got shape %v", h.Shape)
	}
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	dtype := strings.Trim(h.Type, "'\"")
	if len(dtype) < 2 {
		return nil, fmt.Errorf("unsupported dtype %q", h.Type)
	}
	dt, ok := dtypes[dtype[len(dtype)-2:]]
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q (want f8, f4 or an integer type)", h.Type)
	}
	a := &array{shape: h.Shape}
	if err := dt.decode(r, n, a); err != nil {
		return nil, fmt.Errorf("truncated or unreadable data: %w", err)
	}
	if want := hdrLen + int64(n*dt.size); cr.n != want || st.Size() != want {
		return nil, fmt.Errorf("truncated or padded: header promises %d bytes (%v %s), file has %d", want, h.Shape, dtype, st.Size())
	}
	if h.Fortran && len(h.Shape) == 2 {
		a.vals = fromFortran(a.vals, h.Shape[0], h.Shape[1])
		a.ints = fromFortran(a.ints, h.Shape[0], h.Shape[1])
	}
	return a, nil
}

// fromFortran reorders column-major r x c data to row-major.
func fromFortran[T any](v []T, r, c int) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for j := 0; j < c; j++ {
		for i := 0; i < r; i++ {
			out[i*c+j] = v[j*r+i]
		}
	}
	return out
}

// ReadFloats reads a rank-0, 1 or 2 numeric array as row-major float64
// values and its shape.
func ReadFloats(path string) ([]float64, []int, error) {
	a, err := read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	if a.vals == nil {
		a.vals = convert[int64, float64](a.ints)
	}
	return a.vals, a.shape, nil
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

// ErrNotInteger is wrapped when an integer read meets a fractional value.
var ErrNotInteger = errors.New("not an integer")

// ReadInts reads an integer array (or a float array of whole numbers) as
// row-major ints and its shape.
func ReadInts(path string) ([]int, []int, error) {
	a, err := read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := make([]int, max(len(a.ints), len(a.vals)))
	if a.ints != nil {
		for i, x := range a.ints {
			out[i] = int(x)
		}
		return out, a.shape, nil
	}
	for i, x := range a.vals {
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, nil, fmt.Errorf("read %s: value %v at flat index %d: %w", path, x, i, ErrNotInteger)
		}
		out[i] = int(x)
	}
	return out, a.shape, nil
}
