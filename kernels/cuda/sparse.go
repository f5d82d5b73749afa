package cuda

import (
	"fmt"

	"github.com/eandarn/eandarn/kernels"
)

// csr is a sparse matrix on the device and its transpose (for the adjoint),
// int32 indices and float32 values.
type csr struct {
	rows, cols int
	a, at      csrDev
}

type csrDev struct {
	rowPtr, colIdx, val Ptr
}

func (c *csr) Dims() (int, int) { return c.rows, c.cols }

// NewCSR uploads a and its transpose (computed here, entries of each row in
// increasing column order).
func (be *Backend) NewCSR(a kernels.CSRData, d kernels.DType) (kernels.CSR, error) {
	if d != kernels.F32 {
		return nil, fmt.Errorf("kernels: %s: csr of %v (this backend holds float32)", be.name, d)
	}
	if err := checkCSR(a); err != nil {
		return nil, fmt.Errorf("kernels: %s: new csr: %w", be.name, err)
	}
	c := &csr{rows: a.Rows, cols: a.Cols}
	var err error
	if c.a, err = be.uploadCSR(a.RowPtr, a.ColIdx, a.Val); err != nil {
		return nil, err
	}
	tp, tc, tv := transpose(a)
	if c.at, err = be.uploadCSR(tp, tc, tv); err != nil {
		return nil, err
	}
	return c, nil
}

// checkCSR validates the CSR arrays.
func checkCSR(a kernels.CSRData) error {
	if a.Rows < 0 || a.Cols < 0 || len(a.RowPtr) != a.Rows+1 || a.RowPtr[0] != 0 || int(a.RowPtr[a.Rows]) != len(a.ColIdx) || len(a.ColIdx) != len(a.Val) {
		return fmt.Errorf("inconsistent CSR arrays: %d rows, %d row pointers, %d columns, %d values", a.Rows, len(a.RowPtr), len(a.ColIdx), len(a.Val))
	}
	for i := range a.Rows {
		if a.RowPtr[i+1] < a.RowPtr[i] {
			return fmt.Errorf("row pointers decrease at row %d", i)
		}
	}
	for _, j := range a.ColIdx {
		if j < 0 || int(j) >= a.Cols {
			return fmt.Errorf("column %d outside [0,%d)", j, a.Cols)
		}
	}
	return nil
}

// transpose returns Aᵀ in CSR form.
func transpose(a kernels.CSRData) (rowPtr, colIdx []int32, val []float64) {
	rowPtr = make([]int32, a.Cols+1)
	for _, j := range a.ColIdx {
		rowPtr[j+1]++
	}
	for j := range a.Cols {
		rowPtr[j+1] += rowPtr[j]
	}
	next := append([]int32(nil), rowPtr[:a.Cols]...)
	colIdx = make([]int32, len(a.ColIdx))
	val = make([]float64, len(a.Val))
	for i := range a.Rows {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			j := a.ColIdx[e]
			colIdx[next[j]], val[next[j]] = int32(i), a.Val[e]
			next[j]++
		}
	}
	return rowPtr, colIdx, val
}

func (be *Backend) uploadCSR(rowPtr, colIdx []int32, val []float64) (csrDev, error) {
	var c csrDev
	var err error
	if c.rowPtr, err = AllocPut(be.dev, rowPtr); err != nil {
		return c, err
	}
	// One spare element: an empty matrix still gets its own allocations.
	if c.colIdx, err = AllocPut(be.dev, append(colIdx, 0)); err != nil {
		return c, err
	}
	v := make([]float32, len(val)+1)
	for i, x := range val {
		v[i] = float32(x)
	}
	c.val, err = AllocPut(be.dev, v)
	return c, err
}

// spmm launches csr_spmm_f32 over nvec vectors.
func (be *Backend) spmm(dst Ptr, drows Ptr, x Ptr, xrows Ptr, m csrDev, rows, ld, nvec int, beta float64) error {
	if nvec == 0 || rows == 0 {
		return nil
	}
	if nvec > 65535 {
		return fmt.Errorf("kernels: %s: spmm over %d rows of frames, at most 65535", be.name, nvec)
	}
	return be.dev.Launch("csr_spmm_f32", Dim{X: min(blocks(rows, elementwise), maxGrid), Y: nvec}, Dim{X: elementwise}, 0,
		Args(P(dst), I(ld), P(drows), P(x), I(ld), P(xrows), P(m.rowPtr), P(m.colIdx), P(m.val), I(rows), F(1), F(beta)))
}

// sparseOperands checks dst (B x n), the n x n matrix a, src (rows x n) and
// the B row indices.
func (be *Backend) sparseOperands(what string, dst kernels.Mat, a kernels.CSR, src kernels.Mat, rows kernels.View, B int) (c *csr, pd, ps, pr Ptr, err error) {
	c, ok := a.(*csr)
	if !ok {
		return nil, 0, 0, 0, fmt.Errorf("kernels: %s: %s: %T is not a CSR of this backend", be.name, what, a)
	}
	if c.rows != c.cols || dst.Cols != c.rows || src.Cols != c.rows {
		return nil, 0, 0, 0, fmt.Errorf("kernels: %s: %s: A %dx%d, dst %dx%d, src %dx%d", be.name, what, c.rows, c.cols, dst.Rows, dst.Cols, src.Rows, src.Cols)
	}
	if pd, err = be.mat(dst, dst.Rows, dst.Cols, what+" dst"); err != nil {
		return
	}
	if ps, err = be.mat(src, src.Rows, src.Cols, what+" src"); err != nil {
		return
	}
	pr, err = be.at(rows, kernels.I32, B, what+" rows")
	return
}

// SpMMRows applies A to rows of src: dst[b] = A src[rows[b]].
func (be *Backend) SpMMRows(dst kernels.Mat, a kernels.CSR, src kernels.Mat, rows kernels.View) error {
	c, pd, ps, pr, err := be.sparseOperands("spmm rows", dst, a, src, rows, dst.Rows)
	if err != nil {
		return err
	}
	return be.spmm(pd, 0, ps, pr, c.a, c.rows, c.rows, dst.Rows, 0)
}

// SpMMRowsAdjoint adds dst[rows[b]] += Aᵀ g[b] (each element summed over
// Aᵀ's row in column order).
func (be *Backend) SpMMRowsAdjoint(dst kernels.Mat, a kernels.CSR, g kernels.Mat, rows kernels.View) error {
	c, pd, pg, pr, err := be.sparseOperands("spmm rows adjoint", dst, a, g, rows, g.Rows)
	if err != nil {
		return err
	}
	return be.spmm(pd, pr, pg, 0, c.at, c.cols, c.rows, g.Rows, 1)
}

// stencil is the Eq. 17–18 stencil on the device: the weights of every
// frame (T x 5 float32; the starts are folded into the rows the caller
// passes).
type stencil struct {
	frames int
	w      Ptr
}

func (s *stencil) Frames() int { return s.frames }

// NewStencil uploads the stencil of T = len(start) frames.
func (be *Backend) NewStencil(start []int32, w [][5]float64, d kernels.DType) (kernels.Stencil, error) {
	T := len(start)
	if d != kernels.F32 {
		return nil, fmt.Errorf("kernels: %s: stencil of %v (this backend holds float32)", be.name, d)
	}
	if len(w) != T || T == 0 {
		return nil, fmt.Errorf("kernels: %s: new stencil: %d starts, %d weight rows", be.name, T, len(w))
	}
	flat := make([]float32, 0, 5*T)
	for t, s := range start {
		if s < 0 || int(s)+5 > T {
			return nil, fmt.Errorf("kernels: %s: new stencil: frame %d reads frames %d…%d of %d", be.name, t, s, s+4, T)
		}
		for _, x := range w[t] {
			flat = append(flat, float32(x))
		}
	}
	p, err := AllocPut(be.dev, flat)
	if err != nil {
		return nil, err
	}
	return &stencil{frames: T, w: p}, nil
}

// stencilOperands checks the operands of TimeDeriv and its adjoint: the
// batch matrix bm (B x n), the window matrix wm (W x n), the B frames and
// the 5·B window rows.
func (be *Backend) stencilOperands(what string, s kernels.Stencil, bm, wm kernels.Mat, frames, srcRows kernels.View) (st *stencil, pb, pw, pf, pr Ptr, err error) {
	st, ok := s.(*stencil)
	if !ok {
		err = fmt.Errorf("kernels: %s: %s: %T is not a stencil of this backend", be.name, what, s)
		return
	}
	if bm.Cols != wm.Cols {
		err = fmt.Errorf("kernels: %s: %s: %d and %d columns", be.name, what, bm.Cols, wm.Cols)
		return
	}
	if pb, err = be.mat(bm, bm.Rows, bm.Cols, what+" batch"); err != nil {
		return
	}
	if pw, err = be.mat(wm, wm.Rows, wm.Cols, what+" window"); err != nil {
		return
	}
	if pf, err = be.at(frames, kernels.I32, bm.Rows, what+" frames"); err != nil {
		return
	}
	pr, err = be.at(srcRows, kernels.I32, 5*bm.Rows, what+" window rows")
	return
}

// TimeDeriv applies the stencil at the batch frames.
func (be *Backend) TimeDeriv(dst kernels.Mat, s kernels.Stencil, src kernels.Mat, frames, srcRows kernels.View, tau float64) error {
	st, pd, ps, pf, pr, err := be.stencilOperands("time derivative", s, dst, src, frames, srcRows)
	if err != nil {
		return err
	}
	n := dst.Cols
	return be.each("time_deriv_f32", dst.Rows*n, P(pd), P(ps), I(n), I(dst.Rows), P(pf), P(pr), P(st.w), F(tau))
}

// TimeDerivAdjoint adds the transpose of TimeDeriv into dst.
func (be *Backend) TimeDerivAdjoint(dst kernels.Mat, s kernels.Stencil, g kernels.Mat, frames, srcRows kernels.View, tau float64) error {
	st, pg, pd, pf, pr, err := be.stencilOperands("time derivative adjoint", s, g, dst, frames, srcRows)
	if err != nil {
		return err
	}
	n := dst.Cols
	if g.Rows == 0 {
		return nil
	}
	return be.each("time_deriv_adj_f32", dst.Rows*n, P(pd), P(pg), I(n), I(dst.Rows), I(g.Rows), P(pf), P(pr), P(st.w), F(tau))
}
