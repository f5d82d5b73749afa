// Package csvmesh reads the plain-text geometries and matrices of the
// shared data folder (../shared/data) and those researchers bring: numbers
// separated by commas, no header, one row per line, triangle and electrode
// indices 0-based.
//
//	nodes.csv    N x 3   x,y,z per node (units as the file's README says)
//	faces.csv    F x 3   node indices of each triangle, 0-based
//	matrix.csv   r x c   any numeric table (transfer matrices, potentials)
//	index.csv    k x 1   one 0-based index per line (electrode nodes)
//
// What other tools write and means one thing is read as the plain file:
// semicolons, tabs or runs of spaces instead of commas (the separator of
// the first row holds for the file: np.savetxt and MATLAB's save -ascii
// write spaces), a comma at the end of every row (an empty last column),
// blank lines and lines starting with '#', spaces around fields, a leading
// UTF-8 byte-order mark, CR LF or CR line ends, rows of empty fields at the
// end (spreadsheets), Fortran exponents (1.5D+02), and indices written as
// whole-number floats (12.0, 1.2e+01: np.savetxt's default). What could
// mean two things is refused with a hint: a header row, decimal commas
// (1,5;2,3), 1-based indices. Errors name the file and the row.
package csvmesh

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/solver/mesh"
)

// table reads every row of a text table as its fields, all rows with the
// same number of fields. The file is opened without blocking (a named pipe
// or device is refused), and its size counts against the memory budget of
// io/inputs: S bytes of text hold at most S/2 values, 8 bytes each once
// parsed, so 4·S is counted.
func table(path string) ([][]string, error) {
	f, err := inputs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var t inputs.Tally
	if err := t.AddBytes("read "+path, 4*min(st.Size(), math.MaxInt64/4)); err != nil {
		return nil, err
	}
	text, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	rows, err := records(text)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return rows, nil
}

// records splits text into rows of fields (see the package comment).
func records(text []byte) ([][]string, error) {
	if what := binary(text); what != "" {
		return nil, fmt.Errorf("want CSV text, got %s", what)
	}
	// A leading UTF-8 byte-order mark (spreadsheets write one) is not
	// part of the first value; CR LF (Windows) and CR (old Mac) end lines.
	text = bytes.TrimPrefix(text, []byte("\ufeff"))
	text = bytes.ReplaceAll(bytes.ReplaceAll(text, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	var first string
	for rest := text; first == "" && len(rest) > 0; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if l := strings.TrimSpace(string(line)); l != "" && l[0] != '#' {
			first = l
		}
	}
	var rows [][]string
	switch {
	case first == "":
		return nil, errors.New("no rows")
	case strings.Contains(first, ";") && strings.Contains(first, ","):
		return nil, fmt.Errorf("row 1 %q: semicolons and commas: decimal commas (1,5;2,3, a European spreadsheet's CSV)? want decimal points and comma separators (1.5,2.3)", short(first))
	case strings.ContainsAny(first, ",;"):
		r := csv.NewReader(bytes.NewReader(text))
		if !strings.Contains(first, ",") {
			r.Comma = ';'
		}
		r.Comment = '#'
		r.TrimLeadingSpace = true
		r.FieldsPerRecord = -1
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // a line of spaces
			}
			rows = append(rows, rec)
		}
	default:
		for _, line := range strings.Split(string(text), "\n") {
			if f := strings.Fields(line); len(f) > 0 && f[0][0] != '#' {
				rows = append(rows, f)
			}
		}
	}
	// Rows of empty fields at the end (",,,": a spreadsheet's formatted
	// but empty cells) are no data.
	for len(rows) > 0 && empty(rows[len(rows)-1]) {
		rows = rows[:len(rows)-1]
	}
	if len(rows) == 0 {
		return nil, errors.New("no rows")
	}
	// A separator at the end of every row (MATLAB's fprintf('%g,', row))
	// leaves an empty last column.
	trailing := len(rows[0]) > 1
	for _, rec := range rows {
		trailing = trailing && strings.TrimSpace(rec[len(rec)-1]) == ""
	}
	for i, rec := range rows {
		if trailing {
			rows[i] = rec[:len(rec)-1]
		}
		if len(rows[i]) != len(rows[0]) {
			return nil, fmt.Errorf("row %d: %d values, want %d as in row 1 (wrong number of fields)", i+1, len(rows[i]), len(rows[0]))
		}
	}
	return rows, nil
}

// binary names the kind of a file that is not text, with what to do ("" for
// text): files researchers pass where CSV is expected.
func binary(text []byte) string {
	head := text[:min(len(text), 4096)]
	hdf5 := []byte("\x89HDF\r\n\x1a\n")
	switch {
	case bytes.HasPrefix(head, []byte("MATLAB 5.0 MAT-file")):
		return "a MATLAB v5 .mat file: name it FILE.mat and give FILE.mat:VAR"
	case len(head) >= 520 && bytes.Equal(head[512:520], hdf5) && bytes.HasPrefix(head, []byte("MATLAB 7.3 MAT-file")):
		return "a MATLAB -v7.3 .mat file: name it FILE.mat and give FILE.mat:VAR"
	case bytes.HasPrefix(head, hdf5) || len(head) >= 520 && bytes.Equal(head[512:520], hdf5):
		return "an HDF5 file: name it FILE.h5 and give FILE.h5:DATASET"
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return "a .npy file: name it FILE.npy"
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "a zip archive (an Excel .xlsx workbook?): save the sheet as CSV"
	case bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")):
		return "UTF-16 text (Excel's Unicode Text): save it as CSV in UTF-8"
	case bytes.IndexByte(head, 0) >= 0:
		return "a binary file (a NUL byte in its first 4 KiB)"
	}
	return ""
}

// empty reports whether every field of rec is empty.
func empty(rec []string) bool {
	for _, s := range rec {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// short is s cut to 40 characters for a message.
func short(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// number parses one field: a decimal number, also with a Fortran exponent
// (1.5D+02, 1.5d-3), which means nothing else.
func number(s string) (float64, error) {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil && strings.Trim(s, "0123456789.+-dD") == "" && strings.Count(strings.ToLower(s), "d") == 1 {
		return strconv.ParseFloat(strings.NewReplacer("d", "e", "D", "e").Replace(s), 64)
	}
	return x, err
}

// hint says what an unreadable field of row i (0-based) most likely is.
func hint(rows [][]string, i int, s string) string {
	if _, err := number(s); err == nil {
		return "" // a number, not finite or not whole: the message says so
	}
	numbers := func(rec []string) bool {
		for _, f := range rec {
			if _, err := number(strings.TrimSpace(f)); err != nil {
				return false
			}
		}
		return true
	}
	switch {
	case i == 0 && strings.TrimSpace(rows[0][0]) == "" && numbers(rows[0][1:]) && len(rows) > 1 && numbers(rows[1][1:]):
		return " (a table's header and row-index column, as pandas' DataFrame.to_csv writes? write it with index=False, header=False)"
	case i == 0 && len(rows) > 1 && numbers(rows[1]):
		return " (a header row? want numbers only, no header: delete it)"
	case s == "":
		return " (an empty cell: a missing value?)"
	case strings.ContainsAny(s, " \t"):
		return " (two numbers in one field: decimal commas (1,5 for 1.5) with tab or space separators? want decimal points)"
	}
	if _, err := number(strings.Replace(s, ",", ".", 1)); err == nil && strings.Count(s, ",") == 1 {
		return " (a decimal comma? want a decimal point: 1.5, not 1,5)"
	}
	return ""
}

// ReadMatrix reads a numeric CSV table as an r x c matrix (row i = line i).
// Every value must be finite.
func ReadMatrix(path string) (*mat.Dense, error) {
	rows, err := table(path)
	if err != nil {
		return nil, err
	}
	c := len(rows[0])
	m := mat.NewDense(len(rows), c, nil)
	for i, rec := range rows {
		for j, s := range rec {
			s = strings.TrimSpace(s)
			x, err := number(s)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("read %s: row %d, column %d: want a finite number, got %q%s", path, i+1, j+1, s, hint(rows, i, s))
			}
			m.Set(i, j, x)
		}
	}
	return m, nil
}

// ReadInts reads an integer CSV table as row-major values with its row and
// column counts. Whole-number floats (12.0, 1.2e+01) are integers.
func ReadInts(path string) (vals []int, rows, cols int, err error) {
	recs, err := table(path)
	if err != nil {
		return nil, 0, 0, err
	}
	cols = len(recs[0])
	vals = make([]int, 0, len(recs)*cols)
	for i, rec := range recs {
		for j, s := range rec {
			s = strings.TrimSpace(s)
			v, err := strconv.Atoi(s)
			if err != nil {
				var x float64
				if x, err = number(s); err == nil {
					v, err = inputs.Int(x)
				}
			}
			if err != nil {
				return nil, 0, 0, fmt.Errorf("read %s: row %d, column %d: want an integer, got %q%s", path, i+1, j+1, s, hint(recs, i, s))
			}
			vals = append(vals, v)
		}
	}
	return vals, len(recs), cols, nil
}

// ReadIndices reads a one-column file of 0-based indices, all in [0, n).
func ReadIndices(path string, n int) ([]int, error) {
	vals, _, cols, err := ReadInts(path)
	if err != nil {
		return nil, err
	}
	if cols != 1 {
		return nil, fmt.Errorf("read %s: want one index per line, got %d columns", path, cols)
	}
	if e := inputs.BadIndex(vals, n); e != nil {
		return nil, fmt.Errorf("read %s: row %d: want an index in [0, %d), got %d%s", path, e.At+1, n, e.Got, e.Hint())
	}
	return vals, nil
}

// Load reads a mesh from a nodes file (N x 3 coordinates) and a faces file
// (F x 3 node indices, 0-based), keeping the coordinates as they are in the
// file. Indices outside [0, N) are an error; geometric checks (closed,
// oriented, manifold) are mesh.Validate's.
func Load(nodesPath, facesPath string) (*mesh.Mesh, error) {
	return LoadScaled(nodesPath, facesPath, 1)
}

// LoadScaled is Load with every coordinate multiplied by scale, e.g. 1000
// for the ECGSim files, which are in metres, to get the mm that
// mesh.Mesh expects.
func LoadScaled(nodesPath, facesPath string, scale float64) (*mesh.Mesh, error) {
	nodes, err := ReadMatrix(nodesPath)
	if err != nil {
		return nil, err
	}
	tris, f, c, err := ReadInts(facesPath)
	if err != nil {
		return nil, err
	}
	n, nc := nodes.Dims()
	m, err := FromArrays(nodes.RawMatrix().Data, []int{n, nc}, tris, []int{f, c}, nodesPath, facesPath)
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
	}
	for i := range m.Nodes {
		for k := range m.Nodes[i] {
			m.Nodes[i][k] *= scale
		}
	}
	return m, nil
}

// FromArrays makes a mesh of the row-major node coordinates (shape N x 3)
// and triangles (F x 3, 0-based indices into the nodes) that a reader of
// any format returned, named nodesName and trisName in errors. A table
// with a row-number column, a polygon list's vertex counts or
// quadrilaterals, and 1-based triangles are refused with a hint
// (inputs.ExtraColumnHint, inputs.BadIndex).
func FromArrays(nodes []float64, nodeShape []int, tris []int, triShape []int, nodesName, trisName string) (*mesh.Mesh, error) {
	if len(nodeShape) != 2 || nodeShape[1] != 3 {
		return nil, fmt.Errorf("%s: want N x 3 node coordinates, got %s%s", nodesName, shapeText(nodeShape), columnHint(nodes, nodeShape, false))
	}
	if len(triShape) != 2 || triShape[1] != 3 {
		vals := make([]float64, len(tris))
		for i, v := range tris {
			vals[i] = float64(v)
		}
		return nil, fmt.Errorf("%s: want F x 3 triangles, got %s%s", trisName, shapeText(triShape), columnHint(vals, triShape, true))
	}
	n := nodeShape[0]
	if e := inputs.BadIndex(tris, n); e != nil {
		return nil, fmt.Errorf("%s: row %d: want node indices in [0, %d) (0-based, %s), got %d%s", trisName, e.At/3+1, n, nodesName, e.Got, e.Hint())
	}
	m := &mesh.Mesh{Nodes: make([][3]float64, n), Tris: make([][3]int, triShape[0])}
	for i := range m.Nodes {
		m.Nodes[i] = [3]float64{nodes[3*i], nodes[3*i+1], nodes[3*i+2]}
	}
	for i := range m.Tris {
		m.Tris[i] = [3]int{tris[3*i], tris[3*i+1], tris[3*i+2]}
	}
	return m, nil
}

// shapeText renders a shape as "N x C" (or "[d0 d1 …]" for another rank).
func shapeText(shape []int) string {
	if len(shape) == 2 {
		return fmt.Sprintf("%d x %d", shape[0], shape[1])
	}
	return fmt.Sprint(shape)
}

// columnHint is inputs.ExtraColumnHint for a 2-D array of shape with
// row-major values vals, "" for any other rank.
func columnHint(vals []float64, shape []int, triangles bool) string {
	if len(shape) != 2 || shape[1] == 0 {
		return ""
	}
	first := make([]float64, shape[0])
	for i := range first {
		first[i] = vals[i*shape[1]]
	}
	return inputs.ExtraColumnHint(first, shape[1], triangles)
}
