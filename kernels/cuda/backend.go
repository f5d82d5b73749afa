package cuda

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/kernels"
)

// Backend is kernels.Backend on a Device: one Go implementation for the GPU
// (registered as "cuda" in the -tags cuda build) and for the CPU emulator of
// the same kernels (the tests' "emulator"). Data are float32 on the device
// (indices int32); float64 is not supported, so a training step runs in
// float32. Every op is one or a few kernel launches that stay on the
// device; Upload, UploadIndex and Download are the only copies.
type Backend struct {
	name string
	dev  Device

	stage []float32 // host staging of Upload and Download
	sq    scratch   // per-term squares of a loss (double)
	part  scratch   // block sums of a loss (double)
}

var _ kernels.Backend = (*Backend)(nil)

// syncEvery is how many training steps the trainer may issue between reads
// of their losses: each read waits for the device to finish the steps before
// it.
const syncEvery = 16

// NewBackend returns the backend of d, registered as name.
func NewBackend(name string, d Device) *Backend { return &Backend{name: name, dev: d} }

// Name returns the name the backend is registered under.
func (be *Backend) Name() string { return be.name }

// Supports reports float32 and int32: the device holds no float64 data.
func (be *Backend) Supports(d kernels.DType) bool { return d == kernels.F32 || d == kernels.I32 }

// SyncEvery returns how many steps may pass between reads of the losses.
func (be *Backend) SyncEvery() int { return syncEvery }

// Close releases the device and everything on it.
func (be *Backend) Close() error {
	be.sq.free(be.dev)
	be.part.free(be.dev)
	return be.dev.Close()
}

// buffer is a Buffer of the backend: n elements of 4 bytes at p.
type buffer struct {
	be    *Backend
	p     Ptr
	dt    kernels.DType
	n     int
	freed bool
}

func (b *buffer) DType() kernels.DType { return b.dt }
func (b *buffer) Len() int             { return b.n }

// Alloc returns n zeroed elements of type d (float32 or int32).
func (be *Backend) Alloc(d kernels.DType, n int) (kernels.Buffer, error) {
	if !be.Supports(d) || n < 0 {
		return nil, fmt.Errorf("kernels: %s: alloc %d values of %v (this backend holds float32 and int32)", be.name, n, d)
	}
	p, err := be.dev.Alloc(4 * n)
	if err != nil {
		return nil, fmt.Errorf("kernels: %s: %w", be.name, err)
	}
	return &buffer{be: be, p: p, dt: d, n: n}, nil
}

// Free releases b.
func (be *Backend) Free(b kernels.Buffer) {
	if x, ok := b.(*buffer); ok && x.be == be && !x.freed {
		be.dev.Free(x.p)
		x.freed = true
	}
}

// at returns the device address of v after checking that it is a live view
// of this backend of type d (any type when d is 0) with n elements (any
// count when n < 0).
func (be *Backend) at(v kernels.View, d kernels.DType, n int, what string) (Ptr, error) {
	b, ok := v.Buf.(*buffer)
	switch {
	case !ok || b == nil || b.be != be:
		return 0, fmt.Errorf("kernels: %s: %s: buffer %T is not one of this backend", be.name, what, v.Buf)
	case b.freed:
		return 0, fmt.Errorf("kernels: %s: %s: buffer used after Free", be.name, what)
	case d != 0 && b.dt != d:
		return 0, fmt.Errorf("kernels: %s: %s: %v buffer, want %v", be.name, what, b.dt, d)
	case v.Off < 0 || v.N < 0 || v.Off+v.N > b.n:
		return 0, fmt.Errorf("kernels: %s: %s: view [%d, %d) of %d elements", be.name, what, v.Off, v.Off+v.N, b.n)
	case n >= 0 && v.N != n:
		return 0, fmt.Errorf("kernels: %s: %s: %d elements, want %d", be.name, what, v.N, n)
	}
	return b.p + Ptr(4*v.Off), nil
}

// mat returns the address of a rows x cols float32 matrix.
func (be *Backend) mat(m kernels.Mat, rows, cols int, what string) (Ptr, error) {
	if m.Rows != rows || m.Cols != cols {
		return 0, fmt.Errorf("kernels: %s: %s is %dx%d, want %dx%d", be.name, what, m.Rows, m.Cols, rows, cols)
	}
	return be.at(m.View, kernels.F32, rows*cols, what)
}

// stage32 returns a host float32 slice of n elements (reused).
func (be *Backend) stage32(n int) []float32 {
	if cap(be.stage) < n {
		be.stage = make([]float32, n)
	}
	return be.stage[:n]
}

// Upload copies src, rounded to float32, into dst.
func (be *Backend) Upload(dst kernels.View, src []float64) error {
	p, err := be.at(dst, kernels.F32, len(src), "upload")
	if err != nil {
		return err
	}
	s := be.stage32(len(src))
	for i, v := range src {
		s[i] = float32(v)
	}
	return Put(be.dev, p, s)
}

// UploadIndex copies src into the int32 view dst.
func (be *Backend) UploadIndex(dst kernels.View, src []int32) error {
	p, err := be.at(dst, kernels.I32, len(src), "upload index")
	if err != nil {
		return err
	}
	return Put(be.dev, p, src)
}

// Download copies src into dst, converted to float64; it waits for the
// launches before it.
func (be *Backend) Download(dst []float64, src kernels.View) error {
	p, err := be.at(src, 0, len(dst), "download")
	if err != nil {
		return err
	}
	s := be.stage32(len(dst))
	if err := Get(be.dev, s, p); err != nil {
		return err
	}
	if src.DType() == kernels.I32 {
		for i, v := range s { // the staging holds the int32 bits
			dst[i] = float64(int32(math.Float32bits(v)))
		}
		return nil
	}
	for i, v := range s {
		dst[i] = float64(v)
	}
	return nil
}

// The launch geometry of the grid-stride kernels: blocks of elementwise
// threads, at most maxGrid blocks (the loop covers the rest).
const elementwise, maxGrid = 256, 4096

func blocks(n, per int) int { return max((n+per-1)/per, 1) }

// each launches a grid-stride kernel over n elements (nothing when n = 0).
func (be *Backend) each(kernel string, n int, args ...Arg) error {
	if n == 0 {
		return nil
	}
	return be.dev.Launch(kernel, Dim{X: min(blocks(n, elementwise), maxGrid)}, Dim{X: elementwise}, 0, args)
}

// Fill sets dst to v.
func (be *Backend) Fill(dst kernels.View, v float64) error {
	p, err := be.at(dst, kernels.F32, -1, "fill")
	if err != nil {
		return err
	}
	return be.each("fill_f32", dst.N, P(p), I(dst.N), F(v))
}

// Copy sets dst = src.
func (be *Backend) Copy(dst, src kernels.View) error {
	d, err := be.at(dst, kernels.F32, -1, "copy dst")
	if err != nil {
		return err
	}
	s, err := be.at(src, kernels.F32, dst.N, "copy src")
	if err != nil {
		return err
	}
	return be.each("copy_f32", dst.N, P(d), P(s), I(dst.N))
}

// Add sets dst = a + b.
func (be *Backend) Add(dst, a, b kernels.View) error {
	ps, err := be.views("add", dst, a, b)
	if err != nil {
		return err
	}
	return be.each("add_f32", dst.N, P(ps[0]), P(ps[1]), P(ps[2]), I(dst.N))
}

// Diff sets dst = (a − b)/d.
func (be *Backend) Diff(dst, a, b kernels.View, d float64) error {
	ps, err := be.views("diff", dst, a, b)
	if err != nil {
		return err
	}
	return be.each("diff_f32", dst.N, P(ps[0]), P(ps[1]), P(ps[2]), I(dst.N), F(d))
}

// views returns the addresses of float32 views of one length.
func (be *Backend) views(what string, vs ...kernels.View) ([]Ptr, error) {
	ps := make([]Ptr, len(vs))
	for i, v := range vs {
		p, err := be.at(v, kernels.F32, vs[0].N, fmt.Sprintf("%s operand %d", what, i))
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return ps, nil
}

// AllFinite sets dst[0] to 1 when every x[k] is finite, else 0.
func (be *Backend) AllFinite(dst, x kernels.View) error {
	d, err := be.at(dst, kernels.F32, 1, "all finite dst")
	if err != nil {
		return err
	}
	p, err := be.at(x, kernels.F32, -1, "all finite x")
	if err != nil {
		return err
	}
	if err := be.each("fill_f32", 1, P(d), I(1), F(1)); err != nil {
		return err
	}
	return be.each("not_finite_f32", x.N, P(p), I(x.N), P(d))
}

// Inputs assembles the network inputs of points of the nodes x frames grid.
func (be *Backend) Inputs(x, feat kernels.Mat, times, frames, pts kernels.View) error {
	F, n, npts := feat.Rows, feat.Cols, x.Cols
	if x.Rows != F+1 {
		return fmt.Errorf("kernels: %s: inputs: x has %d rows for %d features + time", be.name, x.Rows, F)
	}
	px, err := be.mat(x, F+1, npts, "inputs x")
	if err != nil {
		return err
	}
	pf, err := be.mat(feat, F, n, "inputs features")
	if err != nil {
		return err
	}
	pt, err := be.at(times, kernels.F32, -1, "inputs times")
	if err != nil {
		return err
	}
	pfr, err := be.at(frames, kernels.I32, -1, "inputs frames")
	if err != nil {
		return err
	}
	var pp Ptr
	if pts.N > 0 {
		if pp, err = be.at(pts, kernels.I32, npts, "inputs points"); err != nil {
			return err
		}
	} else if npts != frames.N*n {
		return fmt.Errorf("kernels: %s: inputs: %d points, want %d frames x %d nodes", be.name, npts, frames.N, n)
	}
	return be.each("inputs_f32", npts, P(px), I(npts), P(pf), I(n), I(F), P(pt), P(pfr), P(pp))
}

// Gather sets dst[k] = src[idx[k]].
func (be *Backend) Gather(dst, src, idx kernels.View) error {
	return be.indexed("gather_f32", dst, src, idx, dst.N)
}

// ScatterAdd adds src[k] into dst[idx[k]] (distinct indices).
func (be *Backend) ScatterAdd(dst, src, idx kernels.View) error {
	return be.indexed("scatter_add_f32", dst, src, idx, src.N)
}

func (be *Backend) indexed(kernel string, dst, src, idx kernels.View, n int) error {
	d, err := be.at(dst, kernels.F32, -1, kernel+" dst")
	if err != nil {
		return err
	}
	s, err := be.at(src, kernels.F32, -1, kernel+" src")
	if err != nil {
		return err
	}
	i, err := be.at(idx, kernels.I32, n, kernel+" indices")
	if err != nil {
		return err
	}
	return be.each(kernel, n, P(d), P(s), P(i), I(n))
}

// GatherRows sets row k of dst to row rows[k] of src.
func (be *Backend) GatherRows(dst, src kernels.Mat, rows kernels.View) error {
	return be.rows("gather_rows_f32", dst, src, rows, dst.Rows)
}

// ScatterAddRows adds row k of src into row rows[k] of dst (distinct rows).
func (be *Backend) ScatterAddRows(dst, src kernels.Mat, rows kernels.View) error {
	return be.rows("scatter_add_rows_f32", dst, src, rows, src.Rows)
}

func (be *Backend) rows(kernel string, dst, src kernels.Mat, rows kernels.View, B int) error {
	if dst.Cols != src.Cols {
		return fmt.Errorf("kernels: %s: %s: %d and %d columns", be.name, kernel, dst.Cols, src.Cols)
	}
	d, err := be.mat(dst, dst.Rows, dst.Cols, kernel+" dst")
	if err != nil {
		return err
	}
	s, err := be.mat(src, src.Rows, src.Cols, kernel+" src")
	if err != nil {
		return err
	}
	r, err := be.at(rows, kernels.I32, B, kernel+" rows")
	if err != nil {
		return err
	}
	return be.each(kernel, B*dst.Cols, P(d), P(s), P(r), I(B), I(dst.Cols))
}

// product checks c = a·op(b) with op(b) = bᵀ (transB) or b and returns
// the addresses and M x N x K.
func (be *Backend) product(c, a, b kernels.Mat, transB bool, what string) (pc, pa, pb Ptr, M, N, K int, err error) {
	M, K = a.Rows, a.Cols
	N, bk := b.Cols, b.Rows
	if transB {
		N, bk = b.Rows, b.Cols
	}
	if bk != K || c.Rows != M || c.Cols != N {
		err = fmt.Errorf("kernels: %s: %s: a %dx%d, b %dx%d, c %dx%d", be.name, what, a.Rows, a.Cols, b.Rows, b.Cols, c.Rows, c.Cols)
		return
	}
	if pa, err = be.mat(a, a.Rows, a.Cols, what+" a"); err != nil {
		return
	}
	if pb, err = be.mat(b, b.Rows, b.Cols, what+" b"); err != nil {
		return
	}
	pc, err = be.mat(c, M, N, what+" c")
	return
}

// Launch geometry of gemm.cu: GEMM_TILE, and ABT_COLS and ABT_BS of
// mul_abt_f32.
const gemmTile, abtCols, abtBlock = 16, 8, 128

// MulABt sets c = a bᵀ (mul_abt_f32: one block per row of c and 8 columns).
func (be *Backend) MulABt(c, a, b kernels.Mat) error {
	pc, pa, pb, M, N, K, err := be.product(c, a, b, true, "a bᵀ")
	if err != nil || M == 0 || N == 0 {
		return err
	}
	if M > 65535 {
		return fmt.Errorf("kernels: %s: a bᵀ with %d rows, at most 65535", be.name, M)
	}
	return be.dev.Launch("mul_abt_f32", Dim{X: blocks(N, abtCols), Y: M}, Dim{X: abtBlock}, 0,
		Args(I(M), I(N), I(K), P(pa), P(pb), P(pc)))
}

// MulAB sets c = a b (gemm_f32, tiled).
func (be *Backend) MulAB(c, a, b kernels.Mat) error {
	pc, pa, pb, M, N, K, err := be.product(c, a, b, false, "a b")
	if err != nil || M == 0 || N == 0 {
		return err
	}
	if blocks(M, gemmTile) > 65535 {
		return fmt.Errorf("kernels: %s: a b with %d rows, at most %d", be.name, M, 65535*gemmTile)
	}
	return be.dev.Launch("gemm_f32", Dim{X: blocks(N, gemmTile), Y: blocks(M, gemmTile)}, Dim{X: gemmTile, Y: gemmTile}, 0,
		Args(I(M), I(N), I(K), P(pa), P(pb), P(pc)))
}

// lossSum sets loss[0] = scale · Σ_{k<n} sq[k] (the double squares in be.sq)
// with the deterministic two-level sum of reduce.cu; 0 when n = 0.
func (be *Backend) lossSum(n int, scale float64, loss Ptr) error {
	if n == 0 {
		return be.each("fill_f32", 1, P(loss), I(1), F(0))
	}
	nb := blocks(n, sumChunk)
	if err := be.part.ensure(be.dev, 8*nb); err != nil {
		return fmt.Errorf("kernels: %s: loss sum: %w", be.name, err)
	}
	if err := be.dev.Launch("sum_partial_f64", Dim{X: nb}, Dim{X: sumBlock}, 0, Args(P(be.sq.p), I(n), I(sumChunk), P(be.part.p))); err != nil {
		return err
	}
	return be.dev.Launch("sum_final_f32", Dim{X: 1}, Dim{X: sumBlock}, 0, Args(P(be.part.p), I(nb), F(scale), P(loss)))
}

// sumChunk and sumBlock fix the reduction tree of the loss sums: chunks of
// sumChunk terms, sumBlock threads per block. Constants, so the bits of a
// sum depend on its terms only.
const sumChunk, sumBlock = 4096, 256

// DataLoss is L_D of Eq. 5 and its adjoint.
func (be *Backend) DataLoss(e, et, y kernels.Mat, frames kernels.View, scale float64, loss kernels.View) error {
	m, B := et.Rows, et.Cols
	pe, err := be.mat(e, B, m, "data loss e")
	if err != nil {
		return err
	}
	pet, err := be.mat(et, m, B, "data loss et")
	if err != nil {
		return err
	}
	py, err := be.mat(y, y.Rows, m, "data loss y")
	if err != nil {
		return err
	}
	pf, err := be.at(frames, kernels.I32, B, "data loss frames")
	if err != nil {
		return err
	}
	pl, err := be.at(loss, kernels.F32, 1, "data loss")
	if err != nil {
		return err
	}
	N := m * B
	if err := be.sq.ensure(be.dev, 8*N); err != nil {
		return fmt.Errorf("kernels: %s: data loss: %w", be.name, err)
	}
	coef := 0.0
	if N > 0 {
		coef = 2 * scale / float64(N)
	}
	if err := be.each("data_loss_f32", N, P(pe), P(pet), P(py), P(pf), I(B), I(m), F(coef), P(be.sq.p)); err != nil {
		return err
	}
	return be.lossSum(N, 1/float64(max(N, 1)), pl)
}

// APResidual is L_EP of Eq. 9 with the residuals of Eq. 6–8 and its adjoint.
func (be *Backend) APResidual(p kernels.APParams, q, g kernels.APPoints, scale float64, loss kernels.View) error {
	nc := q.U.N
	in := []kernels.View{q.U, q.V, q.Ut, q.Vt, q.Lap, g.U, g.V, g.Ut, g.Vt, g.Lap}
	names := []string{"u", "v", "u_t", "v_t", "Δu", "∂/∂u", "∂/∂v", "∂/∂u_t", "∂/∂v_t", "∂/∂Δu"}
	ps := make([]Ptr, len(in))
	for i, v := range in {
		var err error
		if ps[i], err = be.at(v, kernels.F32, nc, "ap residual "+names[i]); err != nil {
			return err
		}
	}
	var dn, gdn Ptr
	if q.Dn.N > 0 || g.Dn.N > 0 {
		var err error
		if dn, err = be.at(q.Dn, kernels.F32, nc, "ap residual n·∇u"); err != nil {
			return err
		}
		if gdn, err = be.at(g.Dn, kernels.F32, nc, "ap residual ∂/∂(n·∇u)"); err != nil {
			return err
		}
	}
	pl, err := be.at(loss, kernels.F32, 1, "ap residual loss")
	if err != nil {
		return err
	}
	if err := be.sq.ensure(be.dev, 8*nc); err != nil {
		return fmt.Errorf("kernels: %s: ap residual: %w", be.name, err)
	}
	coef := 0.0
	if nc > 0 {
		coef = 2 * scale / float64(nc)
	}
	if err := be.each("ap_residual_f32", nc, P(ps[0]), P(ps[1]), P(ps[2]), P(ps[3]), P(ps[4]), P(dn),
		P(ps[5]), P(ps[6]), P(ps[7]), P(ps[8]), P(ps[9]), P(gdn), P(be.sq.p), I(nc),
		F(p.A), F(p.D), F(p.K), F(p.E0), F(p.Mu1), F(p.Mu2), F(p.EpsDelta), F(coef)); err != nil {
		return err
	}
	return be.lossSum(nc, 1/float64(max(nc, 1)), pl)
}

// Adam performs step t of Adam on float32 parameters.
func (be *Backend) Adam(p, g, m, v kernels.View, t int, cfg kernels.AdamConfig) error {
	if t < 1 {
		return fmt.Errorf("kernels: %s: adam: step %d, want ≥ 1", be.name, t)
	}
	ps, err := be.views("adam", p, g, m, v)
	if err != nil {
		return err
	}
	step := cfg.LR / (1 - math.Pow(cfg.Beta1, float64(t)))
	bc2 := math.Sqrt(1 - math.Pow(cfg.Beta2, float64(t)))
	return be.each("adam_f32", p.N, P(ps[0]), P(ps[1]), P(ps[2]), P(ps[3]), I(p.N), F(step), F(cfg.Beta1), F(cfg.Beta2), F(bc2), F(cfg.Eps))
}

// scratch is device memory of the backend grown on demand.
type scratch struct {
	p     Ptr
	bytes int
}

// ensure makes s hold at least bytes bytes (its contents are lost when it
// grows).
func (s *scratch) ensure(d Device, bytes int) error {
	if s.p != 0 && s.bytes >= bytes {
		return nil
	}
	s.free(d)
	p, err := d.Alloc(max(bytes, 8))
	if err != nil {
		return err
	}
	s.p, s.bytes = p, max(bytes, 8)
	return nil
}

func (s *scratch) free(d Device) {
	if s.p != 0 {
		d.Free(s.p)
		s.p, s.bytes = 0, 0
	}
}
