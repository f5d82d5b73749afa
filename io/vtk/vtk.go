// Package vtk exports a triangle surface mesh with per-node fields to VTK
// XML files that ParaView opens: one PolyData file (.vtp) per frame and a
// ParaView collection (.pvd) that lists the frames with their times, so a
// heart map can be played as an animation (paper Fig. 10).
//
// The files are ASCII: numbers are written in Go's shortest round-trip
// format ('g', -1), so a value read back is bit-for-bit the value written
// and the output is byte-for-byte deterministic. Points are Float64 (mm, as
// the mesh), connectivity and offsets Int64. Every file is written to a
// temporary name and renamed when complete; WriteSeries writes its folder
// the same way, so ParaView never opens a half-written series.
package vtk

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/solver/mesh"
)

// CollectionName is the file name of the .pvd collection WriteSeries
// writes in its folder; its presence marks a folder WriteSeries may replace.
const CollectionName = "series.pvd"

// FrameName is the file name of frame k of a series.
func FrameName(k int) string { return fmt.Sprintf("frame_%05d.vtp", k) }

// WriteVTP writes the mesh with one value per node for each field (one
// frame) as a VTK XML PolyData file at path, atomically. The folder of path
// must exist. Fields are written in name order; the first is the active
// scalar. A field whose length is not the node count, or that holds a value
// that is not finite (ASCII VTK readers reject NaN), is an error and nothing
// is written.
func WriteVTP(path string, m *mesh.Mesh, fields map[string][]float64) error {
	if err := checkMesh(m); err != nil {
		return fmt.Errorf("vtk %s: %w", path, err)
	}
	names := slices.Sorted(maps.Keys(fields))
	for _, name := range names {
		if err := checkField(name, fields[name], len(m.Nodes)); err != nil {
			return fmt.Errorf("vtk %s: %w", path, err)
		}
	}
	return atomicfile.WriteFile(path, func(tmp string) error {
		return writeFile(tmp, func(w *bufio.Writer) { encodeVTP(w, m, names, fields) })
	})
}

// WriteSeries writes frames of per-node time series as a ParaView series:
// the folder dir holds FrameName(k) for each k in frames (a .vtp with the
// mesh and column k of every field) and CollectionName, whose time steps are
// time[k] (or k when time is nil). Each field is n x T (n mesh nodes, T
// frames). The folder is written atomically: its parent must exist, and an
// existing dir is replaced only when it holds a CollectionName (a series
// written before), never an unrelated folder.
func WriteSeries(dir string, m *mesh.Mesh, frames []int, time []float64, fields map[string]*mat.Dense) error {
	if err := checkMesh(m); err != nil {
		return fmt.Errorf("vtk series %s: %w", dir, err)
	}
	if len(frames) == 0 {
		return fmt.Errorf("vtk series %s: no frames", dir)
	}
	names := slices.Sorted(maps.Keys(fields))
	T := -1
	for _, name := range names {
		r, c := fields[name].Dims()
		if r != len(m.Nodes) || (T >= 0 && c != T) {
			return fmt.Errorf("vtk series %s: field %q: want %dx%d (nodes x frames), got %dx%d", dir, name, len(m.Nodes), max(T, c), r, c)
		}
		T = c
	}
	if T < 0 {
		return fmt.Errorf("vtk series %s: no fields", dir)
	}
	if time != nil && len(time) != T {
		return fmt.Errorf("vtk series %s: time axis: want %d values (one per frame), got %d", dir, T, len(time))
	}
	seen := make(map[int]bool, len(frames))
	for _, k := range frames {
		if k < 0 || k >= T {
			return fmt.Errorf("vtk series %s: frame %d out of range: want 0..%d", dir, k, T-1)
		}
		if seen[k] {
			return fmt.Errorf("vtk series %s: frame %d listed twice", dir, k)
		}
		seen[k] = true
	}
	step := func(k int) float64 {
		if time == nil {
			return float64(k)
		}
		return time[k]
	}
	replaceable := func(p string) bool {
		_, err := os.Stat(filepath.Join(p, CollectionName))
		return err == nil
	}
	return atomicfile.WriteDir(dir, replaceable, func(tmp string) error {
		frame := make(map[string][]float64, len(names))
		for _, k := range frames {
			for _, name := range names {
				frame[name] = mat.Col(frame[name], k, fields[name])
				if err := checkField(name, frame[name], len(m.Nodes)); err != nil {
					return fmt.Errorf("vtk series %s: frame %d: %w", dir, k, err)
				}
			}
			err := writeFile(filepath.Join(tmp, FrameName(k)), func(w *bufio.Writer) { encodeVTP(w, m, names, frame) })
			if err != nil {
				return fmt.Errorf("vtk series %s: %w", dir, err)
			}
		}
		err := writeFile(filepath.Join(tmp, CollectionName), func(w *bufio.Writer) { encodePVD(w, frames, step) })
		if err != nil {
			return fmt.Errorf("vtk series %s: %w", dir, err)
		}
		return nil
	})
}

func checkMesh(m *mesh.Mesh) error {
	if m == nil || len(m.Nodes) == 0 {
		return fmt.Errorf("empty mesh")
	}
	for i, x := range m.Nodes {
		for _, c := range x {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return fmt.Errorf("mesh node %d: coordinate %v not finite", i, c)
			}
		}
	}
	for f, tri := range m.Tris {
		for _, v := range tri {
			if v < 0 || v >= len(m.Nodes) {
				return fmt.Errorf("mesh triangle %d: node %d out of range 0..%d", f, v, len(m.Nodes)-1)
			}
		}
	}
	return nil
}

func checkField(name string, v []float64, n int) error {
	if name == "" {
		return fmt.Errorf("field with an empty name")
	}
	if len(v) != n {
		return fmt.Errorf("field %q: want %d values (one per node), got %d", name, n, len(v))
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("field %q: node %d: value %v not finite", name, i, x)
		}
	}
	return nil
}

// writeFile creates path, lets encode fill a buffered writer and reports
// the first write or close error.
func writeFile(path string, encode func(w *bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	encode(w)
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// attr returns s escaped for an XML attribute value.
func attr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// floats writes values on one line per group of per values, indented.
func floats(w io.Writer, v []float64, per int) {
	values(w, v, per, func(b []byte, x float64) []byte { return strconv.AppendFloat(b, x, 'g', -1, 64) })
}

// ints writes integers like floats.
func ints(w io.Writer, v []int, per int) {
	values(w, v, per, func(b []byte, x int) []byte { return strconv.AppendInt(b, int64(x), 10) })
}

// values writes v formatted by appendText, per values to a line, each line
// indented to sit inside a DataArray element.
func values[T any](w io.Writer, v []T, per int, appendText func([]byte, T) []byte) {
	var buf []byte
	for i, x := range v {
		switch {
		case i == 0:
			buf = append(buf, "          "...)
		case i%per == 0:
			buf = append(buf, "\n          "...)
		default:
			buf = append(buf, ' ')
		}
		buf = appendText(buf, x)
	}
	buf = append(buf, '\n')
	w.Write(buf)
}

// encodeVTP writes one PolyData piece: points, triangles as polys, and the
// named fields as point data. Errors surface at Flush.
func encodeVTP(w *bufio.Writer, m *mesh.Mesh, names []string, fields map[string][]float64) {
	n, nt := len(m.Nodes), len(m.Tris)
	fmt.Fprintf(w, "<?xml version=\"1.0\"?>\n")
	fmt.Fprintf(w, "<VTKFile type=\"PolyData\" version=\"1.0\" byte_order=\"LittleEndian\" header_type=\"UInt64\">\n")
	fmt.Fprintf(w, "  <PolyData>\n")
	fmt.Fprintf(w, "    <Piece NumberOfPoints=\"%d\" NumberOfVerts=\"0\" NumberOfLines=\"0\" NumberOfStrips=\"0\" NumberOfPolys=\"%d\">\n", n, nt)
	if len(names) > 0 {
		fmt.Fprintf(w, "      <PointData Scalars=\"%s\">\n", attr(names[0]))
		for _, name := range names {
			fmt.Fprintf(w, "        <DataArray type=\"Float64\" Name=\"%s\" format=\"ascii\">\n", attr(name))
			floats(w, fields[name], 6)
			fmt.Fprintf(w, "        </DataArray>\n")
		}
		fmt.Fprintf(w, "      </PointData>\n")
	}
	pts := make([]float64, 0, 3*n)
	for _, x := range m.Nodes {
		pts = append(pts, x[0], x[1], x[2])
	}
	fmt.Fprintf(w, "      <Points>\n")
	fmt.Fprintf(w, "        <DataArray type=\"Float64\" NumberOfComponents=\"3\" format=\"ascii\">\n")
	floats(w, pts, 3)
	fmt.Fprintf(w, "        </DataArray>\n")
	fmt.Fprintf(w, "      </Points>\n")
	conn := make([]int, 0, 3*nt)
	offs := make([]int, nt)
	for f, tri := range m.Tris {
		conn = append(conn, tri[0], tri[1], tri[2])
		offs[f] = 3 * (f + 1) // end of polygon f in connectivity
	}
	fmt.Fprintf(w, "      <Polys>\n")
	fmt.Fprintf(w, "        <DataArray type=\"Int64\" Name=\"connectivity\" format=\"ascii\">\n")
	ints(w, conn, 3)
	fmt.Fprintf(w, "        </DataArray>\n")
	fmt.Fprintf(w, "        <DataArray type=\"Int64\" Name=\"offsets\" format=\"ascii\">\n")
	ints(w, offs, 10)
	fmt.Fprintf(w, "        </DataArray>\n")
	fmt.Fprintf(w, "      </Polys>\n")
	fmt.Fprintf(w, "    </Piece>\n")
	fmt.Fprintf(w, "  </PolyData>\n")
	fmt.Fprintf(w, "</VTKFile>\n")
}

// encodePVD writes the collection: one DataSet per frame, file names
// relative to the collection's folder.
func encodePVD(w *bufio.Writer, frames []int, step func(k int) float64) {
	fmt.Fprintf(w, "<?xml version=\"1.0\"?>\n")
	fmt.Fprintf(w, "<VTKFile type=\"Collection\" version=\"0.1\" byte_order=\"LittleEndian\">\n")
	fmt.Fprintf(w, "  <Collection>\n")
	for _, k := range frames {
		fmt.Fprintf(w, "    <DataSet timestep=\"%s\" group=\"\" part=\"0\" file=\"%s\"/>\n",
			strconv.FormatFloat(step(k), 'g', -1, 64), FrameName(k))
	}
	fmt.Fprintf(w, "  </Collection>\n")
	fmt.Fprintf(w, "</VTKFile>\n")
}
