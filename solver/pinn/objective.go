package pinn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/nn"
)

// objective evaluates L = L_D + λ L_EP (Eq. 4) and its gradient with respect
// to the network weights on one mini-batch of frames, entirely through a
// compute backend: the data (node coordinates, frame times, R, the BSPM,
// the Eq. 15 Laplacian, the Eq. 17–18 stencil), the weights, Adam's moments
// and every intermediate stay resident there; a step uploads only its frame
// and point indices, and the losses come back through the record buffer.
type objective struct {
	cfg     *Config
	net     *nn.Net
	be      kernels.Backend
	io      kernels.DType // the buffers' type: float64 where the backend has it
	compute kernels.DType // the network passes' arithmetic (Config.Precision)
	// n is the number of nodes of the physics mesh pm (the heart's, or
	// its subdivided copy's), nh that of the heart (the first nh of the
	// n), T frames, m leads.
	n, nh, T, m int
	tau         float64
	ap          kernels.APParams
	truth       *mat.Dense // nh x T true u, monitoring only; nil when absent
	pm          *physicsMesh
	ndTime      bool
	ndLap       bool
	// jetTime: an AD time derivative with the ND Laplacian takes û_t, v̂_t
	// from the window pass itself, which carries the Taylor channel along
	// e_t (one pass gives û, v̂ and their time derivatives at every window
	// point); the AD Laplacian (epdl-ad) takes every derivative from jets
	// at the collocation points instead.
	jetTime bool
	maxB    int // frames of the largest batch
	maxNc   int // collocation points of the largest batch

	feat  kernels.Mat  // per-node inputs of the physics mesh (x, y, z, φ1 … φK), In−1 x n
	featH kernels.Mat  // the same at the heart's nodes, In−1 x nh (feat itself when n = nh)
	times kernels.View // frame times, T
	// r is the transfer matrix R in the passes' arithmetic, m x n: the
	// heart's columns, then zero columns for the midpoints of a subdivided
	// physics mesh, so L_D reads the heart's nodes of the window rows
	// without a second layout (the zero columns cost what the products
	// with R cost, about 2% of a step).
	r       kernels.Mat
	y       kernels.Mat // the BSPM, one frame per row, T x m
	lap     kernels.CSR // the ND Laplacian of the physics mesh (Config.Operator), n x n
	stencil kernels.Stencil

	params, grad, adamM, adamV kernels.View
	// record holds (L_D, L_EP, gradient finite) of the last SyncEvery
	// steps, read back by the trainer.
	record kernels.View

	window kernels.Net  // the network on every node of the window frames
	xw, yw kernels.View // its inputs (In x points) and outputs [û; v̂] (with jetTime [û; v̂; û_t; v̂_t])
	gyw    kernels.View // the adjoints of its outputs
	tdir   kernels.View // with jetTime: the direction e_t at the window points (In x points)
	tdirN  int          // the point count tdir was filled for
	dirs   []kernels.Mat
	// The data term: the products with R in the passes' arithmetic (ub,
	// et, e, gd), the loss and its adjoint in the buffers' type (etIO,
	// eIO; the same views when the types agree).
	ub, et, e, gd kernels.View // batch rows of û (B x n), R Ûᵀ (m x B), adjoint E (B x m), E R (B x n)
	etIO, eIO     kernels.View
	ph            physics
	predictNet    kernels.Net  // the network without tape, predictChunk frames at a time
	xpr, ypr      kernels.View // its inputs and outputs

	bt  *batch
	idx struct{ win, frames, brow, src, q, pos kernels.View } // bt's lists on the backend
	// host scratch, reused
	draws    []int
	rec      []float64
	prY      []float64
	frames   []int
	prFrames []int32
}

// predictChunk is the number of frames of one prediction pass: it bounds
// the pass's memory.
const predictChunk = 16

// newObjective uploads a problem's data and the network to the backend be
// and allocates every buffer of a step.
func newObjective(cfg *Config, be kernels.Backend, net *nn.Net, p *inverse.Problem, pm *physicsMesh, tau float64) (*objective, error) {
	n, nh, T := len(pm.mesh.Nodes), pm.heart, len(p.Time)
	m, _ := p.R.Dims()
	o := &objective{cfg: cfg, net: net, be: be, n: n, nh: nh, T: T, m: m, tau: tau, truth: p.TruthU, pm: pm,
		ndTime: cfg.TimeDeriv == ND, ndLap: cfg.Laplacian == ND, io: kernels.F32, maxB: min(cfg.BatchFrames, T)}
	o.jetTime = !o.ndTime && o.ndLap
	if be.Supports(kernels.F64) {
		o.io = kernels.F64
	}
	o.compute, _ = kernels.ParseFloat(cfg.Precision) // validated
	if !be.Supports(o.compute) {
		return nil, fmt.Errorf("backend %s has no %v arithmetic", be.Name(), o.compute)
	}
	o.maxNc = o.maxB * n
	if cfg.Collocation > 0 {
		o.maxNc = min(o.maxNc, cfg.Collocation)
	}
	o.ap = apParams(cfg.EpsDelta)
	var err error
	F := len(pm.feat)
	if o.feat, err = o.upload(F, n, func(j, i int) float64 { return pm.feat[j][i] }); err != nil {
		return nil, err
	}
	o.featH = o.feat
	if n != nh {
		if o.featH, err = o.upload(F, nh, func(j, i int) float64 { return pm.feat[j][i] }); err != nil {
			return nil, err
		}
	}
	if o.times, err = o.uploadView(p.Time); err != nil {
		return nil, err
	}
	if o.r, err = o.upload(m, n, func(i, j int) float64 {
		if j < nh {
			return p.R.At(i, j)
		}
		return 0
	}); err != nil {
		return nil, err
	}
	if o.r, err = o.retype(o.r, o.compute); err != nil {
		return nil, err
	}
	if o.y, err = o.upload(T, m, func(t, i int) float64 { return p.BSPM.At(i, t) }); err != nil {
		return nil, err
	}
	L := pm.laplacian(cfg.Operator)
	csr := kernels.CSRData{Rows: L.Rows, Cols: L.Cols, Val: L.Val}
	for _, v := range L.RowPtr {
		csr.RowPtr = append(csr.RowPtr, int32(v))
	}
	for _, v := range L.ColIdx {
		csr.ColIdx = append(csr.ColIdx, int32(v))
	}
	if o.lap, err = be.NewCSR(csr, o.io); err != nil {
		return nil, err
	}
	start, w := stencil(T)
	if o.stencil, err = be.NewStencil(start, w, o.io); err != nil {
		return nil, err
	}
	np := net.NumParams()
	for _, v := range []*kernels.View{&o.params, &o.grad, &o.adamM, &o.adamV} {
		if *v, err = o.alloc(np); err != nil {
			return nil, err
		}
	}
	if err := be.Upload(o.params, net.Params); err != nil {
		return nil, err
	}
	K := max(be.SyncEvery(), 1)
	if o.record, err = o.alloc(3 * K); err != nil {
		return nil, err
	}
	o.rec = make([]float64, 3*K)

	// The window: the batch frames and, for an ND time derivative, the
	// stencil frames of each (at most 5 per batch frame).
	maxWin := o.maxB
	if o.ndTime {
		maxWin = min(T, 5*o.maxB)
	}
	in, nout, first := net.In(), 2, 0
	if o.jetTime {
		nout, first = 4, 1
		if o.tdir, err = o.alloc(in * maxWin * n); err != nil {
			return nil, err
		}
	}
	if o.window, err = be.NewNet(net.Spec(), kernels.NetOptions{Compute: o.compute, IO: o.io, First: first, MaxPoints: maxWin * n, Tape: true}); err != nil {
		return nil, err
	}
	if o.predictNet, err = be.NewNet(net.Spec(), kernels.NetOptions{Compute: o.compute, IO: o.io}); err != nil {
		return nil, err
	}
	for _, b := range []struct {
		v *kernels.View
		n int
	}{{&o.xw, in * maxWin * n}, {&o.yw, nout * maxWin * n}, {&o.gyw, nout * maxWin * n},
		{&o.etIO, m * o.maxB}, {&o.eIO, o.maxB * m},
		{&o.xpr, in * predictChunk * nh}, {&o.ypr, 2 * predictChunk * nh}} {
		if *b.v, err = o.alloc(b.n); err != nil {
			return nil, err
		}
	}
	// The products' buffers: et and e are the loss's own when the types
	// agree.
	o.et, o.e = o.etIO, o.eIO
	for _, b := range []struct {
		v *kernels.View
		n int
	}{{&o.ub, o.maxB * n}, {&o.et, m * o.maxB}, {&o.e, o.maxB * m}, {&o.gd, o.maxB * n}} {
		if b.v.Buf != nil && b.v.DType() == o.compute {
			continue
		}
		buf, err := be.Alloc(o.compute, b.n)
		if err != nil {
			return nil, err
		}
		*b.v = kernels.Whole(buf)
	}
	if err := o.newPhysics(o.maxB, o.maxNc); err != nil {
		return nil, err
	}
	o.bt = newBatch(n, T, max(o.maxB, predictChunk), o.maxNc)
	for _, b := range []struct {
		v *kernels.View
		n int
	}{{&o.idx.win, T}, {&o.idx.frames, max(o.maxB, predictChunk)}, {&o.idx.brow, o.maxB}, {&o.idx.src, 5 * o.maxB},
		{&o.idx.q, o.maxNc}, {&o.idx.pos, o.maxNc}} {
		buf, err := be.Alloc(kernels.I32, b.n)
		if err != nil {
			return nil, err
		}
		*b.v = kernels.Whole(buf)
	}
	o.draws = make([]int, o.maxB*n)
	o.frames = make([]int, 0, T)
	o.prFrames = make([]int32, predictChunk)
	o.dirs = make([]kernels.Mat, 1)
	o.prY = make([]float64, 2*predictChunk*nh)
	return o, nil
}

// alloc returns a zeroed buffer of n values of the objective's type.
func (o *objective) alloc(n int) (kernels.View, error) {
	b, err := o.be.Alloc(o.io, n)
	if err != nil {
		return kernels.View{}, err
	}
	return kernels.Whole(b), nil
}

// uploadView returns a buffer holding v.
func (o *objective) uploadView(v []float64) (kernels.View, error) {
	x, err := o.alloc(len(v))
	if err == nil {
		err = o.be.Upload(x, v)
	}
	return x, err
}

// upload returns a rows x cols matrix with element (r, c) = at(r, c).
func (o *objective) upload(rows, cols int, at func(r, c int) float64) (kernels.Mat, error) {
	v := make([]float64, rows*cols)
	for r := range rows {
		for c := range cols {
			v[r*cols+c] = at(r, c)
		}
	}
	x, err := o.uploadView(v)
	return x.Mat(rows, cols), err
}

// retype returns x as a matrix of type d: x itself, or a converted copy.
func (o *objective) retype(x kernels.Mat, d kernels.DType) (kernels.Mat, error) {
	if x.DType() == d {
		return x, nil
	}
	b, err := o.be.Alloc(d, x.N)
	if err != nil {
		return kernels.Mat{}, err
	}
	y := kernels.Whole(b).Mat(x.Rows, x.Cols)
	if err := o.be.Copy(y.View, x.View); err != nil {
		return kernels.Mat{}, err
	}
	o.be.Free(x.Buf)
	return y, nil
}

// close releases the backend.
func (o *objective) close() { o.be.Close() }

// prepare lays out the batch and uploads its index lists.
func (o *objective) prepare(frames, idx []int) error {
	bt := o.bt
	bt.set(frames, idx, o.ndTime)
	return firstErr(
		o.be.UploadIndex(o.idx.win.Slice(0, len(bt.win)), bt.win),
		o.be.UploadIndex(o.idx.frames.Slice(0, len(bt.frames)), bt.frames),
		o.be.UploadIndex(o.idx.brow.Slice(0, len(bt.brow)), bt.brow),
		o.be.UploadIndex(o.idx.src.Slice(0, len(bt.src)), bt.src),
		o.be.UploadIndex(o.idx.q.Slice(0, len(bt.q)), bt.q),
		o.be.UploadIndex(o.idx.pos.Slice(0, len(bt.pos)), bt.pos))
}

// draw returns the collocation points of a batch of B frames: N_c indices
// q into its B·n (node, frame) pairs (node q%n, batch frame q/n), drawn
// without replacement from rng and sorted; nc = 0 or nc ≥ B·n takes them
// all without drawing. The slice is reused by the next draw.
func (o *objective) draw(rng *rand.Rand, B, nc int) []int {
	total := B * o.n
	idx := o.draws[:total]
	for k := range idx {
		idx[k] = k
	}
	if nc == 0 || nc >= total {
		return idx
	}
	for k := 0; k < nc; k++ {
		j := k + rng.IntN(total-k)
		idx[k], idx[j] = idx[j], idx[k]
	}
	idx = idx[:nc]
	slices.Sort(idx)
	return idx
}

// eval issues the step of the batch frames with collocation points idx:
// the gradient of L_D + λ L_EP into o.grad (overwritten) and (L_D, L_EP,
// 1 if the gradient is finite else 0) into record slot slot. Nothing comes
// back to the host (readRecord does that).
//
// The network is evaluated on every heart node of the window frames (the
// batch plus, for an ND time derivative, the Eq. 17–18 stencil frames
// around it), so mesh and temporal neighbours exist. L_D (Eq. 5) uses the
// batch frames: Ŷᵀ = R Ûᵀ, E = (2/(mB))(Ŷ − Y), ∂L_D/∂Û = E R, the
// products in the passes' arithmetic (Config.Precision) and the loss in the
// buffers' type. The residuals use the collocation points (residuals).
// Backpropagation applies the exact adjoints, so the gradient is that of the
// computed loss.
func (o *objective) eval(frames, idx []int, slot int) error {
	if err := o.prepare(frames, idx); err != nil {
		return err
	}
	bt, be := o.bt, o.be
	n, B, W := o.n, len(bt.frames), len(bt.win)
	npts := W * n
	x := o.xw.Mat(o.net.In(), npts)
	nout, dirs := 2, []kernels.Mat(nil)
	if o.jetTime {
		d, err := o.timeDirection(npts)
		if err != nil {
			return fmt.Errorf("time direction: %w", err)
		}
		nout, dirs = 4, o.dirs[:1]
		dirs[0] = d
	}
	yw, gyw := o.yw.Mat(nout, npts), o.gyw.Mat(nout, npts)
	u := yw.Row(0).Mat(W, n)
	gu := gyw.Row(0).Mat(W, n)
	ub, et, etIO := o.ub.Mat(B, n), o.et.Mat(o.m, B), o.etIO.Mat(o.m, B)
	e, eIO, gd := o.e.Mat(B, o.m), o.eIO.Mat(B, o.m), o.gd.Mat(B, n)
	frm, brow := o.idx.frames.Slice(0, B), o.idx.brow.Slice(0, B)
	err := firstErr(
		be.Inputs(x, o.feat, o.times, o.idx.win.Slice(0, W), kernels.View{}),
		o.window.Forward(o.params, x, dirs, yw),
		be.Fill(gyw.View, 0),
		be.GatherRows(ub, u, brow),
		be.MulABt(et, o.r, ub),
		be.Copy(etIO.View, et.View),
		be.DataLoss(eIO, etIO, o.y, frm, 1, o.record.Slice(3*slot, 3*slot+1)),
		be.Copy(e.View, eIO.View),
		be.MulAB(gd, e, o.r),
		be.ScatterAddRows(gu, gd, brow))
	if err != nil {
		return fmt.Errorf("data term: %w", err)
	}
	if err := o.residuals(bt, yw, gyw, slot); err != nil {
		return err
	}
	err = firstErr(
		be.Fill(o.grad, 0),
		o.window.Backward(o.params, gyw, o.grad),
		o.residualsBackward(len(bt.q)),
		be.AllFinite(o.record.Slice(3*slot+2, 3*slot+3), o.grad))
	if err != nil {
		return fmt.Errorf("backward: %w", err)
	}
	return nil
}

// timeDirection returns the direction e_t (time is the last input) at
// npts points, In x npts, filled when the point count changes.
func (o *objective) timeDirection(npts int) (kernels.Mat, error) {
	in := o.net.In()
	d := o.tdir.Mat(in, npts)
	if o.tdirN == npts {
		return d, nil
	}
	if err := firstErr(o.be.Fill(d.View, 0), o.be.Fill(d.Row(in-1), 1)); err != nil {
		return kernels.Mat{}, err
	}
	o.tdirN = npts
	return d, nil
}

// readRecord returns the records of the first k slots: (L_D, L_EP,
// gradient finite) per step.
func (o *objective) readRecord(k int) ([]float64, error) {
	r := o.rec[:3*k]
	if err := o.be.Download(r, o.record.Slice(0, 3*k)); err != nil {
		return nil, err
	}
	return r, nil
}

// adam performs Adam step t with learning rate lr on the resident weights.
func (o *objective) adam(t int, lr float64) error {
	ac := adamConfig
	ac.LR = lr
	return o.be.Adam(o.params, o.grad, o.adamM, o.adamV, t, ac)
}

// pull copies the resident weights and Adam moments into the host slices.
func (o *objective) pull(params, m, v []float64) error {
	return firstErr(o.be.Download(params, o.params), o.be.Download(m, o.adamM), o.be.Download(v, o.adamV))
}

// push uploads weights and Adam moments.
func (o *objective) push(params, m, v []float64) error {
	return firstErr(o.be.Upload(o.params, params), o.be.Upload(o.adamM, m), o.be.Upload(o.adamV, v))
}

// initRatio returns λ·L_EP/L_D over the whole grid: L_D and L_EP averaged
// over consecutive blocks of B frames (collocation points drawn from a PCG
// of its own, so the training draws do not depend on it).
func (o *objective) initRatio(B int) (float64, error) {
	rng := rand.New(rand.NewPCG(o.cfg.Seed, 0x7a710))
	var ld, lep, nf, nc float64
	for bs := 0; bs < o.T; bs += B {
		frames := span(o.frames, bs, min(o.T, bs+B))
		idx := o.draw(rng, len(frames), o.cfg.Collocation)
		if err := o.eval(frames, idx, 0); err != nil {
			return 0, err
		}
		r, err := o.readRecord(1)
		if err != nil {
			return 0, err
		}
		ld += r[0] * float64(len(frames))
		lep += r[1] * float64(len(idx))
		nf += float64(len(frames))
		nc += float64(len(idx))
	}
	return o.cfg.Lambda * (lep / nc) / (ld / nf), nil
}

// predict evaluates the network on the whole grid: U, V are n x T.
func (o *objective) predict() (U, V *mat.Dense, err error) {
	n, T := o.nh, o.T
	U, V = mat.NewDense(n, T, nil), mat.NewDense(n, T, nil)
	for ws := 0; ws < T; ws += predictChunk {
		we := min(T, ws+predictChunk)
		frames := o.prFrames[:we-ws]
		for k := range frames {
			frames[k] = int32(ws + k)
		}
		np := (we - ws) * n
		x, y, fr := o.xpr.Mat(o.net.In(), np), o.ypr.Mat(2, np), o.idx.frames.Slice(0, we-ws)
		out := o.prY[:2*np]
		err := firstErr(
			o.be.UploadIndex(fr, frames),
			o.be.Inputs(x, o.featH, o.times, fr, kernels.View{}),
			o.predictNet.Forward(o.params, x, nil, y),
			o.be.Download(out, y.View))
		if err != nil {
			return nil, nil, fmt.Errorf("predict: %w", err)
		}
		for f := ws; f < we; f++ {
			for i := 0; i < n; i++ {
				U.Set(i, f, out[(f-ws)*n+i])
				V.Set(i, f, out[np+(f-ws)*n+i])
			}
		}
	}
	return U, V, nil
}

// monitorRE returns RE (Eq. 19) of the current prediction against the
// truth: recorded for monitoring only, never used to train, stop or select.
func (o *objective) monitorRE() (float64, error) {
	U, _, err := o.predict()
	if err != nil {
		return 0, err
	}
	return metrics.RE(U, o.truth), nil
}

// span returns the frames lo, lo+1, …, hi−1 in buf (reused).
func span(buf []int, lo, hi int) []int {
	f := buf[:0]
	for k := lo; k < hi; k++ {
		f = append(f, k)
	}
	return f
}
