// Package sparse provides the compressed sparse row (CSR) matrix that carries
// the mesh operators (Eq. 15 Laplacian, cotangent Laplace–Beltrami, surface
// gradient) to the simulator, the regularizers and the compute backends.
package sparse

import (
	"fmt"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// CSR is a sparse matrix in compressed sparse row form. Row i holds the
// entries Val[RowPtr[i]:RowPtr[i+1]] at columns ColIdx[RowPtr[i]:RowPtr[i+1]],
// with columns sorted ascending and no duplicates.
type CSR struct {
	Rows, Cols int
	RowPtr     []int
	ColIdx     []int
	Val        []float64
}

// Triplet is one (row, column, value) entry used to assemble a CSR matrix.
type Triplet struct {
	Row, Col int
	Val      float64
}

// FromTriplets assembles an r x c CSR matrix, summing duplicate entries.
// Entries outside the shape are an error.
func FromTriplets(r, c int, ts []Triplet) (*CSR, error) {
	for _, t := range ts {
		if t.Row < 0 || t.Row >= r || t.Col < 0 || t.Col >= c {
			return nil, fmt.Errorf("sparse: entry (%d,%d) outside %dx%d", t.Row, t.Col, r, c)
		}
	}
	s := make([]Triplet, len(ts))
	copy(s, ts)
	sort.Slice(s, func(a, b int) bool {
		if s[a].Row != s[b].Row {
			return s[a].Row < s[b].Row
		}
		return s[a].Col < s[b].Col
	})
	m := &CSR{Rows: r, Cols: c, RowPtr: make([]int, r+1)}
	for k := 0; k < len(s); k++ {
		n := len(m.ColIdx)
		if n > 0 && k > 0 && s[k].Row == s[k-1].Row && s[k].Col == s[k-1].Col {
			m.Val[n-1] += s[k].Val
			continue
		}
		m.ColIdx = append(m.ColIdx, s[k].Col)
		m.Val = append(m.Val, s[k].Val)
		m.RowPtr[s[k].Row+1]++
	}
	for i := 0; i < r; i++ {
		m.RowPtr[i+1] += m.RowPtr[i]
	}
	return m, nil
}

// MulVec computes dst = A x. dst must have length Rows and x length Cols.
func (a *CSR) MulVec(dst, x []float64) {
	for i := 0; i < a.Rows; i++ {
		var s float64
		for k := a.RowPtr[i]; k < a.RowPtr[i+1]; k++ {
			s += a.Val[k] * x[a.ColIdx[k]]
		}
		dst[i] = s
	}
}

// MulDense computes dst = A B for a dense B with Cols rows; dst is Rows x B's
// column count and must not alias B.
func (a *CSR) MulDense(dst, b *mat.Dense) {
	_, c := b.Dims()
	for i := 0; i < a.Rows; i++ {
		row := dst.RawRowView(i)
		for j := range row {
			row[j] = 0
		}
		for k := a.RowPtr[i]; k < a.RowPtr[i+1]; k++ {
			v := a.Val[k]
			src := b.RawRowView(a.ColIdx[k])
			for j := 0; j < c; j++ {
				row[j] += v * src[j]
			}
		}
	}
}

// Dense returns A as a dense matrix.
func (a *CSR) Dense() *mat.Dense {
	d := mat.NewDense(a.Rows, a.Cols, nil)
	for i := 0; i < a.Rows; i++ {
		for k := a.RowPtr[i]; k < a.RowPtr[i+1]; k++ {
			d.Set(i, a.ColIdx[k], a.Val[k])
		}
	}
	return d
}

// At returns the entry at (i, j).
func (a *CSR) At(i, j int) float64 {
	for k := a.RowPtr[i]; k < a.RowPtr[i+1]; k++ {
		if a.ColIdx[k] == j {
			return a.Val[k]
		}
	}
	return 0
}
