package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/eandarn/eandarn/io/inputs"
)

// The Level 5 format (MathWorks, "MAT-File Format", R2024a, chapter 1):
// a 128-byte header (116 bytes of text, 8 of subsystem offset, a 2-byte
// version 0x0100 and the 2-byte endian indicator "IM" read in the file's
// byte order), then data elements: an 8-byte tag (type, byte count) and
// the data padded to 8 bytes, or the small data element format, where a
// count of at most 4 bytes shares the tag's 8 bytes (count in the upper 16
// bits of the first 32-bit word). A variable is a miMATRIX element (array
// flags, dimensions, name, then its class's parts) or a miCOMPRESSED one
// holding a zlib stream of a miMATRIX element.

// Data types (Table 1-1).
const (
	miINT8       = 1
	miUINT8      = 2
	miINT16      = 3
	miUINT16     = 4
	miINT32      = 5
	miUINT32     = 6
	miSINGLE     = 7
	miDOUBLE     = 9
	miINT64      = 12
	miUINT64     = 13
	miMATRIX     = 14
	miCOMPRESSED = 15
	miUTF8       = 16
)

// Array classes (Table 1-3): 1 to 5 and 16, 17 are not numeric arrays
// (classNames); double (6) to uint64 (15) are.
const (
	mxCELL   = 1
	mxSTRUCT = 2
	mxDOUBLE = 6
	mxUINT64 = 15
	mxOPAQUE = 17
)

// classNames are MATLAB's names of the classes, by class number.
var classNames = [...]string{1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse", 6: "double",
	7: "single", 8: "int8", 9: "uint8", 10: "int16", 11: "uint16", 12: "int32", 13: "uint32", 14: "int64",
	15: "uint64", 16: "function_handle", 17: "opaque object"}

// Array flags (the first word of the array flags sub-element).
const (
	flagComplex = 0x800
	flagLogical = 0x200
)

// maxInflate bounds what a compressed element may declare: deflate makes
// at most 1032 bytes of each compressed byte (zlib's documented maximum
// ratio), so a larger declared size is a lie, refused before inflating.
const maxInflate = 1032

// Limits of the parts that are not array data (a name, the dimensions,
// field names): MATLAB's are far smaller.
const (
	maxDims       = 64
	maxName       = 4096
	maxFieldBytes = 1 << 20
)

// typeSize is the size in bytes of a numeric data type, 0 for the others.
func typeSize(t uint32) int {
	switch t {
	case miINT8, miUINT8:
		return 1
	case miINT16, miUINT16:
		return 2
	case miINT32, miUINT32, miSINGLE:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

// pad is the padding after n bytes of a (not small) element's data.
func pad(n int64) int64 { return (8 - n%8) % 8 }

// v5File is a Level 5 file read in place.
type v5File struct {
	r     io.ReaderAt
	size  int64
	order binary.ByteOrder
}

// openV5 checks the Level 5 header of the size bytes of r.
func openV5(r io.ReaderAt, size int64) (*v5File, error) {
	var h [128]byte
	if n, _ := r.ReadAt(h[:], 0); n < len(h) || size < 128 {
		return nil, fmt.Errorf("%d bytes, shorter than the 128-byte header of a MAT file: %w", size, ErrCorrupt)
	}
	v := &v5File{r: r, size: size}
	switch string(h[126:128]) {
	case "IM":
		v.order = binary.LittleEndian
	case "MI":
		v.order = binary.BigEndian
	default:
		what := "not a MAT file (no Level 5 header)"
		if h[0] == 0 || h[1] == 0 || h[2] == 0 || h[3] == 0 {
			what = "not a Level 5 MAT file (a MATLAB v4 file, save -v4?)"
		}
		return nil, fmt.Errorf("%s: want MATLAB's save -v7 (or -v6, -v7.3): %w", what, ErrCorrupt)
	}
	if ver := v.order.Uint16(h[124:]); ver != 0x0100 {
		return nil, fmt.Errorf("MAT file version 0x%04x, want 0x0100 (Level 5) or an HDF5 -v7.3 file: %w", ver, ErrCorrupt)
	}
	return v, nil
}

// header is what precedes a variable's data: its class, flags, dimensions
// and name.
type header struct {
	name             string
	class            uint8
	complex, logical bool
	dims             []int
}

// describe renders the header as MATLAB's whos does: "162x3 double".
func (h *header) describe() string {
	c := fmt.Sprintf("class %d", h.class)
	if int(h.class) < len(classNames) && classNames[h.class] != "" {
		c = classNames[h.class]
	}
	switch {
	case h.logical:
		c = "logical"
	case h.complex:
		c = "complex " + c
	}
	return dimText(h.dims) + " " + c
}

// decoder reads the parts of one miMATRIX element in order.
type decoder struct {
	r     io.Reader
	left  int64 // bytes of the element not read yet
	order binary.ByteOrder
}

// full reads len(b) bytes of the element.
func (d *decoder) full(b []byte) error {
	if int64(len(b)) > d.left {
		return fmt.Errorf("a part needs %d bytes, its element has %d left: %w", len(b), d.left, ErrCorrupt)
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("the data ends %d bytes before its element does (truncated)", d.left)
		}
		return fmt.Errorf("%v: %w", err, ErrCorrupt)
	}
	d.left -= int64(len(b))
	return nil
}

// skip passes over n bytes of the element.
func (d *decoder) skip(n int64) error {
	if n > d.left {
		return fmt.Errorf("a part needs %d bytes, its element has %d left: %w", n, d.left, ErrCorrupt)
	}
	if m, err := io.CopyN(io.Discard, d.r, n); err != nil {
		return fmt.Errorf("the data ends %d bytes before its element does (truncated): %w", d.left-m, ErrCorrupt)
	}
	d.left -= n
	return nil
}

// tag reads a sub-element's tag: its type and byte count, and for the
// small data element format its data.
func (d *decoder) tag() (typ uint32, n int64, small []byte, err error) {
	b := make([]byte, 8)
	if err := d.full(b); err != nil {
		return 0, 0, nil, err
	}
	w := d.order.Uint32(b)
	if w>>16 == 0 {
		return w, int64(d.order.Uint32(b[4:])), nil, nil
	}
	n = int64(w >> 16)
	if n > 4 {
		return 0, 0, nil, fmt.Errorf("a small data element declares %d bytes, at most 4: %w", n, ErrCorrupt)
	}
	return w & 0xffff, n, b[4 : 4+n], nil
}

// part reads a whole sub-element of type want and at most limit bytes
// (metadata: flags, dimensions, names); what names it in errors.
func (d *decoder) part(what string, want uint32, limit int64) ([]byte, error) {
	typ, n, small, err := d.tag()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", what, err)
	case typ != want && !(want == miINT8 && (typ == miUINT8 || typ == miUTF8)):
		return nil, fmt.Errorf("%s: data type %d, want %d: %w", what, typ, want, ErrCorrupt)
	case small != nil:
		return small, nil
	case n > limit:
		return nil, fmt.Errorf("%s: %d bytes, at most %d: %w", what, n, limit, ErrCorrupt)
	}
	b := make([]byte, n+pad(n))
	if err := d.full(b); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return b[:n], nil
}

// header reads the array flags, dimensions and name. An element without
// data (MATLAB writes [] in a struct field or cell so) is a 0x0 double.
func (d *decoder) header() (*header, error) {
	if d.left == 0 {
		return &header{class: mxDOUBLE, dims: []int{0, 0}}, nil
	}
	b, err := d.part("array flags", miUINT32, 8)
	if err != nil {
		return nil, err
	}
	if len(b) != 8 {
		return nil, fmt.Errorf("array flags: %d bytes, want 8: %w", len(b), ErrCorrupt)
	}
	w := d.order.Uint32(b)
	h := &header{class: uint8(w), complex: w&flagComplex != 0, logical: w&flagLogical != 0}
	if b, err = d.part("dimensions", miINT32, 4*maxDims); err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("dimensions: %d bytes, want a positive multiple of 4: %w", len(b), ErrCorrupt)
	}
	for i := 0; i < len(b); i += 4 {
		k := int32(d.order.Uint32(b[i:]))
		if k < 0 {
			return nil, fmt.Errorf("dimension %d is negative (%d): %w", i/4+1, k, ErrCorrupt)
		}
		h.dims = append(h.dims, int(k))
	}
	if b, err = d.part("array name", miINT8, maxName); err != nil {
		return nil, err
	}
	h.name = string(b)
	return h, nil
}

// each calls fn with every top-level variable in file order, positioned
// after its header, until fn reports that it is done.
func (v *v5File) each(fn func(h *header, d *decoder) (done bool, err error)) error {
	for off := int64(128); off < v.size; {
		if v.size-off < 8 {
			return fmt.Errorf("%d stray bytes at the end, after byte %d: %w", v.size-off, off, ErrCorrupt)
		}
		b := make([]byte, 8)
		if _, err := v.r.ReadAt(b, off); err != nil {
			return fmt.Errorf("element at byte %d: %v: %w", off, err, ErrCorrupt)
		}
		typ, n := v.order.Uint32(b), int64(v.order.Uint32(b[4:]))
		if n > v.size-off-8 {
			return fmt.Errorf("element at byte %d declares %d bytes, the file has %d after its tag (truncated): %w", off, n, v.size-off-8, ErrCorrupt)
		}
		if done, err := v.variable(off, typ, io.NewSectionReader(v.r, off+8, n), fn); done || err != nil {
			return err
		}
		off += 8 + n
	}
	return nil
}

// variable calls fn with the variable of the top-level element at byte
// off, of data type typ and data sec.
func (v *v5File) variable(off int64, typ uint32, sec *io.SectionReader, fn func(h *header, d *decoder) (bool, error)) (bool, error) {
	d := &decoder{r: sec, left: sec.Size(), order: v.order}
	switch typ {
	case miMATRIX:
	case miCOMPRESSED:
		z, err := zlib.NewReader(sec)
		if err != nil {
			return true, fmt.Errorf("compressed element at byte %d: %v: %w", off, err, ErrCorrupt)
		}
		defer z.Close()
		// The stream holds one miMATRIX element; its tag says how much it
		// inflates to, which bounds every read below.
		outer := &decoder{r: z, left: 8, order: v.order}
		t, m, _, err := outer.tag()
		switch {
		case err != nil:
			return true, fmt.Errorf("compressed element at byte %d: %w", off, err)
		case t != miMATRIX:
			return true, fmt.Errorf("compressed element at byte %d holds data type %d, want a matrix (14): %w", off, t, ErrCorrupt)
		case m > maxInflate*sec.Size():
			return true, fmt.Errorf("compressed element at byte %d declares %d bytes inflated from %d, more than deflate makes of them (%d:1): a zip bomb or a corrupt file: %w",
				off, m, sec.Size(), maxInflate, ErrCorrupt)
		}
		d = &decoder{r: z, left: m, order: v.order}
	default:
		return true, fmt.Errorf("element at byte %d: data type %d, want a matrix (14) or compressed (15): %w", off, typ, ErrCorrupt)
	}
	h, err := d.header()
	if err != nil {
		return true, fmt.Errorf("variable at byte %d: %w", off, err)
	}
	return fn(h, d)
}

// find calls fn with the variable of the dotted path (VAR, VAR.FIELD, …)
// positioned after its header, or returns an error listing the variables.
func (v *v5File) find(path string, fn func(h *header, d *decoder) error) error {
	parts := strings.Split(path, ".")
	var seen []string
	found := false
	err := v.each(func(h *header, d *decoder) (bool, error) {
		if h.name != parts[0] {
			if h.name != "" { // "" is MATLAB's subsystem data
				seen = append(seen, h.name+" ("+h.describe()+")")
			}
			return false, nil
		}
		found = true
		for i, field := range parts[1:] {
			var err error
			if h, err = d.field(strings.Join(parts[:i+1], "."), h, field); err != nil {
				return true, err
			}
		}
		return true, fn(h, d)
	})
	if err == nil && !found {
		err = fmt.Errorf("no variable %q; %s: %w", parts[0], listing(seen), ErrNotFound)
	}
	return err
}

// fieldNames reads the field names of the struct of header h (what names
// it): the struct must be 1x1.
func (d *decoder) fieldNames(what string, h *header) ([]string, error) {
	if h.class != mxSTRUCT {
		return nil, fmt.Errorf("%s is a %s, not a struct: %w", what, h.describe(), ErrUnsupported)
	}
	if n, _ := inputs.Elements(h.dims); n != 1 {
		return nil, fmt.Errorf("%s is a %s array: want a 1x1 struct: %w", what, h.describe(), ErrUnsupported)
	}
	b, err := d.part(what+": field name length", miINT32, 4)
	if err != nil {
		return nil, err
	}
	if len(b) != 4 {
		return nil, fmt.Errorf("%s: field name length: %d bytes, want 4: %w", what, len(b), ErrCorrupt)
	}
	size := int(d.order.Uint32(b))
	if size < 1 || size > maxName {
		return nil, fmt.Errorf("%s: field name length %d, want 1..%d: %w", what, size, maxName, ErrCorrupt)
	}
	if b, err = d.part(what+": field names", miINT8, maxFieldBytes); err != nil {
		return nil, err
	}
	if len(b)%size != 0 {
		return nil, fmt.Errorf("%s: field names: %d bytes, not a multiple of their length %d: %w", what, len(b), size, ErrCorrupt)
	}
	names := make([]string, len(b)/size)
	for i := range names {
		names[i] = string(bytes.TrimRight(b[i*size:(i+1)*size], "\x00"))
	}
	return names, nil
}

// field moves from the 1x1 struct of header h (what names it) to its
// field name and returns that field's header.
func (d *decoder) field(what string, h *header, name string) (*header, error) {
	names, err := d.fieldNames(what, h)
	if err != nil {
		return nil, err
	}
	for _, f := range names {
		typ, n, small, err := d.tag()
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", what, f, err)
		}
		if typ != miMATRIX || small != nil || n > d.left {
			return nil, fmt.Errorf("%s.%s: a field of data type %d and %d bytes (%d left): %w", what, f, typ, n, d.left, ErrCorrupt)
		}
		if f == name {
			d.left = n // the field is all that is read of the struct now
			return d.header()
		}
		if err := d.skip(n + pad(n)); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", what, f, err)
		}
	}
	return nil, fmt.Errorf("%s has no field %q; its fields: %s: %w", what, name, strings.Join(names, ", "), ErrNotFound)
}

// fields returns the field names of the 1x1 struct at path.
func (v *v5File) fields(path string) ([]string, error) {
	var names []string
	err := v.find(path, func(h *header, d *decoder) (err error) {
		names, err = d.fieldNames(path, h)
		return err
	})
	return names, err
}

// read reads the numeric variable at path as floats, or ints when ints is
// set, row-major in its (squeezed) MATLAB shape.
func (v *v5File) read(path string, ints bool) ([]float64, []int, []int, error) {
	var (
		vals  []float64
		iv    []int
		shape []int
	)
	err := v.find(path, func(h *header, d *decoder) error {
		var err error
		if shape, err = d.numeric(path, h); err != nil {
			return err
		}
		var t inputs.Tally
		n, err := t.Add(path, shape)
		if err != nil {
			return err
		}
		if ints {
			iv = make([]int, n)
		} else {
			vals = make([]float64, n)
		}
		return d.data(path, shape, vals, iv)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return vals, iv, shape, nil
}

// numeric checks that the variable of header h is a full, real numeric
// array of at most two non-singleton dimensions and returns its shape;
// what names it in errors, which say what it is instead.
func (d *decoder) numeric(what string, h *header) ([]int, error) {
	switch {
	case h.class == mxSTRUCT:
		names, err := d.fieldNames(what, h)
		if err != nil {
			return nil, err
		}
		return nil, structRefusal(what, names)
	case h.class < mxCELL || h.class > mxOPAQUE:
		return nil, fmt.Errorf("%s has array class %d, which MATLAB does not write: %w", what, h.class, ErrCorrupt)
	case h.class < mxDOUBLE || h.class > mxUINT64:
		return nil, refusal(what, classNames[h.class], h.describe())
	case h.complex:
		return nil, refusal(what, "complex", h.describe())
	}
	return squeeze(what, h.dims)
}

// data reads the real part of a numeric array of shape (2-D, MATLAB's
// column-major order) into vals, or ints when vals is nil, row-major.
func (d *decoder) data(what string, shape []int, vals []float64, ints []int) error {
	n := max(len(vals), len(ints))
	typ, nb, small, err := d.tag()
	if err != nil {
		if n == 0 && d.left == 0 { // an empty array may end after its name
			return nil
		}
		return fmt.Errorf("%s: real part: %w", what, err)
	}
	size := typeSize(typ)
	if size == 0 {
		return fmt.Errorf("%s: real part of data type %d, not numbers: %w", what, typ, ErrCorrupt)
	}
	if want, _ := inputs.Bytes(n, size); nb != want {
		return fmt.Errorf("%s: shape %s needs %d bytes of data type %d, its data has %d: %w", what, dimText(shape), want, typ, nb, ErrCorrupt)
	}
	src := io.Reader(bytes.NewReader(small))
	if small == nil {
		if nb > d.left {
			return fmt.Errorf("%s: real part of %d bytes, its element has %d left: %w", what, nb, d.left, ErrCorrupt)
		}
		src = io.LimitReader(d.r, nb)
	}
	rows, cols := shape[0], shape[1]
	buf := make([]byte, size*min(n, 8192))
	for k := 0; k < n; {
		m := min(n-k, len(buf)/size)
		if _, err := io.ReadFull(src, buf[:m*size]); err != nil {
			return fmt.Errorf("%s: the data ends after %d of %d values (truncated): %w", what, k, n, ErrCorrupt)
		}
		for j := range m {
			at := rowMajorIndex(k+j, rows, cols)
			b := buf[j*size : (j+1)*size]
			if vals != nil {
				vals[at] = d.float(typ, b)
				continue
			}
			if ints[at], err = d.int(typ, b); err != nil {
				return fmt.Errorf("%s: at (%d, %d): %w", what, (k+j)%rows+1, (k+j)/rows+1, err)
			}
		}
		k += m
	}
	return nil
}

// float decodes one value of numeric data type typ.
func (d *decoder) float(typ uint32, b []byte) float64 {
	switch typ {
	case miDOUBLE:
		return math.Float64frombits(d.order.Uint64(b))
	case miSINGLE:
		return float64(math.Float32frombits(d.order.Uint32(b)))
	case miUINT64:
		return float64(d.order.Uint64(b))
	}
	return float64(d.integer(typ, b))
}

// integer decodes one value of an integer data type other than uint64.
func (d *decoder) integer(typ uint32, b []byte) int64 {
	switch typ {
	case miINT8:
		return int64(int8(b[0]))
	case miUINT8:
		return int64(b[0])
	case miINT16:
		return int64(int16(d.order.Uint16(b)))
	case miUINT16:
		return int64(d.order.Uint16(b))
	case miINT32:
		return int64(int32(d.order.Uint32(b)))
	case miUINT32:
		return int64(d.order.Uint32(b))
	}
	return int64(d.order.Uint64(b)) // miINT64
}

// int decodes one value as an int: integers as they are, floats only when
// whole (inputs.Int).
func (d *decoder) int(typ uint32, b []byte) (int, error) {
	switch typ {
	case miDOUBLE, miSINGLE:
		return inputs.Int(d.float(typ, b))
	case miUINT64:
		if u := d.order.Uint64(b); u > math.MaxInt64 {
			return 0, fmt.Errorf("want an integer, got %d, beyond int64: %w", u, inputs.ErrNotInteger)
		}
	}
	return int(d.integer(typ, b)), nil
}
