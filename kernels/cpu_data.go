package kernels

import "fmt"

// rowChunk is the number of rows of a (MulABt) or columns of b (MulAB) one
// task of the data products takes: the tasks are fixed, so the sums do not
// depend on the number of workers.
const rowChunk = 32

// MulABt implements Backend.MulABt: outerAcc (dot products over the n
// columns, in the fixed order of the dense kernels) over chunks of rowChunk
// rows of a, in parallel.
func (c *cpu) MulABt(cm, a, b Mat) error {
	d, err := c.elementwise("mul a bᵀ", cm.View)
	if err != nil {
		return err
	}
	if a.Cols != b.Cols || cm.Rows != a.Rows || cm.Cols != b.Rows {
		return fmt.Errorf("kernels: cpu: mul a bᵀ: a %dx%d, b %dx%d, c %dx%d", a.Rows, a.Cols, b.Rows, b.Cols, cm.Rows, cm.Cols)
	}
	if d == F32 {
		return mulABt[float32](c, cm, a, b)
	}
	return mulABt[float64](c, cm, a, b)
}

type mulABtTask[T float] struct {
	c, a, b []T
	m, n, k int
}

func (t *mulABtTask[T]) run(_, ch int) {
	i0, i1 := ch*rowChunk, min(t.m, (ch+1)*rowChunk)
	outerAcc(i1-i0, t.k, t.n, t.a[i0*t.n:], t.n, t.b, t.n, t.c[i0*t.k:])
}

func mulABt[T float](c *cpu, cm, a, b Mat) error {
	t := &opsOf[T](c).abt
	var err error
	if t.c, err = floats[T](c, cm.View, "mul a bᵀ c"); err != nil {
		return err
	}
	if t.a, err = floats[T](c, a.View, "mul a bᵀ a"); err != nil {
		return err
	}
	if t.b, err = floats[T](c, b.View, "mul a bᵀ b"); err != nil {
		return err
	}
	t.m, t.n, t.k = a.Rows, a.Cols, b.Rows
	clear(t.c)
	if len(t.c) == 0 {
		return nil
	}
	c.run((t.m+rowChunk-1)/rowChunk, t)
	return nil
}

// MulAB implements Backend.MulAB: matMul over chunks of rowChunk columns of
// b, in parallel.
func (c *cpu) MulAB(cm, a, b Mat) error {
	d, err := c.elementwise("mul a b", cm.View)
	if err != nil {
		return err
	}
	if a.Cols != b.Rows || cm.Rows != a.Rows || cm.Cols != b.Cols {
		return fmt.Errorf("kernels: cpu: mul a b: a %dx%d, b %dx%d, c %dx%d", a.Rows, a.Cols, b.Rows, b.Cols, cm.Rows, cm.Cols)
	}
	if d == F32 {
		return mulAB[float32](c, cm, a, b)
	}
	return mulAB[float64](c, cm, a, b)
}

type mulABTask[T float] struct {
	c, a, b           []T
	rows, inner, cols int
}

func (t *mulABTask[T]) run(_, ch int) {
	j0, j1 := ch*rowChunk, min(t.cols, (ch+1)*rowChunk)
	matMul(t.rows, t.inner, j1-j0, t.a, t.b[j0:], t.cols, t.c[j0:], t.cols)
}

func mulAB[T float](c *cpu, cm, a, b Mat) error {
	t := &opsOf[T](c).ab
	var err error
	if t.c, err = floats[T](c, cm.View, "mul a b c"); err != nil {
		return err
	}
	if t.a, err = floats[T](c, a.View, "mul a b a"); err != nil {
		return err
	}
	if t.b, err = floats[T](c, b.View, "mul a b b"); err != nil {
		return err
	}
	t.rows, t.inner, t.cols = a.Rows, a.Cols, b.Cols
	if t.inner == 0 || len(t.c) == 0 {
		clear(t.c)
		return nil
	}
	c.run((t.cols+rowChunk-1)/rowChunk, t)
	return nil
}

// DataLoss implements Backend.DataLoss (serial: B·m terms).
func (c *cpu) DataLoss(e, et, y Mat, frames View, scale float64, loss View) error {
	d, err := c.elementwise("data loss", e.View)
	if err != nil {
		return err
	}
	m, B := et.Rows, et.Cols
	if e.Rows != B || e.Cols != m || y.Cols != m || frames.N != B || loss.N != 1 {
		return fmt.Errorf("kernels: cpu: data loss: e %dx%d, et %dx%d, y %dx%d, %d frames, loss of %d", e.Rows, e.Cols, m, B, y.Rows, y.Cols, frames.N, loss.N)
	}
	if d == F32 {
		return dataLoss(c, e, et, y, frames, float32(scale), loss)
	}
	return dataLoss[float64](c, e, et, y, frames, scale, loss)
}

func dataLoss[T float](c *cpu, e, et, y Mat, frames View, scale T, loss View) error {
	ed, err := floats[T](c, e.View, "data loss e")
	if err != nil {
		return err
	}
	etd, err := floats[T](c, et.View, "data loss et")
	if err != nil {
		return err
	}
	yd, err := floats[T](c, y.View, "data loss y")
	if err != nil {
		return err
	}
	ld, err := floats[T](c, loss, "data loss result")
	if err != nil {
		return err
	}
	fr, err := c.indices(frames, "data loss frames")
	if err != nil {
		return err
	}
	m, B := et.Rows, et.Cols
	N := T(m * B)
	var s T
	for k, t := range fr {
		if t < 0 || int(t) >= y.Rows {
			return fmt.Errorf("kernels: cpu: data loss: frame %d outside [0,%d)", t, y.Rows)
		}
		yt := yd[int(t)*m : (int(t)+1)*m]
		for i := range m {
			v := etd[i*B+k] - yt[i]
			s += v * v
			ed[k*m+i] = 2 * scale / N * v
		}
	}
	ld[0] = 0
	if N > 0 {
		ld[0] = s / N
	}
	return nil
}
