package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/eandarn/eandarn/io/inputs"
)

// magic opens every .npy file.
const magic = "\x93NUMPY"

// MaxHeader is the longest header text read (NumPy itself refuses headers
// over 10000 bytes by default; version 2 and 3 headers may declare up to
// 4 GiB, which is never read).
const MaxHeader = 1 << 20

// Header is a parsed .npy header.
type Header struct {
	Descr   string // dtype, e.g. "<f8": byte order, kind, size
	Fortran bool   // column-major data
	Shape   []int  // nil for a scalar
	Offset  int64  // bytes before the data: magic, version, length, header text
}

// ErrHeader is wrapped by every header parse error.
var ErrHeader = errors.New("not a NumPy .npy file (or truncated header)")

// ParseHeader reads and parses the header of a .npy file from r: the magic
// string, the version (1, 2 or 3), the header length and the header text, a
// Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}
// with exactly these three keys. Shapes must be tuples of non-negative
// integers whose product fits an int. It never panics and reads at most
// 12 + MaxHeader bytes.
func ParseHeader(r io.Reader) (Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return Header{}, fmt.Errorf("%w: %v", ErrHeader, err)
	}
	if string(pre[:6]) != magic {
		return Header{}, fmt.Errorf("%w: no \\x93NUMPY magic string", ErrHeader)
	}
	var n uint64
	off := int64(8)
	switch major := pre[6]; major {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return Header{}, fmt.Errorf("%w: %v", ErrHeader, err)
		}
		n, off = uint64(binary.LittleEndian.Uint16(l[:])), off+2
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return Header{}, fmt.Errorf("%w: %v", ErrHeader, err)
		}
		n, off = uint64(binary.LittleEndian.Uint32(l[:])), off+4
	default:
		return Header{}, fmt.Errorf("%w: format version %d.%d (want 1, 2 or 3)", ErrHeader, major, pre[7])
	}
	if n > MaxHeader {
		return Header{}, fmt.Errorf("%w: header of %d bytes (at most %d)", ErrHeader, n, MaxHeader)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r, text); err != nil {
		return Header{}, fmt.Errorf("%w: %v", ErrHeader, err)
	}
	h, err := parseDict(text)
	if err != nil {
		return Header{}, fmt.Errorf("%w: header %q: %v", ErrHeader, truncate(text), err)
	}
	h.Offset = off + int64(n)
	return h, nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// parser is a cursor over the header text, a small subset of Python
// literal syntax: a dict of string keys to a string, a boolean, or a tuple
// of integers.
type parser struct {
	s []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// eat skips blanks and consumes c when it comes next.
func (p *parser) eat(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if !p.eat(c) {
		return fmt.Errorf("want %q at byte %d", c, p.i)
	}
	return nil
}

// str parses a '…' or "…" string without escapes (dtype strings and keys
// never need them).
func (p *parser) str() (string, error) {
	p.space()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("want a string at byte %d", p.i)
	}
	q := p.s[p.i]
	end := bytes.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at byte %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return "", fmt.Errorf("unsupported string %q", v)
	}
	p.i += end + 2
	return string(v), nil
}

// word parses a bare identifier (True, False).
func (p *parser) word() string {
	p.space()
	j := p.i
	for j < len(p.s) && (p.s[j] >= 'A' && p.s[j] <= 'Z' || p.s[j] >= 'a' && p.s[j] <= 'z') {
		j++
	}
	w := string(p.s[p.i:j])
	p.i = j
	return w
}

// shape parses a tuple of non-negative integers: (), (3,), (3, 4); a
// Python 2 long suffix (3L) is accepted.
func (p *parser) shape() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, err
	}
	dims := []int{}
	for {
		if p.eat(')') {
			break
		}
		p.space()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i {
			return nil, fmt.Errorf("shape: want a dimension ≥ 0 at byte %d", p.i)
		}
		d, err := strconv.ParseInt(string(p.s[p.i:j]), 10, 64)
		if err != nil || d > math.MaxInt {
			return nil, fmt.Errorf("shape: dimension %s too large", p.s[p.i:j])
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		dims = append(dims, int(d))
		if p.eat(',') {
			continue
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		break
	}
	if len(dims) == 0 {
		return nil, nil
	}
	if _, err := inputs.Elements(dims); err != nil {
		return nil, err
	}
	return dims, nil
}

// parseDict parses the header dict; every key must appear exactly once.
func parseDict(text []byte) (Header, error) {
	p := &parser{s: text}
	var h Header
	seen := map[string]bool{}
	if err := p.expect('{'); err != nil {
		return h, err
	}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return h, err
		}
		switch key {
		case "descr":
			if h.Descr, err = p.str(); err != nil {
				return h, fmt.Errorf("descr: %v (structured dtypes are not supported)", err)
			}
		case "fortran_order":
			switch w := p.word(); w {
			case "True":
				h.Fortran = true
			case "False":
			default:
				return h, fmt.Errorf("fortran_order: want True or False, got %q", w)
			}
		case "shape":
			if h.Shape, err = p.shape(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("unknown key %q", key)
		}
		if !p.eat(',') {
			if err := p.expect('}'); err != nil {
				return h, err
			}
			break
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("no %q key", k)
		}
	}
	p.space()
	if p.i != len(p.s) {
		return h, fmt.Errorf("text after the dict at byte %d", p.i)
	}
	return h, nil
}

// dtype is a supported element type.
type dtype struct {
	kind  byte // 'f', 'i' or 'u'
	size  int  // bytes
	order binary.ByteOrder
}

// parseDescr decodes a descr such as "<f8", ">i4" or "|u1" (a missing byte
// order means little-endian, the native order of every supported machine).
func parseDescr(descr string) (dtype, error) {
	s := descr
	var d dtype
	d.order = binary.LittleEndian
	if len(s) > 0 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=') {
		if s[0] == '>' {
			d.order = binary.BigEndian
		}
		s = s[1:]
	}
	switch s {
	case "f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1":
		d.kind, d.size = s[0], int(s[1]-'0')
		return d, nil
	}
	return d, fmt.Errorf("unsupported dtype %q (want f8, f4, f2 or an integer type i8, i4, i2, i1, u8, u4, u2, u1)", descr)
}

// open opens path without blocking and checks its header (check).
func open(path string) (f io.ReadCloser, h Header, dt dtype, n int, err error) {
	file, err := inputs.Open(path)
	if err != nil {
		return nil, h, dt, 0, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, h, dt, 0, err
	}
	br := bufio.NewReaderSize(file, 1<<16)
	if h, dt, n, err = check(br, st.Size()); err != nil {
		file.Close()
		return nil, h, dt, 0, err
	}
	return struct {
		io.Reader
		io.Closer
	}{br, file}, h, dt, n, nil
}

// check parses the header of a file of size bytes from r and checks the
// dtype, the rank (at most 2) and that the file holds exactly the bytes the
// header promises, all before any data is read. n is the element count.
func check(r io.Reader, size int64) (h Header, dt dtype, n int, err error) {
	if h, err = ParseHeader(r); err != nil {
		return h, dt, 0, err
	}
	if dt, err = parseDescr(h.Descr); err != nil {
		return h, dt, 0, err
	}
	if len(h.Shape) > 2 {
		return h, dt, 0, fmt.Errorf("want rank 0, 1 or 2, got shape %v", h.Shape)
	}
	if n, err = inputs.Elements(h.Shape); err != nil {
		return h, dt, 0, err
	}
	data, err := inputs.Bytes(n, dt.size)
	if err != nil || data > math.MaxInt64-h.Offset || size != h.Offset+data {
		return h, dt, 0, fmt.Errorf("truncated or padded: header promises %d bytes of data (shape %v, %s) after %d header bytes, file has %d bytes",
			data, h.Shape, h.Descr, h.Offset, size)
	}
	return h, dt, n, nil
}

// Stat returns the header of the .npy file at path after the checks of a
// read (supported dtype, rank ≤ 2, file size equal to what the header
// promises), without reading the data.
func Stat(path string) (Header, error) {
	f, h, _, _, err := open(path)
	if err != nil {
		return Header{}, fmt.Errorf("read %s: %w", path, err)
	}
	f.Close()
	return h, nil
}

// IsInteger reports whether the header's dtype is an integer type.
func (h Header) IsInteger() bool {
	d, err := parseDescr(h.Descr)
	return err == nil && d.kind != 'f'
}

// ElemSize returns the bytes of one element of the header's dtype (4 for
// float32), or 0 for an unsupported dtype.
func (h Header) ElemSize() int {
	d, _ := parseDescr(h.Descr)
	return d.size
}

// read decodes the file at path (see load).
func read(path string, asInts bool) (vals []float64, ints []int, shape []int, err error) {
	f, h, dt, n, err := open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	return load(f, h, dt, n, asInts)
}

// load decodes the n elements after a checked header from r: an integer
// dtype into ints when asInts, everything else into vals, row-major. The
// declared data is checked against the memory budget before it is
// allocated.
func load(r io.Reader, h Header, dt dtype, n int, asInts bool) (vals []float64, ints []int, shape []int, err error) {
	var t inputs.Tally
	if _, err := t.Add("data", h.Shape); err != nil {
		return nil, nil, nil, err
	}
	if asInts && dt.kind != 'f' {
		ints = make([]int, n)
		err = decode(r, dt, func(i int, _ float64, v int64) { ints[i] = int(v) }, n)
	} else {
		vals = make([]float64, n)
		err = decode(r, dt, func(i int, x float64, _ int64) { vals[i] = x }, n)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("truncated or unreadable data: %w", err)
	}
	if h.Fortran && len(h.Shape) == 2 {
		vals = fromFortran(vals, h.Shape[0], h.Shape[1])
		ints = fromFortran(ints, h.Shape[0], h.Shape[1])
	}
	return vals, ints, h.Shape, nil
}

// decode reads n elements of dt from r in chunks and hands element i to
// set as a float64 (float kinds) or an int64 (integer kinds; x is its
// float64 value).
func decode(r io.Reader, dt dtype, set func(i int, x float64, v int64), n int) error {
	buf := make([]byte, 1<<16)
	per := len(buf) / dt.size
	for i := 0; i < n; {
		k := min(per, n-i)
		b := buf[:k*dt.size]
		if _, err := io.ReadFull(r, b); err != nil {
			return err
		}
		for j := 0; j < k; j++ {
			e := b[j*dt.size : (j+1)*dt.size]
			var v int64
			switch dt.kind {
			case 'f':
				var x float64
				switch dt.size {
				case 8:
					x = math.Float64frombits(dt.order.Uint64(e))
				case 4:
					x = float64(math.Float32frombits(dt.order.Uint32(e)))
				default:
					x = half(dt.order.Uint16(e))
				}
				set(i+j, x, 0)
				continue
			case 'i':
				switch dt.size {
				case 8:
					v = int64(dt.order.Uint64(e))
				case 4:
					v = int64(int32(dt.order.Uint32(e)))
				case 2:
					v = int64(int16(dt.order.Uint16(e)))
				default:
					v = int64(int8(e[0]))
				}
			default: // 'u'
				switch dt.size {
				case 8:
					// Saturated, as HDF5 converts an unsigned value too
					// large for int64: no index is that large, so the
					// range checks of the caller refuse it.
					v = int64(min(dt.order.Uint64(e), math.MaxInt64))
				case 4:
					v = int64(dt.order.Uint32(e))
				case 2:
					v = int64(dt.order.Uint16(e))
				default:
					v = int64(e[0])
				}
			}
			set(i+j, float64(v), v)
		}
		i += k
	}
	return nil
}

// half returns the value of an IEEE 754 binary16 number (NumPy's float16):
// 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
func half(b uint16) float64 {
	sign := 1.0
	if b&0x8000 != 0 {
		sign = -1
	}
	exp, frac := int(b>>10&0x1f), float64(b&0x3ff)
	switch exp {
	case 0: // zero and subnormals
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
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
