package kernels

import "fmt"

// pointChunk and nodeChunk are the sizes of the tasks over points (or plane
// elements) and over node columns of the physics ops.
const pointChunk, nodeChunk = 1024, 128

// cpuCSR is an uploaded sparse matrix; val32 or val64 holds the values.
type cpuCSR struct {
	owner          *cpu
	rows, cols     int
	rowPtr, colIdx []int32
	val32          []float32
	val64          []float64
	dt             DType
}

func (m *cpuCSR) Dims() (int, int) { return m.rows, m.cols }

// NewCSR implements Backend.NewCSR: it validates and copies a.
func (c *cpu) NewCSR(a CSRData, d DType) (CSR, error) {
	if d != F32 && d != F64 {
		return nil, fmt.Errorf("kernels: cpu: new csr of type %v", d)
	}
	if a.Rows < 0 || a.Cols < 0 || len(a.RowPtr) != a.Rows+1 || a.RowPtr[0] != 0 || int(a.RowPtr[a.Rows]) != len(a.ColIdx) || len(a.ColIdx) != len(a.Val) {
		return nil, fmt.Errorf("kernels: cpu: new csr: inconsistent CSR arrays (%d rows, %d row pointers, %d columns, %d values)", a.Rows, len(a.RowPtr), len(a.ColIdx), len(a.Val))
	}
	for i := range a.Rows {
		if a.RowPtr[i] > a.RowPtr[i+1] {
			return nil, fmt.Errorf("kernels: cpu: new csr: row pointers decrease at row %d", i)
		}
	}
	for _, j := range a.ColIdx {
		if j < 0 || int(j) >= a.Cols {
			return nil, fmt.Errorf("kernels: cpu: new csr: column %d outside [0,%d)", j, a.Cols)
		}
	}
	m := &cpuCSR{owner: c, rows: a.Rows, cols: a.Cols, dt: d,
		rowPtr: append([]int32(nil), a.RowPtr...), colIdx: append([]int32(nil), a.ColIdx...)}
	if d == F32 {
		m.val32 = make([]float32, len(a.Val))
		for k, v := range a.Val {
			m.val32[k] = float32(v)
		}
	} else {
		m.val64 = append([]float64(nil), a.Val...)
	}
	return m, nil
}

// csrVals returns the values of a cpu CSR of type T.
func csrVals[T float](c *cpu, a CSR) (*cpuCSR, []T, error) {
	m, ok := a.(*cpuCSR)
	if !ok || m.owner != c {
		return nil, nil, fmt.Errorf("kernels: cpu: matrix %T is not a CSR of this backend", a)
	}
	var v any = m.val64
	if m.dt == F32 {
		v = m.val32
	}
	val, ok := v.([]T)
	if !ok {
		var z T
		return nil, nil, fmt.Errorf("kernels: cpu: %v CSR used with %T operands", m.dt, z)
	}
	return m, val, nil
}

// planeOperands checks the operands of the ops on frame planes (SpMMRows,
// TimeDeriv and their adjoints): batch is B x n (one batch frame per row),
// grid has n columns, and each of the nidx indices per batch frame in idx
// (rows of grid) is inside it. It returns both as slices of type T and the
// indices.
func planeOperands[T float](c *cpu, what string, batch, grid Mat, idx View, per int) ([]T, []T, []int32, error) {
	if batch.Cols != grid.Cols || idx.N != per*batch.Rows {
		return nil, nil, nil, fmt.Errorf("kernels: cpu: %s: batch %dx%d, grid %dx%d, %d row indices", what, batch.Rows, batch.Cols, grid.Rows, grid.Cols, idx.N)
	}
	b, err := floats[T](c, batch.View, what)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := floats[T](c, grid.View, what)
	if err != nil {
		return nil, nil, nil, err
	}
	ix, err := c.indices(idx, what)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, r := range ix {
		if r < 0 || int(r) >= grid.Rows {
			return nil, nil, nil, fmt.Errorf("kernels: cpu: %s: row %d outside [0,%d)", what, r, grid.Rows)
		}
	}
	return b, g, ix, nil
}

// SpMMRows implements Backend.SpMMRows over fixed chunks of pointChunk
// elements of dst, in parallel.
func (c *cpu) SpMMRows(dst Mat, a CSR, src Mat, rows View) error {
	d, err := c.floatType(dst.View, "spmm rows")
	if err != nil {
		return err
	}
	if d == F32 {
		return spmmRows[float32](c, dst, a, src, rows)
	}
	return spmmRows[float64](c, dst, a, src, rows)
}

type spmmTask[T float] struct {
	dst, src []T
	rows     []int32
	m        *cpuCSR
	val      []T
	n, total int
}

func (t *spmmTask[T]) run(_, ch int) {
	for e := ch * pointChunk; e < min(t.total, (ch+1)*pointChunk); e++ {
		b, i := e/t.n, e%t.n
		fr := t.src[int(t.rows[b])*t.n : (int(t.rows[b])+1)*t.n]
		var s T
		for p := t.m.rowPtr[i]; p < t.m.rowPtr[i+1]; p++ {
			s += t.val[p] * fr[t.m.colIdx[p]]
		}
		t.dst[e] = s
	}
}

func spmmRows[T float](c *cpu, dst Mat, a CSR, src Mat, rows View) error {
	m, val, err := csrVals[T](c, a)
	if err != nil {
		return err
	}
	if m.rows != m.cols || m.rows != dst.Cols {
		return fmt.Errorf("kernels: cpu: spmm rows: %dx%d matrix on %d-node frames", m.rows, m.cols, dst.Cols)
	}
	t := &opsOf[T](c).spmm
	if t.dst, t.src, t.rows, err = planeOperands[T](c, "spmm rows", dst, src, rows, 1); err != nil {
		return err
	}
	t.m, t.val, t.n, t.total = m, val, dst.Cols, dst.N
	c.run((t.total+pointChunk-1)/pointChunk, t)
	return nil
}

// SpMMRowsAdjoint implements Backend.SpMMRowsAdjoint, one task per batch
// frame (each writes only its own row of dst), in parallel.
func (c *cpu) SpMMRowsAdjoint(dst Mat, a CSR, g Mat, rows View) error {
	d, err := c.floatType(dst.View, "spmm rows adjoint")
	if err != nil {
		return err
	}
	if d == F32 {
		return spmmRowsAdjoint[float32](c, dst, a, g, rows)
	}
	return spmmRowsAdjoint[float64](c, dst, a, g, rows)
}

type spmmAdjTask[T float] struct {
	dst, g []T
	rows   []int32
	m      *cpuCSR
	val    []T
	n      int
}

func (t *spmmAdjTask[T]) run(_, b int) {
	fr := t.dst[int(t.rows[b])*t.n : (int(t.rows[b])+1)*t.n]
	for i, gl := range t.g[b*t.n : (b+1)*t.n] {
		for p := t.m.rowPtr[i]; p < t.m.rowPtr[i+1]; p++ {
			fr[t.m.colIdx[p]] += t.val[p] * gl
		}
	}
}

func spmmRowsAdjoint[T float](c *cpu, dst Mat, a CSR, g Mat, rows View) error {
	m, val, err := csrVals[T](c, a)
	if err != nil {
		return err
	}
	if m.rows != m.cols || m.rows != g.Cols {
		return fmt.Errorf("kernels: cpu: spmm rows adjoint: %dx%d matrix on %d-node frames", m.rows, m.cols, g.Cols)
	}
	t := &opsOf[T](c).spmmT
	if t.g, t.dst, t.rows, err = planeOperands[T](c, "spmm rows adjoint", g, dst, rows, 1); err != nil {
		return err
	}
	if err := distinct(t.rows, "spmm rows adjoint"); err != nil {
		return err
	}
	t.m, t.val, t.n = m, val, g.Cols
	c.run(g.Rows, t)
	return nil
}

// distinct checks that the row indices differ, which the adjoints'
// parallel tasks rely on (a few rows: a quadratic check allocates nothing).
func distinct(rows []int32, what string) error {
	for k, r := range rows {
		for _, s := range rows[:k] {
			if r == s {
				return fmt.Errorf("kernels: cpu: %s: row %d given twice", what, r)
			}
		}
	}
	return nil
}

// cpuStencil is an uploaded time stencil; w32 or w64 holds the weights.
type cpuStencil struct {
	owner *cpu
	start []int32
	w32   [][5]float32
	w64   [][5]float64
	dt    DType
}

func (s *cpuStencil) Frames() int { return len(s.start) }

// NewStencil implements Backend.NewStencil: it validates and copies the
// stencil.
func (c *cpu) NewStencil(start []int32, w [][5]float64, d DType) (Stencil, error) {
	T := len(start)
	switch {
	case d != F32 && d != F64:
		return nil, fmt.Errorf("kernels: cpu: new stencil of type %v", d)
	case len(w) != T || T == 0:
		return nil, fmt.Errorf("kernels: cpu: new stencil: %d starts, %d weight rows", T, len(w))
	}
	for t, s := range start {
		if s < 0 || int(s)+5 > T {
			return nil, fmt.Errorf("kernels: cpu: new stencil: frame %d reads frames %d…%d of %d", t, s, s+4, T)
		}
	}
	st := &cpuStencil{owner: c, start: append([]int32(nil), start...), dt: d}
	if d == F32 {
		st.w32 = make([][5]float32, T)
		for t := range w {
			for j := range 5 {
				st.w32[t][j] = float32(w[t][j])
			}
		}
	} else {
		st.w64 = append([][5]float64(nil), w...)
	}
	return st, nil
}

// stencilOperands checks the operands of TimeDeriv and its adjoint and
// sets them in t.
func stencilOperands[T float](c *cpu, t *timeDerivTask[T], what string, s Stencil, batch, grid Mat, frames, srcRows View, tau T) error {
	st, ok := s.(*cpuStencil)
	if !ok || st.owner != c {
		return fmt.Errorf("kernels: cpu: %s: stencil %T is not a stencil of this backend", what, s)
	}
	var w any = st.w64
	if st.dt == F32 {
		w = st.w32
	}
	wt, ok := w.([][5]T)
	if !ok {
		var z T
		return fmt.Errorf("kernels: cpu: %s: %v stencil used with %T operands", what, st.dt, z)
	}
	b, g, rows, err := planeOperands[T](c, what, batch, grid, srcRows, 5)
	if err != nil {
		return err
	}
	fr, err := c.indices(frames, what)
	if err != nil {
		return err
	}
	if len(fr) != batch.Rows {
		return fmt.Errorf("kernels: cpu: %s: %d frames for %d batch rows", what, len(fr), batch.Rows)
	}
	for _, f := range fr {
		if f < 0 || int(f) >= len(wt) {
			return fmt.Errorf("kernels: cpu: %s: frame %d outside the stencil's %d", what, f, len(wt))
		}
	}
	*t = timeDerivTask[T]{batch: b, grid: g, rows: rows, frames: fr, w: wt, n: batch.Cols, tau: tau}
	return nil
}

// TimeDeriv implements Backend.TimeDeriv over fixed chunks of pointChunk
// elements of dst, in parallel.
func (c *cpu) TimeDeriv(dst Mat, s Stencil, src Mat, frames, srcRows View, tau float64) error {
	d, err := c.floatType(dst.View, "time derivative")
	if err != nil {
		return err
	}
	if d == F32 {
		return timeDeriv(c, dst, s, src, frames, srcRows, float32(tau))
	}
	return timeDeriv(c, dst, s, src, frames, srcRows, tau)
}

// timeDerivTask is TimeDeriv (batch = dst, grid = src) or, as
// timeDerivAdjTask, its adjoint (batch = g, grid = dst).
type timeDerivTask[T float] struct {
	batch, grid  []T
	rows, frames []int32
	w            [][5]T
	n            int
	tau          T
}

func (t *timeDerivTask[T]) run(_, ch int) {
	for e := ch * pointChunk; e < min(len(t.batch), (ch+1)*pointChunk); e++ {
		b, i := e/t.n, e%t.n
		var s T
		for j, wj := range t.w[t.frames[b]] {
			s += wj * t.grid[int(t.rows[b*5+j])*t.n+i]
		}
		t.batch[e] = s / t.tau
	}
}

func timeDeriv[T float](c *cpu, dst Mat, s Stencil, src Mat, frames, srcRows View, tau T) error {
	t := &opsOf[T](c).td
	if err := stencilOperands(c, t, "time derivative", s, dst, src, frames, srcRows, tau); err != nil {
		return err
	}
	c.run((len(t.batch)+pointChunk-1)/pointChunk, t)
	return nil
}

// TimeDerivAdjoint implements Backend.TimeDerivAdjoint over fixed chunks of
// nodeChunk node columns (a column receives its terms in the serial order),
// in parallel.
func (c *cpu) TimeDerivAdjoint(dst Mat, s Stencil, g Mat, frames, srcRows View, tau float64) error {
	d, err := c.floatType(dst.View, "time derivative adjoint")
	if err != nil {
		return err
	}
	if d == F32 {
		return timeDerivAdjoint(c, dst, s, g, frames, srcRows, float32(tau))
	}
	return timeDerivAdjoint(c, dst, s, g, frames, srcRows, tau)
}

type timeDerivAdjTask[T float] struct{ timeDerivTask[T] }

func (t *timeDerivAdjTask[T]) run(_, ch int) {
	i0, i1 := ch*nodeChunk, min(t.n, (ch+1)*nodeChunk)
	for b, f := range t.frames {
		w := &t.w[f]
		for i := i0; i < i1; i++ {
			x := t.batch[b*t.n+i] / t.tau
			for j, wj := range w {
				t.grid[int(t.rows[b*5+j])*t.n+i] += wj * x
			}
		}
	}
}

func timeDerivAdjoint[T float](c *cpu, dst Mat, s Stencil, g Mat, frames, srcRows View, tau T) error {
	t := &opsOf[T](c).tdT
	if err := stencilOperands(c, &t.timeDerivTask, "time derivative adjoint", s, g, dst, frames, srcRows, tau); err != nil {
		return err
	}
	c.run((t.n+nodeChunk-1)/nodeChunk, t)
	return nil
}

// APResidual implements Backend.APResidual over fixed chunks of pointChunk
// points, in parallel; the chunk sums are added in order.
func (c *cpu) APResidual(p APParams, q, g APPoints, scale float64, loss View) error {
	d, err := c.floatType(q.U, "ap residual")
	if err != nil {
		return err
	}
	if d == F32 {
		return apResidual(c, apParams[float32]{float32(p.A), float32(p.D), float32(p.K), float32(p.E0), float32(p.Mu1), float32(p.Mu2), float32(p.EpsDelta)}, q, g, float32(scale), loss)
	}
	return apResidual(c, apParams[float64]{p.A, p.D, p.K, p.E0, p.Mu1, p.Mu2, p.EpsDelta}, q, g, scale, loss)
}

// apParams are APParams in the op's type.
type apParams[T float] struct{ a, d, k, e0, mu1, mu2, epsDelta T }

// epsilon returns ε(u,v) = e0 + μ1 v/(ũ+μ2) and its partials, ũ the guarded
// u. It restates solver/ap.Params.Epsilon (kernels imports nothing from
// solver/); solver/pinn's TestAPResidualMatchesModel checks the two agree.
func (p *apParams[T]) epsilon(u, v T) (eps, dEdu, dEdv T) {
	clamped := false
	if p.epsDelta > 0 && u < -p.mu2+p.epsDelta {
		u, clamped = -p.mu2+p.epsDelta, true
	}
	w := 1 / (u + p.mu2)
	eps = p.e0 + p.mu1*v*w
	dEdv = p.mu1 * w
	if !clamped {
		dEdu = -p.mu1 * v * w * w
	}
	return eps, dEdu, dEdv
}

type apTask[T float] struct {
	p                          apParams[T]
	u, v, ut, vt, lap, dn      []T
	gu, gv, gut, gvt, glap, gd []T
	scale, nc                  T
	part                       []T
}

func (t *apTask[T]) run(_, ch int) {
	p := &t.p
	var sum T
	for k := ch * pointChunk; k < min(len(t.u), (ch+1)*pointChunk); k++ {
		u, v := t.u[k], t.v[k]
		ru := t.ut[k] - p.d*t.lap[k] - (p.k*u*(1-u)*(u-p.a) - u*v)
		duU := -p.k*(-3*u*u+2*(1+p.a)*u-p.a) + v
		eps, dEdu, dEdv := p.epsilon(u, v)
		h := -v - p.k*u*(u-p.a-1)
		rv := t.vt[k] - eps*h
		dvU := -dEdu*h + eps*p.k*(2*u-p.a-1)
		dvV := -dEdv*h + eps
		sum += ru*ru + rv*rv
		a, b := 2*t.scale*ru/t.nc, 2*t.scale*rv/t.nc
		t.gu[k] = a*duU + b*dvU
		t.gv[k] = a*u + b*dvV
		t.gut[k] = a
		t.glap[k] = a * -p.d
		t.gvt[k] = b
		if t.dn != nil {
			sum += t.dn[k] * t.dn[k]
			t.gd[k] = 2 * t.scale * t.dn[k] / t.nc
		}
	}
	t.part[ch] = sum
}

func apResidual[T float](c *cpu, p apParams[T], q, g APPoints, scale T, loss View) error {
	t := &opsOf[T](c).ap
	t.p, t.scale = p, scale
	nc := q.U.N
	boundary := q.Dn.N > 0 || g.Dn.N > 0
	dst := []*[]T{&t.u, &t.v, &t.ut, &t.vt, &t.lap, &t.dn, &t.gu, &t.gv, &t.gut, &t.gvt, &t.glap, &t.gd}
	src := [12]View{q.U, q.V, q.Ut, q.Vt, q.Lap, q.Dn, g.U, g.V, g.Ut, g.Vt, g.Lap, g.Dn}
	for k, v := range src {
		*dst[k] = nil
		if (k == 5 || k == 11) && !boundary {
			continue
		}
		if v.N != nc {
			return fmt.Errorf("kernels: cpu: ap residual: operand %d has %d points, want %d", k, v.N, nc)
		}
		x, err := floats[T](c, v, "ap residual")
		if err != nil {
			return err
		}
		*dst[k] = x
	}
	ld, err := floats[T](c, loss, "ap residual loss")
	if err != nil {
		return err
	}
	if len(ld) != 1 {
		return fmt.Errorf("kernels: cpu: ap residual: loss view of %d elements, want 1", len(ld))
	}
	nch := (nc + pointChunk - 1) / pointChunk
	if cap(t.part) < nch {
		t.part = make([]T, nch)
	}
	t.part = t.part[:nch]
	t.nc = T(nc)
	c.run(nch, t)
	var sum T
	for _, v := range t.part {
		sum += v
	}
	ld[0] = 0
	if nc > 0 {
		ld[0] = sum / t.nc
	}
	return nil
}
