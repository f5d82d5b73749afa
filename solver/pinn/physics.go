package pinn

import (
	"fmt"
	"math"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/temporal"
)

// batch is the host side of one step: the batch frames where L_D and the
// residuals are taken, the window frames the network is evaluated on (every
// heart node of each: the batch plus, for an ND time derivative, the
// Eq. 17–18 stencil frames of every batch frame), and the index lists the
// backend ops take. Its slices are allocated once for the largest batch
// and reused, so preparing a step allocates nothing.
type batch struct {
	n, T   int
	frames []int32 // batch frames, increasing (B)
	win    []int32 // window frames, increasing
	row    []int32 // row[f]: position of frame f in win, −1 when absent (T)
	brow   []int32 // window row of each batch frame (B)
	src    []int32 // window rows of the stencil frames of each batch frame (5B)
	q      []int32 // collocation points: index into the B x n batch plane
	pos    []int32 // collocation points: index into the window plane
	start  []int   // stencil start of every frame (T)
}

func newBatch(n, T, maxB, maxNc int) *batch {
	b := &batch{n: n, T: T, row: make([]int32, T), start: make([]int, T),
		frames: make([]int32, 0, maxB), win: make([]int32, 0, T), brow: make([]int32, 0, maxB),
		src: make([]int32, 0, 5*maxB), q: make([]int32, 0, maxNc), pos: make([]int32, 0, maxNc)}
	for f := range T {
		b.start[f], _ = temporal.Weights(f, T)
	}
	return b
}

// set lays out the batch of the given increasing frames with collocation
// points idx (indices into the batch's B·n (frame, node) pairs: node q%n at
// batch frame q/n, increasing); nd adds the stencil frames to the window.
func (b *batch) set(frames, idx []int, nd bool) {
	b.frames, b.win, b.brow, b.src, b.q, b.pos = b.frames[:0], b.win[:0], b.brow[:0], b.src[:0], b.q[:0], b.pos[:0]
	for f := range b.row {
		b.row[f] = -1
	}
	for _, t := range frames {
		b.frames = append(b.frames, int32(t))
		b.row[t] = 0
		if nd {
			for j := b.start[t]; j < b.start[t]+5; j++ {
				b.row[j] = 0
			}
		}
	}
	for f, r := range b.row {
		if r == 0 {
			b.row[f] = int32(len(b.win))
			b.win = append(b.win, int32(f))
		}
	}
	for _, t := range frames {
		b.brow = append(b.brow, b.row[t])
		if nd {
			for j := b.start[t]; j < b.start[t]+5; j++ {
				b.src = append(b.src, b.row[j])
			}
		}
	}
	for _, q := range idx {
		b.q = append(b.q, int32(q))
		b.pos = append(b.pos, b.brow[q/b.n]*int32(b.n)+int32(q%b.n))
	}
}

// stencil returns the Eq. 17–18 stencil of T frames as NewStencil takes it.
func stencil(T int) ([]int32, [][5]float64) {
	start, w := make([]int32, T), make([][5]float64, T)
	for f := range T {
		s, wf := temporal.Weights(f, T)
		start[f], w[f] = int32(s), wf
	}
	return start, w
}

// physics holds the resident buffers of the residual part of a step: the
// per-point quantities of Eq. 6–8 and their adjoints, the batch planes of
// the ND derivatives, and the jet and ±h passes.
type physics struct {
	q, g       kernels.APPoints // at the collocation points (capacity maxNc)
	ut, vt     kernels.View     // ND û_t, v̂_t on the batch plane (B x n)
	lap        kernels.View     // ND Δû on the batch plane
	gut, gvt   kernels.View     // their adjoints on the batch plane
	glap       kernels.View
	jet        kernels.Net // AD: jets at the collocation points
	k1, kNrm   int         // first directions (e_t, then the normal), index of the normal
	k2         int         // second directions (e_x, e_y, e_z)
	xj         kernels.View
	dirs       []kernels.Mat
	dirBuf     kernels.View // the directions' storage (K1+K2 x In x maxNc)
	dirPts     int          // the point count the directions were filled for
	yj, gyj    kernels.View
	plus       kernels.Net // ND r_b: passes at x ± h n
	minus      kernels.Net
	xp, xm     kernels.View
	yp, ym     kernels.View
	gyp, gym   kernels.View
	zeros      kernels.View // maxNc zeros
	featP      kernels.Mat  // nodes ± h·normal (ND r_b)
	featM      kernels.Mat
	normals    kernels.Mat // vertex normals (AD r_b direction)
	zeroTimes  kernels.View
	normalStep float64
}

// newPhysics allocates the residual buffers of a step with at most maxB
// frames and maxNc collocation points.
func (o *objective) newPhysics(maxB, maxNc int) error {
	ph := &o.ph
	n, in := o.n, o.net.In()
	feat := o.pm.feat
	var normals [][3]float64
	if o.cfg.Boundary {
		normals = o.pm.mesh.VertexNormals()
	}
	var err error
	views := []*kernels.View{&ph.q.U, &ph.q.V, &ph.q.Ut, &ph.q.Vt, &ph.q.Lap, &ph.g.U, &ph.g.V, &ph.g.Ut, &ph.g.Vt, &ph.g.Lap}
	if o.cfg.Boundary {
		views = append(views, &ph.q.Dn, &ph.g.Dn)
	}
	for _, v := range views {
		if *v, err = o.alloc(maxNc); err != nil {
			return err
		}
	}
	if o.ndTime {
		for _, v := range []*kernels.View{&ph.ut, &ph.vt, &ph.gut, &ph.gvt} {
			if *v, err = o.alloc(maxB * n); err != nil {
				return err
			}
		}
	}
	if o.ndLap {
		for _, v := range []*kernels.View{&ph.lap, &ph.glap} {
			if *v, err = o.alloc(maxB * n); err != nil {
				return err
			}
		}
	}
	if !o.ndLap { // an AD Laplacian implies an AD time derivative (validate)
		ph.k1, ph.kNrm, ph.k2 = 1, -1, 3
		if o.cfg.Boundary {
			ph.kNrm, ph.k1 = 1, 2
		}
		nout := (1 + ph.k1 + ph.k2) * 2
		if ph.jet, err = o.be.NewNet(o.net.Spec(), kernels.NetOptions{Compute: o.compute, IO: o.io,
			First: ph.k1, Second: ph.k2, MaxPoints: maxNc, Tape: true}); err != nil {
			return err
		}
		for _, v := range []*kernels.View{&ph.xj, &ph.yj, &ph.gyj} {
			rows := in
			if v != &ph.xj {
				rows = nout
			}
			if *v, err = o.alloc(rows * maxNc); err != nil {
				return err
			}
		}
		if ph.dirBuf, err = o.alloc((ph.k1 + ph.k2) * in * maxNc); err != nil {
			return err
		}
		ph.dirs = make([]kernels.Mat, ph.k1+ph.k2)
	}
	if o.cfg.Boundary {
		// The AD normal direction (x, y, z: the AD Laplacian, which
		// takes no eigenfunction inputs).
		if ph.normals, err = o.upload(3, n, func(j, i int) float64 { return normals[i][j] }); err != nil {
			return err
		}
		if ph.zeroTimes, err = o.alloc(o.T); err != nil {
			return err
		}
	}
	if o.cfg.Boundary && o.ndLap {
		h := o.cfg.NormalStep
		ph.normalStep = h
		// The shifted nodes x ± h n, as the reference computed them; the
		// eigenfunction inputs, which live on the surface, are taken as
		// constant along the normal.
		shifted := func(h float64) func(j, i int) float64 {
			return func(j, i int) float64 {
				if j < 3 {
					return feat[j][i] + h*normals[i][j]
				}
				return feat[j][i]
			}
		}
		if ph.featP, err = o.upload(len(feat), n, shifted(h)); err != nil {
			return err
		}
		if ph.featM, err = o.upload(len(feat), n, shifted(-h)); err != nil {
			return err
		}
		for _, net := range []*kernels.Net{&ph.plus, &ph.minus} {
			if *net, err = o.be.NewNet(o.net.Spec(), kernels.NetOptions{Compute: o.compute, IO: o.io, MaxPoints: maxNc, Tape: true}); err != nil {
				return err
			}
		}
		for _, v := range []*kernels.View{&ph.xp, &ph.xm, &ph.yp, &ph.ym, &ph.gyp, &ph.gym} {
			rows := 2
			if v == &ph.xp || v == &ph.xm {
				rows = in
			}
			if *v, err = o.alloc(rows * maxNc); err != nil {
				return err
			}
		}
		if ph.zeros, err = o.alloc(maxNc); err != nil {
			return err
		}
	}
	return nil
}

// residuals evaluates L_EP (Eq. 9) at the nc collocation points of the
// step into o.record[slot+1] and leaves the adjoints of the window values
// in gu, gv (added to what the data term put there) and the jet and ±h
// passes ready for their reverse passes:
//   - û, v̂: gathered from the window planes u, v;
//   - ND û_t, v̂_t: the Eq. 17–18 stencil over the window frames, ND Δû:
//     the Eq. 15 (or cotangent) matrix on the batch frames, both on the
//     B x n batch plane, gathered at the points;
//   - AD û_t, v̂_t with the ND Laplacian: the window pass's e_t channel,
//     gathered at the points;
//   - AD û_t, v̂_t, Δû, n·∇û with the AD Laplacian: the network's jets at
//     the points;
//   - ND n·∇û (Boundary on): (û(x+hn) − û(x−hn)) / 2h.
//
// The adjoints apply the exact transposes: scatter for gather, the stencil's
// and the Laplacian's adjoints, the jets' reverse pass.
func (o *objective) residuals(bt *batch, yw, gyw kernels.Mat, slot int) error {
	ph, be := &o.ph, o.be
	nc, B, n, W := len(bt.q), len(bt.frames), o.n, len(bt.win)
	u, v := yw.Row(0).Mat(W, n), yw.Row(1).Mat(W, n)
	gu, gv := gyw.Row(0).Mat(W, n), gyw.Row(1).Mat(W, n)
	pts := func(x kernels.View) kernels.View { return x.Slice(0, nc) }
	plane := func(x kernels.View) kernels.Mat { return x.Mat(B, n) }
	q := kernels.APPoints{U: pts(ph.q.U), V: pts(ph.q.V), Ut: pts(ph.q.Ut), Vt: pts(ph.q.Vt), Lap: pts(ph.q.Lap)}
	g := kernels.APPoints{U: pts(ph.g.U), V: pts(ph.g.V), Ut: pts(ph.g.Ut), Vt: pts(ph.g.Vt), Lap: pts(ph.g.Lap)}
	if o.cfg.Boundary {
		q.Dn, g.Dn = pts(ph.q.Dn), pts(ph.g.Dn)
	}
	pos, qi := o.idx.pos.Slice(0, nc), o.idx.q.Slice(0, nc)
	frames, brow, src := o.idx.frames.Slice(0, B), o.idx.brow.Slice(0, B), o.idx.src.Slice(0, len(bt.src))
	var jy, jg kernels.Mat // jets' outputs and adjoints, (1+K1+K2)·2 x nc
	err := firstErr(
		be.Gather(q.U, u.View, pos),
		be.Gather(q.V, v.View, pos))
	if err == nil && o.ndTime {
		err = firstErr(
			be.TimeDeriv(plane(ph.ut), o.stencil, u, frames, src, o.tau),
			be.TimeDeriv(plane(ph.vt), o.stencil, v, frames, src, o.tau),
			be.Gather(q.Ut, ph.ut.Slice(0, B*n), qi),
			be.Gather(q.Vt, ph.vt.Slice(0, B*n), qi))
	}
	if err == nil && o.jetTime {
		err = firstErr(
			be.Gather(q.Ut, yw.Row(2), pos),
			be.Gather(q.Vt, yw.Row(3), pos))
	}
	if err == nil && o.ndLap {
		err = firstErr(
			be.SpMMRows(plane(ph.lap), o.lap, u, brow),
			be.Gather(q.Lap, ph.lap.Slice(0, B*n), qi))
	}
	if err == nil && ph.jet != nil {
		rows := (1 + ph.k1 + ph.k2) * 2
		jy, jg = ph.yj.Mat(rows, nc), ph.gyj.Slice(0, rows*nc).Mat(rows, nc)
		ch := func(m kernels.Mat, c, out int) kernels.View { return m.Row(c*2 + out) } // channel c of u (0) or v (1)
		x := ph.xj.Mat(o.net.In(), nc)
		err = firstErr(o.jetDirections(bt, nc), be.Inputs(x, o.feat, o.times, frames, qi))
		if err == nil {
			err = ph.jet.Forward(o.params, x, ph.dirs, jy)
		}
		q.Ut, q.Vt, g.Ut, g.Vt = ch(jy, 1, 0), ch(jy, 1, 1), ch(jg, 1, 0), ch(jg, 1, 1)
		if ph.kNrm >= 0 {
			q.Dn, g.Dn = ch(jy, 1+ph.kNrm, 0), ch(jg, 1+ph.kNrm, 0)
		}
		if ph.k2 > 0 { // Δû = û_xx + û_yy + û_zz
			l := 1 + ph.k1
			g.Lap = ch(jg, l, 0)
			err = firstErr(err, be.Add(q.Lap, ch(jy, l, 0), ch(jy, l+1, 0)), be.Add(q.Lap, q.Lap, ch(jy, l+2, 0)))
		}
		err = firstErr(err, be.Fill(jg.View, 0))
	}
	if err == nil && o.cfg.Boundary && o.ndLap {
		h := ph.normalStep
		xp, xm := ph.xp.Mat(o.net.In(), nc), ph.xm.Mat(o.net.In(), nc)
		yp, ym := ph.yp.Mat(2, nc), ph.ym.Mat(2, nc)
		err = firstErr(
			be.Inputs(xp, ph.featP, o.times, frames, qi),
			be.Inputs(xm, ph.featM, o.times, frames, qi))
		if err == nil {
			err = firstErr(ph.plus.Forward(o.params, xp, nil, yp), ph.minus.Forward(o.params, xm, nil, ym))
		}
		err = firstErr(err, be.Diff(q.Dn, yp.Row(0), ym.Row(0), 2*h))
	}
	if err == nil {
		err = be.APResidual(o.ap, q, g, o.cfg.Lambda, o.record.Slice(3*slot+1, 3*slot+2))
	}
	if err == nil && ph.jet != nil && ph.k2 > 0 {
		l := 1 + ph.k1
		err = firstErr(be.Copy(jg.Row((l+1)*2), g.Lap), be.Copy(jg.Row((l+2)*2), g.Lap))
	}
	if err != nil {
		return fmt.Errorf("residuals: %w", err)
	}

	// Adjoints into the window planes, in the reference's order: the
	// points' own values, then the time stencil, then the Laplacian.
	err = firstErr(
		be.ScatterAdd(gu.View, g.U, pos),
		be.ScatterAdd(gv.View, g.V, pos))
	if err == nil && o.ndTime {
		err = firstErr(
			be.Fill(ph.gut.Slice(0, B*n), 0),
			be.Fill(ph.gvt.Slice(0, B*n), 0),
			be.ScatterAdd(ph.gut.Slice(0, B*n), g.Ut, qi),
			be.ScatterAdd(ph.gvt.Slice(0, B*n), g.Vt, qi),
			be.TimeDerivAdjoint(gu, o.stencil, plane(ph.gut), frames, src, o.tau),
			be.TimeDerivAdjoint(gv, o.stencil, plane(ph.gvt), frames, src, o.tau))
	}
	if err == nil && o.jetTime {
		err = firstErr(
			be.ScatterAdd(gyw.Row(2), g.Ut, pos),
			be.ScatterAdd(gyw.Row(3), g.Vt, pos))
	}
	if err == nil && o.ndLap {
		err = firstErr(
			be.Fill(ph.glap.Slice(0, B*n), 0),
			be.ScatterAdd(ph.glap.Slice(0, B*n), g.Lap, qi),
			be.SpMMRowsAdjoint(gu, o.lap, plane(ph.glap), brow))
	}
	if err != nil {
		return fmt.Errorf("residual adjoints: %w", err)
	}
	return nil
}

// residualsBackward adds the weight gradient through the jets and the ±h
// passes (the window pass is the caller's).
func (o *objective) residualsBackward(nc int) error {
	ph, be := &o.ph, o.be
	if ph.jet != nil {
		rows := (1 + ph.k1 + ph.k2) * 2
		if err := ph.jet.Backward(o.params, ph.gyj.Slice(0, rows*nc).Mat(rows, nc), o.grad); err != nil {
			return err
		}
	}
	if !(o.cfg.Boundary && o.ndLap) {
		return nil
	}
	// ∂/∂û(x±hn) = ±(∂L/∂(n·∇û))/2h; the v outputs get no adjoint.
	h := ph.normalStep
	gyp, gym := ph.gyp.Mat(2, nc), ph.gym.Mat(2, nc)
	gd, zero := ph.g.Dn.Slice(0, nc), ph.zeros.Slice(0, nc)
	return firstErr(
		be.Fill(gyp.View, 0),
		be.Fill(gym.View, 0),
		be.Diff(gyp.Row(0), gd, zero, 2*h),
		be.Diff(gym.Row(0), zero, gyp.Row(0), 1),
		ph.plus.Backward(o.params, gyp, o.grad),
		ph.minus.Backward(o.params, gym, o.grad))
}

// jetDirections fills the jets' directions for nc points: e_t, the vertex
// normal of each point's node (AD r_b) and e_x, e_y, e_z, each In x nc.
func (o *objective) jetDirections(bt *batch, nc int) error {
	ph, be := &o.ph, o.be
	in := o.net.In()
	for k := range ph.dirs {
		ph.dirs[k] = ph.dirBuf.Slice(k*in*nc, (k+1)*in*nc).Mat(in, nc)
	}
	if ph.kNrm >= 0 {
		d := ph.dirs[ph.kNrm]
		if err := be.Inputs(d, ph.normals, ph.zeroTimes, o.idx.frames.Slice(0, len(bt.frames)), o.idx.q.Slice(0, nc)); err != nil {
			return err
		}
	}
	if ph.dirPts == nc {
		return nil // the constant directions are in place
	}
	ph.dirPts = nc
	axis := func(d kernels.Mat, j int) error {
		return firstErr(be.Fill(d.View, 0), be.Fill(d.Row(j), 1))
	}
	if err := axis(ph.dirs[0], in-1); err != nil { // e_t: time is the last input
		return err
	}
	for j := range ph.k2 {
		if err := axis(ph.dirs[ph.k1+j], j); err != nil {
			return err
		}
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// apParams returns the paper's Aliev–Panfilov parameters (ap.DefaultParams)
// with the guard delta of ε, for the backend.
func apParams(delta float64) kernels.APParams {
	p := ap.DefaultParams()
	return kernels.APParams{A: p.A, D: p.D, K: p.K, E0: p.E0, Mu1: p.Mu1, Mu2: p.Mu2, EpsDelta: delta}
}

// finite reports whether every value is finite.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
