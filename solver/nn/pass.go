package nn

import (
	"fmt"

	"github.com/eandarn/eandarn/kernels"
)

// blockSize is the number of points of one block of the forward and backward
// passes: small enough that a block's activations of every layer stay in the
// L2 cache, large enough that the inner loops over points are long.
const blockSize = 256

// maxGroups is the number of partial gradients of Backward, each the sum over
// a fixed run of blocks; they are added in group order, so the result does
// not depend on the number of goroutines or on their scheduling.
const maxGroups = 16

// Workspace holds what Forward/ForwardJet keep for Backward/BackwardJet: the
// activations of every layer and Taylor channel of every point. The zero
// value is ready; a Workspace grows to the largest call and is reused. It
// must not be shared by concurrent passes.
type Workspace struct {
	npts   int
	k1, k2 int
	valid  bool
	prec   Precision // of the stored pass
	f64    arena[float64]
	f32    arena[float32]
}

// arena is the storage of a pass in one precision.
type arena[T kernels.Float] struct {
	params []T   // the weights the forward pass used (Params rounded to T; Params itself for float64)
	store  []T   // per block: post-activations of all slots, then tanh pre-activations of derivative channels
	adj    [][]T // per worker: adjoint scratch of one block
	gpart  []T   // maxGroups partial gradients
}

// paramsAs returns p in precision T: p itself for float64, else a rounded
// copy in buf (grown as needed).
func paramsAs[T kernels.Float](p []float64, buf []T) []T {
	if q, ok := any(p).([]T); ok {
		return q
	}
	if cap(buf) < len(p) {
		buf = make([]T, len(p))
	}
	buf = buf[:len(p)]
	for i, v := range p {
		buf[i] = T(v)
	}
	return buf
}

// geometry of one block's storage.
type blockLayout struct {
	n, nch     int   // points, Taylor channels
	slotOff    []int // slot s post-activations at slotOff[s]*ncols, width slotW[s], ld ncols
	preOff     []int // step k's pre-activation derivative channels at preBase + preOff[k]*(nch−1)*n
	preBase    int
	perPoint   int // floats per point
	postFloats int // per point: Σ slot widths · nch
}

func (n *Net) layout(nch int) blockLayout {
	bl := blockLayout{nch: nch, slotOff: make([]int, len(n.slotW)), preOff: make([]int, len(n.steps))}
	f := 0
	for s, w := range n.slotW {
		bl.slotOff[s] = f
		f += w
	}
	bl.postFloats = f * nch
	p := 0
	for k, st := range n.steps {
		if st.dense && n.layers[st.layer].tanh {
			bl.preOff[k] = p
			p += n.layers[st.layer].out
		}
	}
	bl.perPoint = bl.postFloats + p*(nch-1)
	return bl
}

// block returns the geometry of block b of a pass over npts points and its
// part of store.
func block[T kernels.Float](bl blockLayout, npts int, store []T, b int) (blockLayout, []T) {
	bl = bl.at(npts, b)
	lo := b * blockSize
	return bl, store[lo*bl.perPoint : lo*bl.perPoint+bl.n*bl.perPoint]
}

// at returns the geometry of block b of a pass over npts points.
func (bl blockLayout) at(npts, b int) blockLayout {
	bl.n = min(blockSize, npts-b*blockSize)
	bl.preBase = bl.postFloats * bl.n
	return bl
}

func post[T kernels.Float](bl *blockLayout, buf []T, s, w int) []T {
	nc := bl.n * bl.nch
	return buf[bl.slotOff[s]*nc : (bl.slotOff[s]+w)*nc]
}

func pre[T kernels.Float](bl *blockLayout, buf []T, k, w int) []T {
	nd := bl.n * (bl.nch - 1)
	return buf[bl.preBase+bl.preOff[k]*nd : bl.preBase+(bl.preOff[k]+w)*nd]
}

// Forward evaluates the network at npts points: x is npts x 4 row-major
// physical [x, y, z, t], y (npts x 2, row-major [u, v]) receives the outputs.
// ws keeps the activations for Backward.
func (n *Net) Forward(ws *Workspace, x, y []float64) error {
	return n.ForwardJet(ws, x, nil, nil, y, nil, nil)
}

// Backward accumulates into grad (len NumParams) the gradient dL/dθ of a
// loss L given dy = dL/dy (npts x 2) at the points of the last Forward on ws.
func (n *Net) Backward(ws *Workspace, dy, grad []float64) error {
	return n.BackwardJet(ws, dy, nil, nil, grad)
}

// ForwardJet evaluates the network and its directional derivatives with
// respect to the physical inputs at npts points by forward-mode Taylor
// propagation through the layers. x is npts x 4; d1[k] and d2[j] are npts x 4
// directions (physical units, one per point). It writes
//
//	y[p]      = f(x_p)                         (npts x 2)
//	dy1[k][p] = d/dε f(x_p + ε d1[k]_p)        at ε = 0
//	dy2[j][p] = d²/dε² f(x_p + ε d2[j]_p)      at ε = 0
//
// e.g. d1 = {e_t} gives u_t, v_t; d2 = {e_x, e_y, e_z} gives the three terms
// of Δu. Per dense layer z = W h + b: ż = W ḣ, z̈ = W ḧ; per tanh a = tanh z:
// ȧ = (1−a²) ż, ä = −2a(1−a²) ż² + (1−a²) z̈; the ARN mixing is linear in every
// channel. The normalizer's factors enter through the input channels
// (x̃ = (x−c)/s, ẋ̃ = d/s, ẍ̃ = 0). dy1 must have len(d1) slices, dy2 len(d2).
func (n *Net) ForwardJet(ws *Workspace, x []float64, d1, d2 [][]float64, y []float64, dy1, dy2 [][]float64) error {
	npts := len(x) / In
	if len(x) != npts*In || npts == 0 {
		return fmt.Errorf("nn: forward: x has %d values, want npts x %d with npts > 0", len(x), In)
	}
	if err := checkShape("y", y, npts, Out); err != nil {
		return err
	}
	if len(dy1) != len(d1) || len(dy2) != len(d2) {
		return fmt.Errorf("nn: forward: %d first and %d second directions but %d and %d outputs",
			len(d1), len(d2), len(dy1), len(dy2))
	}
	for k := range d1 {
		if err := checkShape(fmt.Sprintf("d1[%d]", k), d1[k], npts, In); err != nil {
			return err
		}
		if err := checkShape(fmt.Sprintf("dy1[%d]", k), dy1[k], npts, Out); err != nil {
			return err
		}
	}
	for j := range d2 {
		if err := checkShape(fmt.Sprintf("d2[%d]", j), d2[j], npts, In); err != nil {
			return err
		}
		if err := checkShape(fmt.Sprintf("dy2[%d]", j), dy2[j], npts, Out); err != nil {
			return err
		}
	}
	k1, k2 := len(d1), len(d2)
	nch := 1 + k1 + 2*k2
	bl0 := n.layout(nch)
	ws.npts, ws.k1, ws.k2, ws.valid, ws.prec = npts, k1, k2, true, n.Precision
	if n.Precision == Float32 {
		forwardPass(n, &ws.f32, bl0, npts, x, d1, d2, y, dy1, dy2)
	} else {
		forwardPass(n, &ws.f64, bl0, npts, x, d1, d2, y, dy1, dy2)
	}
	return nil
}

// forwardPass is ForwardJet in precision T, keeping the activations in a.
func forwardPass[T kernels.Float](n *Net, a *arena[T], bl0 blockLayout, npts int, x []float64, d1, d2 [][]float64, y []float64, dy1, dy2 [][]float64) {
	a.params = paramsAs(n.Params, a.params)
	if need := npts * bl0.perPoint; cap(a.store) < need {
		a.store = make([]T, need)
	} else {
		a.store = a.store[:need]
	}
	nblocks := (npts + blockSize - 1) / blockSize
	n.parallel(nblocks, func(_, b int) {
		bl, buf := block(bl0, npts, a.store, b)
		forwardBlock(n, a.params, &bl, buf, b*blockSize, x, d1, d2, y, dy1, dy2)
	})
}

// Predict evaluates the network at npts points like Forward but keeps no
// activations: each goroutine reuses one block's buffer, so evaluating the
// full grid (e.g. the final reconstruction) needs no Workspace. The outputs
// are bit-identical to Forward's. Safe for concurrent use with other passes
// that do not modify Params.
func (n *Net) Predict(x, y []float64) error {
	npts := len(x) / In
	if len(x) != npts*In || npts == 0 {
		return fmt.Errorf("nn: predict: x has %d values, want npts x %d with npts > 0", len(x), In)
	}
	if err := checkShape("y", y, npts, Out); err != nil {
		return err
	}
	if n.Precision == Float32 {
		predict[float32](n, npts, x, y)
	} else {
		predict[float64](n, npts, x, y)
	}
	return nil
}

// predict is Predict in precision T.
func predict[T kernels.Float](n *Net, npts int, x, y []float64) {
	params := paramsAs[T](n.Params, nil)
	bl0 := n.layout(1)
	nblocks := (npts + blockSize - 1) / blockSize
	nw := min(n.workers(), nblocks)
	bufs := make([][]T, nw)
	n.parallel(nblocks, func(w, b int) {
		if bufs[w] == nil {
			bufs[w] = make([]T, blockSize*bl0.perPoint)
		}
		bl := bl0.at(npts, b)
		forwardBlock(n, params, &bl, bufs[w][:bl.n*bl.perPoint], b*blockSize, x, nil, nil, y, nil, nil)
	})
}

func checkShape(name string, v []float64, rows, cols int) error {
	if len(v) != rows*cols {
		return fmt.Errorf("nn: %s has %d values, want %dx%d", name, len(v), rows, cols)
	}
	return nil
}

// forwardBlock runs the Taylor-propagated forward pass of one block whose
// first point is p0. Column layout of every slot (ld = nch·n): channel 0 is
// the value, channels 1…k1 the first derivatives along d1, channels
// k1+1…k1+k2 the first derivatives along d2, channels k1+k2+1…k1+2k2 the
// second derivatives along d2; channel c of point p is column c·n+p.
// The inputs are normalized in float64, then rounded to T; params are the
// weights in T.
func forwardBlock[T kernels.Float](n *Net, params []T, bl *blockLayout, buf []T, p0 int, x []float64, d1, d2 [][]float64, y []float64, dy1, dy2 [][]float64) {
	nb, nc := bl.n, bl.n*bl.nch
	k1, k2 := len(d1), len(d2)
	in := post(bl, buf, 0, In)
	for j := range In {
		c, s := n.Norm.Center[j], n.Norm.Scale[j]
		row := in[j*nc : (j+1)*nc]
		for p := range nb {
			row[p] = T((x[(p0+p)*In+j] - c) / s)
		}
		for k, d := range d1 {
			ch := row[(1+k)*nb : (2+k)*nb]
			for p := range nb {
				ch[p] = T(d[(p0+p)*In+j] / s)
			}
		}
		for k, d := range d2 {
			ch := row[(1+k1+k)*nb : (2+k1+k)*nb]
			for p := range nb {
				ch[p] = T(d[(p0+p)*In+j] / s)
			}
		}
		clear(row[(1+k1+k2)*nb:])
	}
	for k, st := range n.steps {
		if !st.dense {
			h2 := post(bl, buf, st.src, n.slotW[st.src])
			xs := post(bl, buf, st.skip, n.slotW[st.skip])
			out := post(bl, buf, k+1, n.slotW[k+1])
			a := T(sigmoid(n.Params[n.alphaT+st.block]))
			kernels.Mix(out, h2, xs, a)
			continue
		}
		l := n.layers[st.layer]
		h := post(bl, buf, st.src, l.in)
		z := post(bl, buf, k+1, l.out)
		kernels.MatMul(l.out, l.in, nc, params[l.w:l.b], h, nc, z, nc)
		bias := params[l.b : l.b+l.out]
		if l.tanh {
			tanhJetForward(nb, k1, k2, bias, z, pre(bl, buf, k, l.out))
			continue
		}
		for i, bi := range bias {
			row := z[i*nc : i*nc+nb]
			for p := range row {
				row[p] += bi
			}
		}
	}
	last := len(n.slotW) - 1
	out := post(bl, buf, last, Out)
	for o := range Out {
		row := out[o*nc : (o+1)*nc]
		for p := range nb {
			y[(p0+p)*Out+o] = float64(row[p])
		}
		for k, dy := range dy1 {
			ch := row[(1+k)*nb:]
			for p := range nb {
				dy[(p0+p)*Out+o] = float64(ch[p])
			}
		}
		for k, dy := range dy2 {
			ch := row[(1+k1+k2+k)*nb:]
			for p := range nb {
				dy[(p0+p)*Out+o] = float64(ch[p])
			}
		}
	}
}

// tanhJetForward adds the bias to the value channel of the pre-activations z
// (len(bias) rows, ld = nch·nb), applies tanh with its Taylor rules in place
// and saves the derivative channels' pre-activations in pre (ld = (nch−1)·nb)
// for the backward pass.
func tanhJetForward[T kernels.Float](nb, k1, k2 int, bias, z, pre []T) {
	nch := 1 + k1 + 2*k2
	nc, nd := nch*nb, (nch-1)*nb
	for i, bi := range bias {
		row := z[i*nc : (i+1)*nc]
		val := row[:nb]
		kernels.TanhBias(val, bi)
		if nch == 1 {
			continue
		}
		prow := pre[i*nd : (i+1)*nd]
		copy(prow, row[nb:])
		for f := 1; f <= k1+k2; f++ {
			ch := row[f*nb : (f+1)*nb]
			for p := range ch {
				a := val[p]
				ch[p] *= 1 - a*a
			}
		}
		for j := range k2 {
			zf := prow[(k1+j)*nb : (k1+j+1)*nb]
			ch := row[(1+k1+k2+j)*nb : (2+k1+k2+j)*nb]
			for p := range ch {
				a := val[p]
				s := 1 - a*a
				ch[p] = s*ch[p] - 2*a*s*zf[p]*zf[p]
			}
		}
	}
}

// BackwardJet accumulates into grad the gradient dL/dθ given the adjoints
// gy = dL/dy, gd1[k] = dL/d(dy1[k]) and gd2[j] = dL/d(dy2[j]) (npts x 2
// each; a nil slice or a nil entry means zero) of the outputs of the last
// ForwardJet on ws. It is reverse mode through the Taylor propagation.
// Params must not change between the forward pass and its backward pass.
func (n *Net) BackwardJet(ws *Workspace, gy []float64, gd1, gd2 [][]float64, grad []float64) error {
	if !ws.valid {
		return fmt.Errorf("nn: backward: workspace holds no forward pass")
	}
	if len(grad) != len(n.Params) {
		return fmt.Errorf("nn: backward: grad has %d values, want %d parameters", len(grad), len(n.Params))
	}
	npts, k1, k2 := ws.npts, ws.k1, ws.k2
	if gy != nil {
		if err := checkShape("gy", gy, npts, Out); err != nil {
			return err
		}
	}
	if len(gd1) > k1 || len(gd2) > k2 {
		return fmt.Errorf("nn: backward: %d/%d first/second adjoints for a forward pass with %d/%d directions",
			len(gd1), len(gd2), k1, k2)
	}
	for k, g := range gd1 {
		if g != nil {
			if err := checkShape(fmt.Sprintf("gd1[%d]", k), g, npts, Out); err != nil {
				return err
			}
		}
	}
	for k, g := range gd2 {
		if g != nil {
			if err := checkShape(fmt.Sprintf("gd2[%d]", k), g, npts, Out); err != nil {
				return err
			}
		}
	}
	if ws.prec == Float32 {
		backwardPass(n, &ws.f32, npts, k1, k2, gy, gd1, gd2, grad)
	} else {
		backwardPass(n, &ws.f64, npts, k1, k2, gy, gd1, gd2, grad)
	}
	return nil
}

// backwardPass is BackwardJet in precision T over the activations in a;
// the group partials are summed in T and added to grad in float64.
func backwardPass[T kernels.Float](n *Net, a *arena[T], npts, k1, k2 int, gy []float64, gd1, gd2 [][]float64, grad []float64) {
	nch := 1 + k1 + 2*k2
	bl0 := n.layout(nch)
	nblocks := (npts + blockSize - 1) / blockSize
	ngroups := min(maxGroups, nblocks)
	nw := min(n.workers(), ngroups)
	np := len(n.Params)
	if len(a.gpart) < ngroups*np {
		a.gpart = make([]T, ngroups*np)
	}
	clear(a.gpart[:ngroups*np])
	if len(a.adj) < nw {
		a.adj = append(a.adj, make([][]T, nw-len(a.adj))...)
	}
	for w := range nw {
		need := blockSize*bl0.postFloats + 2*blockSize*nch*maxWidth(n.slotW)
		if len(a.adj[w]) < need {
			a.adj[w] = make([]T, need)
		}
	}
	n.parallel(ngroups, func(w, g int) {
		gp := a.gpart[g*np : (g+1)*np]
		for b := g * nblocks / ngroups; b < (g+1)*nblocks/ngroups; b++ {
			bl, buf := block(bl0, npts, a.store, b)
			backwardBlock(n, a.params, &bl, buf, a.adj[w], b*blockSize, k1, k2, gy, gd1, gd2, gp)
		}
	})
	for g := range ngroups {
		for i, v := range a.gpart[g*np : (g+1)*np] {
			grad[i] += float64(v)
		}
	}
}

func maxWidth(ws []int) int {
	m := 0
	for _, w := range ws {
		m = max(m, w)
	}
	return m
}

// backwardBlock accumulates into g the parameter gradient of one block.
func backwardBlock[T kernels.Float](n *Net, params []T, bl *blockLayout, buf, scratch []T, p0, k1, k2 int, gy []float64, gd1, gd2 [][]float64, g []T) {
	nb, nc := bl.n, bl.n*bl.nch
	// Every adjoint slot is written (not added to) by the first step that
	// reaches it in reverse order, so the scratch needs no clearing.
	adjAll := scratch[:bl.postFloats*nb]
	tmp := scratch[bl.postFloats*nb:]
	adj := func(s int) []T { return post(bl, adjAll, s, n.slotW[s]) }

	last := len(n.slotW) - 1
	ga := adj(last)
	clear(ga)
	for o := range Out {
		row := ga[o*nc : (o+1)*nc]
		if gy != nil {
			for p := range nb {
				row[p] = T(gy[(p0+p)*Out+o])
			}
		}
		for k, gd := range gd1 {
			if gd == nil {
				continue
			}
			ch := row[(1+k)*nb:]
			for p := range nb {
				ch[p] = T(gd[(p0+p)*Out+o])
			}
		}
		for k, gd := range gd2 {
			if gd == nil {
				continue
			}
			ch := row[(1+k1+k2+k)*nb:]
			for p := range nb {
				ch[p] = T(gd[(p0+p)*Out+o])
			}
		}
	}
	for k := len(n.steps) - 1; k >= 0; k-- {
		st := n.steps[k]
		gout := adj(k + 1)
		if !st.dense {
			h2 := post(bl, buf, st.src, n.slotW[st.src])
			xs := post(bl, buf, st.skip, n.slotW[st.skip])
			at := n.alphaT + st.block
			a := T(sigmoid(n.Params[at]))
			g[at] += a * (1 - a) * kernels.MixAdjoint(gout, h2, xs, adj(st.src), adj(st.skip), a)
			continue
		}
		l := n.layers[st.layer]
		if l.tanh {
			tanhJetBackward(l.out, nb, k1, k2, post(bl, buf, k+1, l.out), pre(bl, buf, k, l.out), gout)
		}
		h := post(bl, buf, st.src, l.in)
		kernels.OuterAcc(l.out, l.in, nc, gout, nc, h, nc, g[l.w:l.b])
		kernels.RowSumAcc(l.out, nb, gout, nc, g[l.b:l.b+l.out])
		if st.src == 0 {
			continue // no adjoint needed for the inputs
		}
		gh := adj(st.src)
		if !st.accum {
			kernels.MatMulT(l.out, l.in, nc, params[l.w:l.b], gout, nc, gh, nc)
			continue
		}
		t := tmp[:l.in*nc]
		kernels.MatMulT(l.out, l.in, nc, params[l.w:l.b], gout, nc, t, nc)
		for i, v := range t {
			gh[i] += v
		}
	}
}

// tanhJetBackward turns, in place, the adjoints g of a tanh layer's outputs
// (all channels) into the adjoints of its pre-activations, reversing
// tanhJetForward: with s = 1−a², for first channels ȧ = s ż, for second
// channels ä = s z̈ − 2as ż_f² (ż_f the paired first channel along the same
// direction), and s depends on z through a.
func tanhJetBackward[T kernels.Float](out, nb, k1, k2 int, post, pre, g []T) {
	nch := 1 + k1 + 2*k2
	nc, nd := nch*nb, (nch-1)*nb
	for i := range out {
		grow := g[i*nc : (i+1)*nc]
		val := post[i*nc : i*nc+nb]
		gval := grow[:nb]
		if nch == 1 {
			kernels.MulTanhDeriv(gval, val)
			continue
		}
		prow := pre[i*nd : (i+1)*nd]
		for p := range nb {
			a := val[p]
			s := 1 - a*a
			var gs T
			ga := gval[p]
			for f := 1; f <= k1+k2; f++ {
				gf := grow[f*nb+p]
				gs += gf * prow[(f-1)*nb+p]
				grow[f*nb+p] = gf * s
			}
			for j := range k2 {
				f, q := 1+k1+j, 1+k1+k2+j
				zf, zq := prow[(f-1)*nb+p], prow[(q-1)*nb+p]
				gq := grow[q*nb+p]
				gs += gq * (zq - 2*a*zf*zf)
				ga -= 2 * s * zf * zf * gq
				grow[f*nb+p] -= 4 * a * s * zf * gq
				grow[q*nb+p] = gq * s
			}
			ga -= 2 * a * gs
			gval[p] = ga * s
		}
	}
}

// parallel runs fn over count items on the net's workers.
func (n *Net) parallel(count int, fn func(worker, i int)) {
	kernels.ParallelFor(count, n.workers(), fn)
}
