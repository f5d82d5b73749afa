package kernels

import "fmt"

// elemChunk is the number of points one task of the index ops (Inputs,
// Gather, ScatterAdd) takes; they write disjoint elements, so the results
// do not depend on the number of workers.
const elemChunk = 4096

// Inputs implements Backend.Inputs over fixed chunks of elemChunk points, in
// parallel. On the whole grid (no point list) a chunk copies runs of
// feature rows.
func (c *cpu) Inputs(x, feat Mat, times, frames, pts View) error {
	d, err := c.elementwise("inputs", x.View)
	if err != nil {
		return err
	}
	if x.Rows != feat.Rows+1 || (pts.N > 0 && pts.N != x.Cols) || feat.Cols == 0 && x.Cols > 0 {
		return fmt.Errorf("kernels: cpu: inputs: x %dx%d, features %dx%d, %d points", x.Rows, x.Cols, feat.Rows, feat.Cols, pts.N)
	}
	if d == F32 {
		return inputs[float32](c, x, feat, times, frames, pts)
	}
	return inputs[float64](c, x, feat, times, frames, pts)
}

type inputsTask[T float] struct {
	x, feat, times []T
	frames, pts    []int32
	n, nf, npts    int
}

func (t *inputsTask[T]) run(_, ch int) {
	k0, k1 := ch*elemChunk, min(t.npts, (ch+1)*elemChunk)
	if t.pts == nil {
		for k := k0; k < k1; {
			r, i := k/t.n, k%t.n
			e := min(k1, (r+1)*t.n)
			for j := range t.nf {
				copy(t.x[j*t.npts+k:j*t.npts+e], t.feat[j*t.n+i:])
			}
			tv := t.times[t.frames[r]]
			row := t.x[t.nf*t.npts+k : t.nf*t.npts+e]
			for p := range row {
				row[p] = tv
			}
			k = e
		}
		return
	}
	for k := k0; k < k1; k++ {
		q := int(t.pts[k])
		i := q % t.n
		for j := range t.nf {
			t.x[j*t.npts+k] = t.feat[j*t.n+i]
		}
		t.x[t.nf*t.npts+k] = t.times[t.frames[q/t.n]]
	}
}

func inputs[T float](c *cpu, x, feat Mat, times, frames, pts View) error {
	t := &opsOf[T](c).in
	var err error
	if t.x, err = floats[T](c, x.View, "inputs x"); err != nil {
		return err
	}
	if t.feat, err = floats[T](c, feat.View, "inputs features"); err != nil {
		return err
	}
	if t.times, err = floats[T](c, times, "inputs times"); err != nil {
		return err
	}
	if t.frames, err = c.indices(frames, "inputs frames"); err != nil {
		return err
	}
	t.pts = nil
	if pts.N > 0 {
		if t.pts, err = c.indices(pts, "inputs points"); err != nil {
			return err
		}
	}
	t.n, t.nf, t.npts = feat.Cols, feat.Rows, x.Cols
	for r, f := range t.frames {
		if f < 0 || int(f) >= len(t.times) {
			return fmt.Errorf("kernels: cpu: inputs: frame %d (row %d) outside %d times", f, r, len(t.times))
		}
	}
	if t.pts == nil && t.npts > len(t.frames)*t.n {
		return fmt.Errorf("kernels: cpu: inputs: %d points on a grid of %d frames x %d nodes", t.npts, len(t.frames), t.n)
	}
	for k, q := range t.pts {
		if q < 0 || int(q) >= len(t.frames)*t.n {
			return fmt.Errorf("kernels: cpu: inputs: point %d: grid index %d outside %d frames x %d nodes", k, q, len(t.frames), t.n)
		}
	}
	c.run((t.npts+elemChunk-1)/elemChunk, t)
	return nil
}

// Gather implements Backend.Gather over fixed chunks of elemChunk points,
// in parallel.
func (c *cpu) Gather(dst, src, idx View) error {
	d, err := c.elementwise("gather", dst)
	if err != nil {
		return err
	}
	if idx.N != dst.N {
		return fmt.Errorf("kernels: cpu: gather: %d indices for %d values", idx.N, dst.N)
	}
	if d == F32 {
		return gatherScatter[float32](c, dst, src, idx, false)
	}
	return gatherScatter[float64](c, dst, src, idx, false)
}

// ScatterAdd implements Backend.ScatterAdd over fixed chunks of elemChunk
// points, in parallel (the indices are distinct, so no two tasks write the
// same element).
func (c *cpu) ScatterAdd(dst, src, idx View) error {
	d, err := c.elementwise("scatter add", dst)
	if err != nil {
		return err
	}
	if idx.N != src.N {
		return fmt.Errorf("kernels: cpu: scatter add: %d indices for %d values", idx.N, src.N)
	}
	if d == F32 {
		return gatherScatter[float32](c, src, dst, idx, true)
	}
	return gatherScatter[float64](c, src, dst, idx, true)
}

// gatherTask sets pts[k] = grid[idx[k]] (gather) or adds pts[k] into
// grid[idx[k]] (scatter).
type gatherTask[T float] struct {
	pts, grid []T
	idx       []int32
	scatter   bool
}

func (t *gatherTask[T]) run(_, ch int) {
	k0, k1 := ch*elemChunk, min(len(t.idx), (ch+1)*elemChunk)
	p, ix := t.pts[k0:k1], t.idx[k0:k1]
	if t.scatter {
		for k, i := range ix {
			t.grid[i] += p[k]
		}
		return
	}
	for k, i := range ix {
		p[k] = t.grid[i]
	}
}

func gatherScatter[T float](c *cpu, pts, grid, idx View, scatter bool) error {
	t := &opsOf[T](c).gs
	var err error
	if t.pts, err = floats[T](c, pts, "gather/scatter points"); err != nil {
		return err
	}
	if t.grid, err = floats[T](c, grid, "gather/scatter grid"); err != nil {
		return err
	}
	if t.idx, err = c.indices(idx, "gather/scatter indices"); err != nil {
		return err
	}
	for k, i := range t.idx {
		if i < 0 || int(i) >= len(t.grid) {
			return fmt.Errorf("kernels: cpu: gather/scatter: index %d at %d outside [0,%d)", i, k, len(t.grid))
		}
	}
	t.scatter = scatter
	c.run((len(t.idx)+elemChunk-1)/elemChunk, t)
	return nil
}
