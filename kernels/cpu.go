package kernels

import (
	"fmt"
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/eandarn/eandarn/solver/sparse"
)

// colBlock is the number of points (columns) one goroutine handles at a
// time in the dense ops: the in x colBlock and out x colBlock tiles stay in
// the L1/L2 cache.
const colBlock = 256

// chunk is the reduction chunk of Sum, Dot and the gradient sums of
// DenseBackward: partial sums over fixed chunks are added in chunk order.
const chunk = 4096

// CPU is the host Backend: float64, buffers in host memory, loops over
// blocks of points on Workers goroutines.
type CPU struct {
	Workers int // goroutines; 0 means runtime.GOMAXPROCS(0)
}

// NewCPU returns a CPU backend using all of GOMAXPROCS.
func NewCPU() *CPU { return &CPU{} }

var _ Backend = (*CPU)(nil)

// HostBuffer is the CPU backend's Buffer: a slice in host memory. Code that
// knows it runs on the CPU backend may use Data directly (no copies).
type HostBuffer struct {
	Data  []float64
	freed bool
}

// Len returns len(Data).
func (b *HostBuffer) Len() int { return len(b.Data) }

func (c *CPU) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// eachRow calls fn(i) for every row i < rows, in blocks of 64 rows spread
// over the workers: the row-parallel loop of SpMM and the stencils.
func (c *CPU) eachRow(rows int, fn func(i int)) {
	const rowsPer = 64
	ParallelFor((rows+rowsPer-1)/rowsPer, c.workers(), func(_, k int) {
		for i := k * rowsPer; i < min((k+1)*rowsPer, rows); i++ {
			fn(i)
		}
	})
}

// Name returns "cpu".
func (c *CPU) Name() string { return "cpu" }

// Alloc returns a zeroed host buffer.
func (c *CPU) Alloc(n int) (Buffer, error) {
	if n < 0 {
		return nil, fmt.Errorf("kernels: cpu: alloc %d values", n)
	}
	return &HostBuffer{Data: make([]float64, n)}, nil
}

// Free drops the buffer's memory.
func (c *CPU) Free(b Buffer) {
	if h, ok := b.(*HostBuffer); ok {
		h.Data, h.freed = nil, true
	}
}

func host(b Buffer, what string, n int) ([]float64, error) {
	h, ok := b.(*HostBuffer)
	switch {
	case !ok || h == nil:
		return nil, fmt.Errorf("kernels: cpu: %s: buffer %T is not a cpu buffer", what, b)
	case h.freed:
		return nil, fmt.Errorf("kernels: cpu: %s: buffer used after Free", what)
	case len(h.Data) < n:
		return nil, fmt.Errorf("kernels: cpu: %s: buffer holds %d values, need %d", what, len(h.Data), n)
	}
	return h.Data, nil
}

func hostMat(m Mat, what string) ([]float64, error) {
	if m.Rows < 0 || m.Cols < 0 {
		return nil, fmt.Errorf("kernels: cpu: %s: shape %dx%d", what, m.Rows, m.Cols)
	}
	return host(m.Buf, fmt.Sprintf("%s (%dx%d)", what, m.Rows, m.Cols), m.Rows*m.Cols)
}

// Upload copies src into dst.
func (c *CPU) Upload(dst Buffer, src []float64) error {
	d, err := host(dst, "upload", len(src))
	if err != nil {
		return err
	}
	copy(d, src)
	return nil
}

// Download copies src into dst.
func (c *CPU) Download(dst []float64, src Buffer) error {
	s, err := host(src, "download", len(dst))
	if err != nil {
		return err
	}
	copy(dst, s)
	return nil
}

// DenseForward implements Backend.DenseForward with MatMul over blocks of
// colBlock points in parallel.
func (c *CPU) DenseForward(y, x Mat, w, b Buffer, act Activation) error {
	in, out, npts := x.Rows, y.Rows, x.Cols
	if y.Cols != npts {
		return fmt.Errorf("kernels: cpu: dense forward: x is %dx%d, y %dx%d", x.Rows, x.Cols, y.Rows, y.Cols)
	}
	xd, err := hostMat(x, "dense forward x")
	if err != nil {
		return err
	}
	yd, err := hostMat(y, "dense forward y")
	if err != nil {
		return err
	}
	wd, err := host(w, "dense forward w", out*in)
	if err != nil {
		return err
	}
	bd, err := host(b, "dense forward b", out)
	if err != nil {
		return err
	}
	nb := (npts + colBlock - 1) / colBlock
	ParallelFor(nb, c.workers(), func(_, k int) {
		c0 := k * colBlock
		nc := min(colBlock, npts-c0)
		MatMul(out, in, nc, wd, xd[c0:], npts, yd[c0:], npts)
		for i := range out {
			row := yd[i*npts+c0 : i*npts+c0+nc]
			if act == Tanh {
				TanhBias(row, bd[i])
				continue
			}
			for p := range row {
				row[p] = activate(row[p]+bd[i], act)
			}
		}
	})
	return nil
}

func activate(z float64, act Activation) float64 {
	switch act {
	case Tanh:
		return math.Tanh(z) // the CPU ops use TanhBias; this is the tests' reference
	case Sigmoid:
		return 1 / (1 + math.Exp(-z))
	}
	return z
}

// derivative returns act'(z) in terms of a = act(z).
func derivative(a float64, act Activation) float64 {
	switch act {
	case Tanh:
		return 1 - a*a
	case Sigmoid:
		return a * (1 - a)
	}
	return 1
}

// DenseBackward implements Backend.DenseBackward. Weight and bias sums are
// taken per chunk of points (chunk/colBlock blocks) and the chunk partials
// added in order, so the result does not depend on Workers.
func (c *CPU) DenseBackward(gx, gy, x, y Mat, w, gw, gb Buffer, act Activation) error {
	in, out, npts := x.Rows, y.Rows, x.Cols
	if y.Cols != npts || gy.Rows != out || gy.Cols != npts {
		return fmt.Errorf("kernels: cpu: dense backward: x %dx%d, y %dx%d, gy %dx%d", x.Rows, x.Cols, y.Rows, y.Cols, gy.Rows, gy.Cols)
	}
	xd, err := hostMat(x, "dense backward x")
	if err != nil {
		return err
	}
	yd, err := hostMat(y, "dense backward y")
	if err != nil {
		return err
	}
	gyd, err := hostMat(gy, "dense backward gy")
	if err != nil {
		return err
	}
	wd, err := host(w, "dense backward w", out*in)
	if err != nil {
		return err
	}
	gwd, err := host(gw, "dense backward gw", out*in)
	if err != nil {
		return err
	}
	gbd, err := host(gb, "dense backward gb", out)
	if err != nil {
		return err
	}
	var gxd []float64
	if gx.Buf != nil {
		if gx.Rows != in || gx.Cols != npts {
			return fmt.Errorf("kernels: cpu: dense backward: gx is %dx%d, want %dx%d", gx.Rows, gx.Cols, in, npts)
		}
		if gxd, err = hostMat(gx, "dense backward gx"); err != nil {
			return err
		}
	}
	nchunks := (npts + chunk - 1) / chunk
	np := out*in + out
	part := make([]float64, nchunks*np)
	ParallelFor(nchunks, c.workers(), func(_, k int) {
		pw := part[k*np : k*np+out*in]
		pb := part[k*np+out*in : (k+1)*np]
		for c0 := k * chunk; c0 < min((k+1)*chunk, npts); c0 += colBlock {
			nc := min(colBlock, npts-c0)
			for i := range out {
				g := gyd[i*npts+c0 : i*npts+c0+nc]
				a := yd[i*npts+c0 : i*npts+c0+nc]
				for p := range g {
					g[p] *= derivative(a[p], act)
				}
			}
			OuterAcc(out, in, nc, gyd[c0:], npts, xd[c0:], npts, pw)
			RowSumAcc(out, nc, gyd[c0:], npts, pb)
			if gxd != nil {
				MatMulT(out, in, nc, wd, gyd[c0:], npts, gxd[c0:], npts)
			}
		}
	})
	for k := range nchunks {
		p := part[k*np : (k+1)*np]
		for i := range out * in {
			gwd[i] += p[i]
		}
		for i := range out {
			gbd[i] += p[out*in+i]
		}
	}
	return nil
}

// Activate implements Backend.Activate.
func (c *CPU) Activate(dst, src Buffer, n int, act Activation) error {
	d, err := host(dst, "activate dst", n)
	if err != nil {
		return err
	}
	s, err := host(src, "activate src", n)
	if err != nil {
		return err
	}
	if act == Tanh {
		copy(d[:n], s[:n])
		TanhBias(d[:n], 0)
		return nil
	}
	for k := range n {
		d[k] = activate(s[k], act)
	}
	return nil
}

type cpuCSR struct{ a *sparse.CSR }

func (m cpuCSR) Dims() (int, int) { return m.a.Rows, m.a.Cols }

// NewCSR validates a and keeps a reference to it (no copy: a must not be
// modified while in use).
func (c *CPU) NewCSR(a *sparse.CSR) (CSR, error) {
	if a == nil || len(a.RowPtr) != a.Rows+1 || a.RowPtr[a.Rows] != len(a.ColIdx) || len(a.ColIdx) != len(a.Val) {
		return nil, fmt.Errorf("kernels: cpu: new csr: inconsistent CSR arrays")
	}
	for _, j := range a.ColIdx {
		if j < 0 || j >= a.Cols {
			return nil, fmt.Errorf("kernels: cpu: new csr: column %d outside [0,%d)", j, a.Cols)
		}
	}
	return cpuCSR{a}, nil
}

// SpMM implements Backend.SpMM, rows in parallel.
func (c *CPU) SpMM(dst Mat, a CSR, x Mat) error {
	m, ok := a.(cpuCSR)
	if !ok {
		return fmt.Errorf("kernels: cpu: spmm: matrix %T is not a cpu CSR", a)
	}
	if x.Rows != m.a.Cols || dst.Rows != m.a.Rows || dst.Cols != x.Cols {
		return fmt.Errorf("kernels: cpu: spmm: A %dx%d, x %dx%d, dst %dx%d", m.a.Rows, m.a.Cols, x.Rows, x.Cols, dst.Rows, dst.Cols)
	}
	xd, err := hostMat(x, "spmm x")
	if err != nil {
		return err
	}
	dd, err := hostMat(dst, "spmm dst")
	if err != nil {
		return err
	}
	nc := x.Cols
	c.eachRow(m.a.Rows, func(i int) {
		row := dd[i*nc : (i+1)*nc]
		clear(row)
		for e := m.a.RowPtr[i]; e < m.a.RowPtr[i+1]; e++ {
			v, xr := m.a.Val[e], xd[m.a.ColIdx[e]*nc:(m.a.ColIdx[e]+1)*nc]
			for t := range row {
				row[t] += v * xr[t]
			}
		}
	})
	return nil
}

type cpuStencil struct {
	start []int
	w     [][5]float64
}

func (s *cpuStencil) Frames() int { return len(s.start) }

// NewStencil copies and validates the stencil.
func (c *CPU) NewStencil(start []int, w [][5]float64) (Stencil, error) {
	T := len(start)
	if len(w) != T || T == 0 {
		return nil, fmt.Errorf("kernels: cpu: new stencil: %d starts, %d weight rows", T, len(w))
	}
	for t, s := range start {
		if s < 0 || s+5 > T {
			return nil, fmt.Errorf("kernels: cpu: new stencil: frame %d reads frames %d…%d of %d", t, s, s+4, T)
		}
	}
	return &cpuStencil{start: append([]int(nil), start...), w: append([][5]float64(nil), w...)}, nil
}

// stencilOperands checks that dst and src are rows x T for the T frames
// of s (a cpu stencil) and returns the stencil and both host slices; op
// ("stencil" or "stencil adjoint") and srcName name them in errors.
func stencilOperands(dst, src Mat, s Stencil, op, srcName string) (*cpuStencil, []float64, []float64, error) {
	st, ok := s.(*cpuStencil)
	if !ok {
		return nil, nil, nil, fmt.Errorf("kernels: cpu: %s: %T is not a cpu stencil", op, s)
	}
	T := len(st.start)
	if src.Cols != T || dst.Cols != T || dst.Rows != src.Rows {
		return nil, nil, nil, fmt.Errorf("kernels: cpu: %s over %d frames: %s %dx%d, dst %dx%d", op, T, srcName, src.Rows, src.Cols, dst.Rows, dst.Cols)
	}
	sd, err := hostMat(src, op+" "+srcName)
	if err != nil {
		return nil, nil, nil, err
	}
	dd, err := hostMat(dst, op+" dst")
	if err != nil {
		return nil, nil, nil, err
	}
	return st, sd, dd, nil
}

// ApplyStencil implements Backend.ApplyStencil, rows in parallel.
func (c *CPU) ApplyStencil(dst, u Mat, s Stencil, scale float64) error {
	st, ud, dd, err := stencilOperands(dst, u, s, "stencil", "u")
	if err != nil {
		return err
	}
	T := len(st.start)
	c.eachRow(u.Rows, func(i int) {
		ur, dr := ud[i*T:(i+1)*T], dd[i*T:(i+1)*T]
		for t := range T {
			w, v := &st.w[t], ur[st.start[t]:st.start[t]+5]
			dr[t] = scale * (w[0]*v[0] + w[1]*v[1] + w[2]*v[2] + w[3]*v[3] + w[4]*v[4])
		}
	})
	return nil
}

// ApplyStencilT implements Backend.ApplyStencilT, rows in parallel.
func (c *CPU) ApplyStencilT(dst, g Mat, s Stencil, scale float64) error {
	st, gd, dd, err := stencilOperands(dst, g, s, "stencil adjoint", "g")
	if err != nil {
		return err
	}
	T := len(st.start)
	c.eachRow(g.Rows, func(i int) {
		gr, dr := gd[i*T:(i+1)*T], dd[i*T:(i+1)*T]
		clear(dr)
		for t, v := range gr {
			w, d := &st.w[t], dr[st.start[t]:st.start[t]+5]
			v *= scale
			d[0] += w[0] * v
			d[1] += w[1] * v
			d[2] += w[2] * v
			d[3] += w[3] * v
			d[4] += w[4] * v
		}
	})
	return nil
}

// Gemm implements Backend.Gemm with gonum's blas64.Gemm.
func (c *CPU) Gemm(transA, transB bool, alpha float64, a, b Mat, beta float64, cm Mat) error {
	ar, ac, br, bc := a.Rows, a.Cols, b.Rows, b.Cols
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ar, ac, ta = ac, ar, blas.Trans
	}
	if transB {
		br, bc, tb = bc, br, blas.Trans
	}
	if ac != br || cm.Rows != ar || cm.Cols != bc {
		return fmt.Errorf("kernels: cpu: gemm: op(a) %dx%d, op(b) %dx%d, c %dx%d", ar, ac, br, bc, cm.Rows, cm.Cols)
	}
	ad, err := hostMat(a, "gemm a")
	if err != nil {
		return err
	}
	bd, err := hostMat(b, "gemm b")
	if err != nil {
		return err
	}
	cd, err := hostMat(cm, "gemm c")
	if err != nil {
		return err
	}
	blas64.Gemm(ta, tb, alpha,
		blas64.General{Rows: a.Rows, Cols: a.Cols, Stride: max(a.Cols, 1), Data: ad},
		blas64.General{Rows: b.Rows, Cols: b.Cols, Stride: max(b.Cols, 1), Data: bd},
		beta, blas64.General{Rows: cm.Rows, Cols: cm.Cols, Stride: max(cm.Cols, 1), Data: cd})
	return nil
}

// Sum implements Backend.Sum.
func (c *CPU) Sum(x Buffer, n int) (float64, error) {
	xd, err := host(x, "sum", n)
	if err != nil {
		return 0, err
	}
	return c.chunked(n, func(lo, hi int) float64 {
		var s float64
		for _, v := range xd[lo:hi] {
			s += v
		}
		return s
	}), nil
}

// Dot implements Backend.Dot.
func (c *CPU) Dot(x, y Buffer, n int) (float64, error) {
	xd, err := host(x, "dot x", n)
	if err != nil {
		return 0, err
	}
	yd, err := host(y, "dot y", n)
	if err != nil {
		return 0, err
	}
	return c.chunked(n, func(lo, hi int) float64 {
		var s float64
		for k := lo; k < hi; k++ {
			s += xd[k] * yd[k]
		}
		return s
	}), nil
}

// chunked sums f over fixed chunks of [0, n), adding the partials in order.
func (c *CPU) chunked(n int, f func(lo, hi int) float64) float64 {
	nch := (n + chunk - 1) / chunk
	part := make([]float64, nch)
	ParallelFor(nch, c.workers(), func(_, k int) {
		part[k] = f(k*chunk, min((k+1)*chunk, n))
	})
	var s float64
	for _, v := range part {
		s += v
	}
	return s
}

// Adam implements Backend.Adam.
func (c *CPU) Adam(p, g, m, v Buffer, n, t int, cfg AdamConfig) error {
	if t < 1 {
		return fmt.Errorf("kernels: cpu: adam: step %d, want ≥ 1", t)
	}
	pd, err := host(p, "adam p", n)
	if err != nil {
		return err
	}
	gd, err := host(g, "adam g", n)
	if err != nil {
		return err
	}
	md, err := host(m, "adam m", n)
	if err != nil {
		return err
	}
	vd, err := host(v, "adam v", n)
	if err != nil {
		return err
	}
	bc1 := 1 - math.Pow(cfg.Beta1, float64(t))
	bc2 := math.Sqrt(1 - math.Pow(cfg.Beta2, float64(t)))
	step := cfg.LR / bc1
	for k := range n {
		gk := gd[k]
		md[k] = cfg.Beta1*md[k] + (1-cfg.Beta1)*gk
		vd[k] = cfg.Beta2*vd[k] + (1-cfg.Beta2)*gk*gk
		pd[k] -= step * md[k] / (math.Sqrt(vd[k])/bc2 + cfg.Eps)
	}
	return nil
}
