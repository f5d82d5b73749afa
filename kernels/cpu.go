package kernels

import (
	"errors"
	"fmt"
	"math"
	"runtime"
)

func init() { Register("cpu", openCPU) }

// cpu is the CPU Backend: buffers in host memory, ops on a pool of
// goroutines (see the package documentation). Its per-type task values
// (ops32, ops64) are reused by every call, which is why a backend is used
// from one goroutine at a time.
type cpu struct {
	pool  *pool
	ops32 cpuOps[float32]
	ops64 cpuOps[float64]
}

// cpuOps holds the reusable parallel tasks and scratch of the ops in one
// floating-point type.
type cpuOps[T float] struct {
	in    inputsTask[T]
	gs    gatherTask[T]
	abt   mulABtTask[T]
	ab    mulABTask[T]
	spmm  spmmTask[T]
	spmmT spmmAdjTask[T]
	td    timeDerivTask[T]
	tdT   timeDerivAdjTask[T]
	ap    apTask[T]
}

func openCPU(opt Options) (Backend, error) {
	w := opt.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	c := &cpu{pool: newPool(w)}
	// The helpers reference only the pool: when the backend is dropped
	// without Close, the cleanup still ends them.
	runtime.AddCleanup(c, func(p *pool) { p.close() }, c.pool)
	return c, nil
}

func (c *cpu) Name() string          { return "cpu" }
func (c *cpu) Supports(d DType) bool { return d == F32 || d == F64 || d == I32 }
func (c *cpu) SyncEvery() int        { return 1 }
func (c *cpu) workers() int          { return c.pool.workers }
func (c *cpu) Close() error          { c.pool.close(); return nil }
func (c *cpu) run(count int, t task) { c.pool.run(count, t) }
func (b *cpuBuf) DType() DType       { return b.dt }
func (b *cpuBuf) Len() int           { return b.n }
func (b *cpuBuf) String() string     { return fmt.Sprintf("cpu %v[%d]", b.dt, b.n) }

// opsOf returns c's tasks of type T.
func opsOf[T float](c *cpu) *cpuOps[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&c.ops32).(*cpuOps[T])
	}
	return any(&c.ops64).(*cpuOps[T])
}

// cpuBuf is a host buffer: one of f32, f64, i32 holds the elements.
type cpuBuf struct {
	dt    DType
	n     int
	f32   []float32
	f64   []float64
	i32   []int32
	owner *cpu
}

var errFreed = errors.New("buffer used after Free")

// Alloc returns a zeroed host buffer.
func (c *cpu) Alloc(d DType, n int) (Buffer, error) {
	b := &cpuBuf{dt: d, n: n, owner: c}
	switch {
	case n < 0:
		return nil, fmt.Errorf("kernels: cpu: alloc %d elements", n)
	case d == F32:
		b.f32 = make([]float32, n)
	case d == F64:
		b.f64 = make([]float64, n)
	case d == I32:
		b.i32 = make([]int32, n)
	default:
		return nil, fmt.Errorf("kernels: cpu: alloc of type %v", d)
	}
	return b, nil
}

// Free drops the buffer's memory.
func (c *cpu) Free(b Buffer) {
	if h, ok := b.(*cpuBuf); ok && h.owner == c {
		h.f32, h.f64, h.i32, h.owner = nil, nil, nil, nil
	}
}

// buf checks that v is a view into a live buffer of this backend.
func (c *cpu) buf(v View, what string) (*cpuBuf, error) {
	b, ok := v.Buf.(*cpuBuf)
	switch {
	case !ok || b == nil:
		return nil, fmt.Errorf("kernels: cpu: %s: buffer %T is not a cpu buffer", what, v.Buf)
	case b.owner == nil:
		return nil, fmt.Errorf("kernels: cpu: %s: %w", what, errFreed)
	case b.owner != c:
		return nil, fmt.Errorf("kernels: cpu: %s: buffer of another cpu backend", what)
	case v.Off < 0 || v.N < 0 || v.Off+v.N > b.n:
		return nil, fmt.Errorf("kernels: cpu: %s: view [%d, %d) of %v", what, v.Off, v.Off+v.N, b)
	}
	return b, nil
}

// floats returns the elements of v, a view of type T.
func floats[T float](c *cpu, v View, what string) ([]T, error) {
	b, err := c.buf(v, what)
	if err != nil {
		return nil, err
	}
	var s any
	switch b.dt {
	case F32:
		s = b.f32
	case F64:
		s = b.f64
	}
	x, ok := s.([]T)
	if !ok {
		var z T
		return nil, fmt.Errorf("kernels: cpu: %s: %v buffer, want %T", what, b.dt, z)
	}
	return x[v.Off : v.Off+v.N], nil
}

// indices returns the elements of v, an I32 view.
func (c *cpu) indices(v View, what string) ([]int32, error) {
	b, err := c.buf(v, what)
	if err != nil {
		return nil, err
	}
	if b.dt != I32 {
		return nil, fmt.Errorf("kernels: cpu: %s: %v buffer, want int32 indices", what, b.dt)
	}
	return b.i32[v.Off : v.Off+v.N], nil
}

// floatType returns the type of v's buffer after checking that it is a
// floating-point buffer of this backend.
func (c *cpu) floatType(v View, what string) (DType, error) {
	b, err := c.buf(v, what)
	if err != nil {
		return 0, err
	}
	if b.dt != F32 && b.dt != F64 {
		return 0, fmt.Errorf("kernels: cpu: %s: %v buffer, want float32 or float64", what, b.dt)
	}
	return b.dt, nil
}

func sameLen(what string, n int, ns ...int) error {
	for _, m := range ns {
		if m != n {
			return fmt.Errorf("kernels: cpu: %s: operands of %d and %d elements", what, n, m)
		}
	}
	return nil
}

// Upload implements Backend.Upload.
func (c *cpu) Upload(dst View, src []float64) error {
	d, err := c.floatType(dst, "upload")
	if err != nil {
		return err
	}
	if err := sameLen("upload", dst.N, len(src)); err != nil {
		return err
	}
	if d == F32 {
		x, _ := floats[float32](c, dst, "upload")
		for k, v := range src {
			x[k] = float32(v)
		}
		return nil
	}
	x, _ := floats[float64](c, dst, "upload")
	copy(x, src)
	return nil
}

// UploadIndex implements Backend.UploadIndex.
func (c *cpu) UploadIndex(dst View, src []int32) error {
	x, err := c.indices(dst, "upload index")
	if err != nil {
		return err
	}
	if err := sameLen("upload index", dst.N, len(src)); err != nil {
		return err
	}
	copy(x, src)
	return nil
}

// Download implements Backend.Download.
func (c *cpu) Download(dst []float64, src View) error {
	d, err := c.floatType(src, "download")
	if err != nil {
		return err
	}
	if err := sameLen("download", src.N, len(dst)); err != nil {
		return err
	}
	if d == F32 {
		x, _ := floats[float32](c, src, "download")
		for k, v := range x {
			dst[k] = float64(v)
		}
		return nil
	}
	x, _ := floats[float64](c, src, "download")
	copy(dst, x)
	return nil
}

// Fill implements Backend.Fill.
func (c *cpu) Fill(dst View, v float64) error {
	d, err := c.floatType(dst, "fill")
	if err != nil {
		return err
	}
	if d == F32 {
		return fill(c, dst, float32(v))
	}
	return fill(c, dst, v)
}

func fill[T float](c *cpu, dst View, v T) error {
	x, err := floats[T](c, dst, "fill")
	if err != nil {
		return err
	}
	for k := range x {
		x[k] = v
	}
	return nil
}

// elementwise checks dst, a (and b when given) as same-length views of one
// floating-point type and returns that type.
func (c *cpu) elementwise(what string, dst View, srcs ...View) (DType, error) {
	d, err := c.floatType(dst, what)
	if err != nil {
		return 0, err
	}
	for _, s := range srcs {
		e, err := c.floatType(s, what)
		if err != nil {
			return 0, err
		}
		if e != d || s.N != dst.N {
			return 0, fmt.Errorf("kernels: cpu: %s: dst %v[%d], operand %v[%d]", what, d, dst.N, e, s.N)
		}
	}
	return d, nil
}

// Copy implements Backend.Copy.
func (c *cpu) Copy(dst, src View) error {
	d, err := c.floatType(dst, "copy")
	if err != nil {
		return err
	}
	e, err := c.floatType(src, "copy")
	if err != nil {
		return err
	}
	if dst.N != src.N {
		return fmt.Errorf("kernels: cpu: copy: dst of %d, src of %d elements", dst.N, src.N)
	}
	switch {
	case d == F32 && e == F32:
		convert[float32, float32](c, dst, src)
	case d == F32:
		convert[float32, float64](c, dst, src)
	case e == F32:
		convert[float64, float32](c, dst, src)
	default:
		convert[float64, float64](c, dst, src)
	}
	return nil
}

// convert sets dst[k] = D(src[k]) on views checked by the caller.
func convert[D, S float](c *cpu, dst, src View) {
	x, _ := floats[D](c, dst, "copy")
	y, _ := floats[S](c, src, "copy")
	if q, ok := any(y).([]D); ok {
		copy(x, q)
		return
	}
	for k, v := range y {
		x[k] = D(v)
	}
}

// Add implements Backend.Add.
func (c *cpu) Add(dst, a, b View) error {
	d, err := c.elementwise("add", dst, a, b)
	if err != nil {
		return err
	}
	if d == F32 {
		add[float32](c, dst, a, b)
	} else {
		add[float64](c, dst, a, b)
	}
	return nil
}

// add and diff run on views checked by elementwise.
func add[T float](c *cpu, dst, a, b View) {
	x, _ := floats[T](c, dst, "add")
	p, _ := floats[T](c, a, "add")
	q, _ := floats[T](c, b, "add")
	for k := range x {
		x[k] = p[k] + q[k]
	}
}

// Diff implements Backend.Diff.
func (c *cpu) Diff(dst, a, b View, den float64) error {
	d, err := c.elementwise("diff", dst, a, b)
	if err != nil {
		return err
	}
	if d == F32 {
		diff(c, dst, a, b, float32(den))
	} else {
		diff(c, dst, a, b, den)
	}
	return nil
}

func diff[T float](c *cpu, dst, a, b View, den T) {
	x, _ := floats[T](c, dst, "diff")
	p, _ := floats[T](c, a, "diff")
	q, _ := floats[T](c, b, "diff")
	for k := range x {
		x[k] = (p[k] - q[k]) / den
	}
}

// AllFinite implements Backend.AllFinite.
func (c *cpu) AllFinite(dst, x View) error {
	d, err := c.floatType(x, "all finite")
	if err != nil {
		return err
	}
	if dst.N != 1 {
		return fmt.Errorf("kernels: cpu: all finite: result view of %d elements, want 1", dst.N)
	}
	if d == F32 {
		return allFinite[float32](c, dst, x)
	}
	return allFinite[float64](c, dst, x)
}

func allFinite[T float](c *cpu, dst, x View) error {
	r, err := floats[T](c, dst, "all finite result")
	if err != nil {
		return err
	}
	v, _ := floats[T](c, x, "all finite")
	r[0] = 1
	for _, e := range v {
		if f := float64(e); math.IsNaN(f) || math.IsInf(f, 0) {
			r[0] = 0
			break
		}
	}
	return nil
}

// GatherRows implements Backend.GatherRows.
func (c *cpu) GatherRows(dst, src Mat, rows View) error {
	return c.rows("gather rows", dst, src, rows, false)
}

// ScatterAddRows implements Backend.ScatterAddRows.
func (c *cpu) ScatterAddRows(dst, src Mat, rows View) error {
	return c.rows("scatter add rows", src, dst, rows, true)
}

// rows gathers rows of grid into pts, or adds them back, converting
// between their types.
func (c *cpu) rows(what string, pts, grid Mat, rows View, scatter bool) error {
	p, err := c.floatType(pts.View, what)
	if err != nil {
		return err
	}
	g, err := c.floatType(grid.View, what)
	if err != nil {
		return err
	}
	if pts.Cols != grid.Cols || rows.N != pts.Rows {
		return fmt.Errorf("kernels: cpu: %s: %dx%d and %dx%d with %d row indices", what, pts.Rows, pts.Cols, grid.Rows, grid.Cols, rows.N)
	}
	switch {
	case p == F32 && g == F32:
		return rowsT[float32, float32](c, what, pts, grid, rows, scatter)
	case p == F32:
		return rowsT[float32, float64](c, what, pts, grid, rows, scatter)
	case g == F32:
		return rowsT[float64, float32](c, what, pts, grid, rows, scatter)
	}
	return rowsT[float64, float64](c, what, pts, grid, rows, scatter)
}

func rowsT[P, G float](c *cpu, what string, pts, grid Mat, rows View, scatter bool) error {
	p, err := floats[P](c, pts.View, what)
	if err != nil {
		return err
	}
	g, err := floats[G](c, grid.View, what)
	if err != nil {
		return err
	}
	ix, err := c.indices(rows, what)
	if err != nil {
		return err
	}
	n := pts.Cols
	for k, r := range ix {
		if r < 0 || int(r) >= grid.Rows {
			return fmt.Errorf("kernels: cpu: %s: row %d outside [0,%d)", what, r, grid.Rows)
		}
		pr, gr := p[k*n:(k+1)*n], g[int(r)*n:(int(r)+1)*n]
		if scatter {
			for i, v := range pr {
				gr[i] += G(v)
			}
			continue
		}
		for i, v := range gr {
			pr[i] = P(v)
		}
	}
	return nil
}

// Adam implements Backend.Adam.
func (c *cpu) Adam(p, g, m, v View, t int, cfg AdamConfig) error {
	d, err := c.elementwise("adam", p, g, m, v)
	if err != nil {
		return err
	}
	if t < 1 {
		return fmt.Errorf("kernels: cpu: adam: step %d, want ≥ 1", t)
	}
	if d == F32 {
		adam[float32](c, p, g, m, v, t, cfg)
	} else {
		adam[float64](c, p, g, m, v, t, cfg)
	}
	return nil
}

func adam[T float](c *cpu, p, g, m, v View, t int, cfg AdamConfig) {
	pd, _ := floats[T](c, p, "adam")
	gd, _ := floats[T](c, g, "adam")
	md, _ := floats[T](c, m, "adam")
	vd, _ := floats[T](c, v, "adam")
	b1, b2, eps := T(cfg.Beta1), T(cfg.Beta2), T(cfg.Eps)
	bc1 := 1 - math.Pow(cfg.Beta1, float64(t))
	bc2 := T(math.Sqrt(1 - math.Pow(cfg.Beta2, float64(t))))
	step := T(cfg.LR / bc1)
	for k := range pd {
		gk := gd[k]
		md[k] = b1*md[k] + (1-b1)*gk
		vd[k] = b2*vd[k] + (1-b2)*gk*gk
		pd[k] -= step * md[k] / (T(math.Sqrt(float64(vd[k])))/bc2 + eps)
	}
}
