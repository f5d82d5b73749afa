// Package matfiletest writes Level 5 MAT files for the tests of
// io/matfile and the hostile-input corpus: well-formed elements, and the
// files no MAT writer makes (a zip bomb, a size that lies), which the
// committed fixtures of testdata/matfile (written by SciPy) cannot hold.
// Everything is little-endian.
package matfiletest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"math"
)

// Data types and classes of the format (MAT-File Format, Tables 1-1, 1-3).
const (
	MiINT8       = 1
	MiINT32      = 5
	MiUINT32     = 6
	MiDOUBLE     = 9
	MiMATRIX     = 14
	MiCOMPRESSED = 15
	MxDOUBLE     = 6
)

// Header returns the 128-byte Level 5 header of a little-endian file.
func Header() []byte {
	h := make([]byte, 128)
	copy(h, bytes.Repeat([]byte(" "), 116))
	copy(h, "MATLAB 5.0 MAT-file, written by eandarn's matfiletest")
	binary.LittleEndian.PutUint16(h[124:], 0x0100)
	copy(h[126:], "IM")
	return h
}

// Element returns a data element of type typ: its 8-byte tag and data,
// padded to a multiple of 8 bytes.
func Element(typ uint32, data []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	return append(b, make([]byte, (8-len(data)%8)%8)...)
}

// matrixHead returns the array flags, dimensions and name sub-elements of
// a real double array.
func matrixHead(name string, dims []int32) []byte {
	flags := binary.LittleEndian.AppendUint32(nil, MxDOUBLE)
	b := Element(MiUINT32, binary.LittleEndian.AppendUint32(flags, 0))
	var d []byte
	for _, k := range dims {
		d = binary.LittleEndian.AppendUint32(d, uint32(k))
	}
	return append(append(b, Element(MiINT32, d)...), Element(MiINT8, []byte(name))...)
}

// Double returns the miMATRIX element of a real double array of dims
// holding the column-major values (MATLAB's order).
func Double(name string, dims []int32, values []float64) []byte {
	var data []byte
	for _, x := range values {
		data = binary.LittleEndian.AppendUint64(data, math.Float64bits(x))
	}
	return Element(MiMATRIX, append(matrixHead(name, dims), Element(MiDOUBLE, data)...))
}

// Compressed returns a miMATRIX element as MATLAB's -v7 writes it: a
// miCOMPRESSED element holding its zlib stream.
func Compressed(matrix []byte) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	w.Write(matrix)
	w.Close()
	return Element(MiCOMPRESSED, z.Bytes())[:8+z.Len()] // no padding after a compressed element
}

// Zeros returns a compressed rows x cols double array of zeros named name
// without holding it in memory: a zip bomb, about 1000 times smaller than
// what it inflates to.
func Zeros(name string, rows, cols int32) []byte {
	head := matrixHead(name, []int32{rows, cols})
	n := 8 * int64(rows) * int64(cols)
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	tag := binary.LittleEndian.AppendUint32(nil, MiMATRIX)
	w.Write(binary.LittleEndian.AppendUint32(tag, uint32(int64(len(head))+8+n)))
	w.Write(head)
	tag = binary.LittleEndian.AppendUint32(nil, MiDOUBLE)
	w.Write(binary.LittleEndian.AppendUint32(tag, uint32(n)))
	io.CopyN(w, zeroReader{}, n)
	w.Close()
	return Element(MiCOMPRESSED, z.Bytes())[:8+z.Len()]
}

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
