// Package csvmesh reads the plain-text geometries and matrices of the
// shared data folder (../shared/data): comma-separated numbers, no header,
// one row per line, triangle and electrode indices 0-based.
//
//	nodes.csv    N x 3   x,y,z per node (units as the file's README says)
//	faces.csv    F x 3   node indices of each triangle, 0-based
//	matrix.csv   r x c   any numeric table (transfer matrices, potentials)
//	index.csv    k x 1   one 0-based index per line (electrode nodes)
//
// Blank lines and lines starting with '#' are skipped; spaces around fields,
// a leading UTF-8 byte-order mark and CR LF line ends are ignored. Errors
// name the file and the line.
package csvmesh

import (
	"bufio"
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

// table reads every record of a CSV file; all records must have the same
// number of fields (encoding/csv enforces it from the first record). The
// file is opened without blocking (a named pipe or device is refused), and
// its size counts against the memory budget of io/inputs: S bytes of text
// hold at most S/2 values, 8 bytes each once parsed, so 4·S is counted.
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
	// A leading UTF-8 byte-order mark (spreadsheets write one) is not
	// part of the first value.
	br := bufio.NewReader(f)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.ReuseRecord = false
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read %s: no rows", path)
	}
	return rows, nil
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
			x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("read %s: row %d, column %d: want a finite number, got %q", path, i+1, j+1, s)
			}
			m.Set(i, j, x)
		}
	}
	return m, nil
}

// ReadInts reads an integer CSV table as row-major values with its row and
// column counts.
func ReadInts(path string) (vals []int, rows, cols int, err error) {
	recs, err := table(path)
	if err != nil {
		return nil, 0, 0, err
	}
	cols = len(recs[0])
	vals = make([]int, 0, len(recs)*cols)
	for i, rec := range recs {
		for j, s := range rec {
			v, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				return nil, 0, 0, fmt.Errorf("read %s: row %d, column %d: want an integer, got %q", path, i+1, j+1, s)
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
	for i, v := range vals {
		if v < 0 || v >= n {
			return nil, fmt.Errorf("read %s: row %d: want an index in [0, %d), got %d", path, i+1, n, v)
		}
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
	n, c := nodes.Dims()
	if c != 3 {
		return nil, fmt.Errorf("read %s: want N x 3 node coordinates, got %d x %d", nodesPath, n, c)
	}
	tris, f, c, err := ReadInts(facesPath)
	if err != nil {
		return nil, err
	}
	if c != 3 {
		return nil, fmt.Errorf("read %s: want F x 3 triangles, got %d x %d", facesPath, f, c)
	}
	m := &mesh.Mesh{Nodes: make([][3]float64, n), Tris: make([][3]int, f)}
	for i := range m.Nodes {
		for k := 0; k < 3; k++ {
			m.Nodes[i][k] = scale * nodes.At(i, k)
		}
	}
	for i := range m.Tris {
		for k := 0; k < 3; k++ {
			v := tris[3*i+k]
			if v < 0 || v >= n {
				return nil, fmt.Errorf("read %s: row %d: want node indices in [0, %d) (0-based, %s), got %d", facesPath, i+1, n, nodesPath, v)
			}
			m.Tris[i][k] = v
		}
	}
	return m, nil
}
