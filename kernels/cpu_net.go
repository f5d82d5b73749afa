package kernels

import (
	"fmt"
	"math"
)

// blockSize is the number of points of one block of the network passes:
// small enough that a block's activations of every layer stay in the L2
// cache, large enough that the inner loops over points are long.
const blockSize = 256

// maxGroups is the number of partial gradients of Backward, each the sum
// over a fixed run of blocks; they are added in group order, so the result
// does not depend on the number of workers or on their scheduling.
const maxGroups = 16

// cpuNet is the CPU network pass in arithmetic T with operands of type S.
// Each block of blockSize points runs all layers in turn with its
// activations in cache; the dense products and tanh are matMul, matMulT,
// outerAcc and tanhBias. The tape keeps, per point, the post-activations of
// every slot and Taylor channel and the tanh pre-activations of the
// derivative channels.
type cpuNet[T, S float] struct {
	c      *cpu
	spec   *NetSpec
	opt    NetOptions
	slotW  []int
	accum  []bool
	maxW   int
	nch    int // internal Taylor channels: 1 + K1 + 2·K2
	bl0    blockLayout
	params []T   // weights of the last Forward in T (the IO weights themselves when T == S)
	store  []T   // the tape, MaxPoints·perPoint values
	adj    [][]T // per worker: adjoint scratch of one block
	gpart  []T   // maxGroups partial gradients
	bufs   [][]T // per worker: one block's activations of a pass without tape
	npts   int   // points of the taped Forward
	valid  bool
	fwd    netFwdTask[T, S]
	bwd    netBwdTask[T, S]
}

// blockLayout is the geometry of one block's storage.
type blockLayout struct {
	n, nch     int   // points, Taylor channels
	slotOff    []int // slot s post-activations at slotOff[s]·n·nch, ld n·nch
	preOff     []int // step k's pre-activation derivative channels at preBase + preOff[k]·(nch−1)·n
	preBase    int
	perPoint   int // values per point
	postFloats int // per point: Σ slot widths · nch
}

// NewNet implements Backend.NewNet.
func (c *cpu) NewNet(spec *NetSpec, opt NetOptions) (Net, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch {
	case opt.Compute != F32 && opt.Compute != F64, opt.IO != F32 && opt.IO != F64:
		return nil, fmt.Errorf("kernels: cpu: network pass in %v with %v operands", opt.Compute, opt.IO)
	case opt.First < 0 || opt.Second < 0 || opt.MaxPoints < 0:
		return nil, fmt.Errorf("kernels: cpu: network pass with %d/%d directions, %d points", opt.First, opt.Second, opt.MaxPoints)
	}
	switch {
	case opt.Compute == F32 && opt.IO == F32:
		return newCPUNet[float32, float32](c, spec, opt), nil
	case opt.Compute == F32:
		return newCPUNet[float32, float64](c, spec, opt), nil
	case opt.IO == F32:
		return newCPUNet[float64, float32](c, spec, opt), nil
	}
	return newCPUNet[float64, float64](c, spec, opt), nil
}

func newCPUNet[T, S float](c *cpu, spec *NetSpec, opt NetOptions) *cpuNet[T, S] {
	n := &cpuNet[T, S]{c: c, spec: spec, opt: opt, slotW: spec.SlotWidths(), accum: spec.accumulates(),
		nch: 1 + opt.First + 2*opt.Second}
	for _, w := range n.slotW {
		n.maxW = max(n.maxW, w)
	}
	bl := blockLayout{nch: n.nch, slotOff: make([]int, len(n.slotW)), preOff: make([]int, len(spec.Steps))}
	f := 0
	for s, w := range n.slotW {
		bl.slotOff[s] = f
		f += w
	}
	bl.postFloats = f * n.nch
	p := 0
	for k, st := range spec.Steps {
		if !st.Mix && spec.Layers[st.Layer].Tanh {
			bl.preOff[k] = p
			p += spec.Layers[st.Layer].Out
		}
	}
	bl.perPoint = bl.postFloats + p*(n.nch-1)
	n.bl0 = bl
	n.params = make([]T, spec.NumParams)
	W := c.workers()
	if opt.Tape {
		n.store = make([]T, opt.MaxPoints*bl.perPoint)
		n.gpart = make([]T, maxGroups*spec.NumParams)
		n.adj = make([][]T, W)
		for w := range n.adj {
			n.adj[w] = make([]T, blockSize*bl.postFloats+2*blockSize*n.nch*n.maxW)
		}
	} else {
		n.bufs = make([][]T, W)
		for w := range n.bufs {
			n.bufs[w] = make([]T, blockSize*bl.perPoint)
		}
	}
	n.fwd.n, n.bwd.n = n, n
	n.fwd.dirs = make([][]S, opt.First+opt.Second)
	return n
}

// at returns the geometry of block b of a pass over npts points.
func (bl blockLayout) at(npts, b int) blockLayout {
	bl.n = min(blockSize, npts-b*blockSize)
	bl.preBase = bl.postFloats * bl.n
	return bl
}

func post[T float](bl *blockLayout, buf []T, s, w int) []T {
	nc := bl.n * bl.nch
	return buf[bl.slotOff[s]*nc : (bl.slotOff[s]+w)*nc]
}

func pre[T float](bl *blockLayout, buf []T, k, w int) []T {
	nd := bl.n * (bl.nch - 1)
	return buf[bl.preBase+bl.preOff[k]*nd : bl.preBase+(bl.preOff[k]+w)*nd]
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// Free implements Net.Free.
func (n *cpuNet[T, S]) Free() {
	n.store, n.adj, n.gpart, n.bufs, n.params, n.valid = nil, nil, nil, nil, nil, false
}

// paramsIn checks the parameter view and returns it as []S.
func (n *cpuNet[T, S]) paramsIn(params View, what string) ([]S, error) {
	if params.N != n.spec.NumParams {
		return nil, fmt.Errorf("kernels: cpu: %s: %d parameters, want %d", what, params.N, n.spec.NumParams)
	}
	return floats[S](n.c, params, what)
}

// Forward implements Net.Forward over blocks of blockSize points in parallel.
func (n *cpuNet[T, S]) Forward(params View, x Mat, dirs []Mat, y Mat) error {
	spec, opt := n.spec, n.opt
	npts := x.Cols
	nout := 1 + opt.First + opt.Second
	switch {
	case n.store == nil && n.bufs == nil:
		return fmt.Errorf("kernels: cpu: network forward: pass used after Free")
	case x.Rows != spec.In || y.Rows != nout*spec.Out || y.Cols != npts || len(dirs) != opt.First+opt.Second:
		return fmt.Errorf("kernels: cpu: network forward: x %dx%d, y %dx%d, %d directions; want %d x npts, %d x npts, %d",
			x.Rows, x.Cols, y.Rows, y.Cols, len(dirs), spec.In, nout*spec.Out, opt.First+opt.Second)
	case opt.Tape && npts > opt.MaxPoints:
		return fmt.Errorf("kernels: cpu: network forward: %d points, the pass holds %d", npts, opt.MaxPoints)
	}
	t := &n.fwd
	var err error
	if t.pS, err = n.paramsIn(params, "network forward params"); err != nil {
		return err
	}
	if t.x, err = floats[S](n.c, x.View, "network forward x"); err != nil {
		return err
	}
	if t.y, err = floats[S](n.c, y.View, "network forward y"); err != nil {
		return err
	}
	for k, d := range dirs {
		if d.Rows != spec.In || d.Cols != npts {
			return fmt.Errorf("kernels: cpu: network forward: direction %d is %dx%d, want %dx%d", k, d.Rows, d.Cols, spec.In, npts)
		}
		if t.dirs[k], err = floats[S](n.c, d.View, "network forward direction"); err != nil {
			return err
		}
	}
	if q, ok := any(t.pS).([]T); ok {
		n.params = q
	} else {
		n.params = n.params[:len(t.pS)]
		for i, v := range t.pS {
			n.params[i] = T(v)
		}
	}
	t.npts = npts
	n.npts, n.valid = npts, opt.Tape
	n.c.run((npts+blockSize-1)/blockSize, t)
	return nil
}

// netFwdTask is one Forward: block b on worker w.
type netFwdTask[T, S float] struct {
	n    *cpuNet[T, S]
	pS   []S
	x, y []S
	dirs [][]S
	npts int
}

func (t *netFwdTask[T, S]) run(w, b int) {
	n := t.n
	bl := n.bl0.at(t.npts, b)
	var buf []T
	if n.opt.Tape {
		lo := b * blockSize * bl.perPoint
		buf = n.store[lo : lo+bl.n*bl.perPoint]
	} else {
		buf = n.bufs[w][:bl.n*bl.perPoint]
	}
	n.forwardBlock(t, &bl, buf, b*blockSize)
}

// forwardBlock runs the Taylor-propagated forward pass of one block whose
// first point is p0. Column layout of every slot (ld = nch·n): channel 0 is
// the value, channels 1…K1 the first derivatives along the first
// directions, channels K1+1…K1+K2 the first derivatives along the second
// directions, channels K1+K2+1…K1+2K2 the second derivatives; channel c of
// point p is column c·n+p. The inputs are normalized in float64, then
// rounded to T.
func (n *cpuNet[T, S]) forwardBlock(t *netFwdTask[T, S], bl *blockLayout, buf []T, p0 int) {
	spec := n.spec
	nb, nc := bl.n, bl.n*bl.nch
	k1, k2 := n.opt.First, n.opt.Second
	ld := t.npts
	in := post(bl, buf, 0, spec.In)
	for j := range spec.In {
		c, s := spec.Center[j], spec.Scale[j]
		row := in[j*nc : (j+1)*nc]
		xr := t.x[j*ld+p0 : j*ld+p0+nb]
		for p := range nb {
			row[p] = T((float64(xr[p]) - c) / s)
		}
		for k, d := range t.dirs {
			ch, dr := row[(1+k)*nb:(2+k)*nb], d[j*ld+p0:j*ld+p0+nb]
			for p := range nb {
				ch[p] = T(float64(dr[p]) / s)
			}
		}
		clear(row[(1+k1+k2)*nb:])
	}
	params := n.params
	for k, st := range spec.Steps {
		if st.Mix {
			h2 := post(bl, buf, st.Src, n.slotW[st.Src])
			xs := post(bl, buf, st.Skip, n.slotW[st.Skip])
			out := post(bl, buf, k+1, n.slotW[k+1])
			mix(out, h2, xs, T(sigmoid(float64(t.pS[spec.AlphaT+st.Block]))))
			continue
		}
		l := spec.Layers[st.Layer]
		h := post(bl, buf, st.Src, l.In)
		z := post(bl, buf, k+1, l.Out)
		matMul(l.Out, l.In, nc, params[l.W:l.W+l.In*l.Out], h, nc, z, nc)
		bias := params[l.B : l.B+l.Out]
		if l.Tanh {
			tanhJetForward(nb, k1, k2, bias, z, pre(bl, buf, k, l.Out))
			continue
		}
		for i, bi := range bias {
			row := z[i*nc : i*nc+nb]
			for p := range row {
				row[p] += bi
			}
		}
	}
	out := post(bl, buf, len(n.slotW)-1, spec.Out)
	for o := range spec.Out {
		row := out[o*nc : (o+1)*nc]
		for c := range 1 + k1 + k2 {
			ch := row[outChannel(c, k1, k2)*nb:]
			yr := t.y[(c*spec.Out+o)*ld+p0 : (c*spec.Out+o)*ld+p0+nb]
			for p := range yr {
				yr[p] = S(ch[p])
			}
		}
	}
}

// outChannel returns the internal channel of output channel c: the value
// and first derivatives map to themselves, the second derivatives skip the
// K2 first derivatives along the second directions.
func outChannel(c, k1, k2 int) int {
	if c > k1 {
		return c + k2
	}
	return c
}

// Backward implements Net.Backward: groups of blocks in parallel, each
// group's gradient summed in T, the groups added to grad in order.
func (n *cpuNet[T, S]) Backward(params View, gy Mat, grad View) error {
	spec := n.spec
	switch {
	case !n.valid:
		return fmt.Errorf("kernels: cpu: network backward: no taped forward pass")
	case gy.Rows != (1+n.opt.First+n.opt.Second)*spec.Out || gy.Cols != n.npts:
		return fmt.Errorf("kernels: cpu: network backward: gy %dx%d, want %dx%d", gy.Rows, gy.Cols, (1+n.opt.First+n.opt.Second)*spec.Out, n.npts)
	case grad.N != spec.NumParams:
		return fmt.Errorf("kernels: cpu: network backward: gradient of %d values, want %d parameters", grad.N, spec.NumParams)
	}
	t := &n.bwd
	var err error
	if t.pS, err = n.paramsIn(params, "network backward params"); err != nil {
		return err
	}
	if t.gy, err = floats[S](n.c, gy.View, "network backward gy"); err != nil {
		return err
	}
	gd, err := floats[S](n.c, grad, "network backward gradient")
	if err != nil {
		return err
	}
	np := spec.NumParams
	t.npts = n.npts
	t.nblocks = (n.npts + blockSize - 1) / blockSize
	t.ngroups = min(maxGroups, t.nblocks)
	clear(n.gpart[:t.ngroups*np])
	n.c.run(t.ngroups, t)
	for g := range t.ngroups {
		for i, v := range n.gpart[g*np : (g+1)*np] {
			gd[i] += S(v)
		}
	}
	return nil
}

// netBwdTask is one Backward: group g of blocks on worker w.
type netBwdTask[T, S float] struct {
	n                      *cpuNet[T, S]
	pS, gy                 []S
	npts, nblocks, ngroups int
}

func (t *netBwdTask[T, S]) run(w, g int) {
	n := t.n
	np := n.spec.NumParams
	gp := n.gpart[g*np : (g+1)*np]
	for b := g * t.nblocks / t.ngroups; b < (g+1)*t.nblocks/t.ngroups; b++ {
		bl := n.bl0.at(t.npts, b)
		lo := b * blockSize * bl.perPoint
		n.backwardBlock(t, &bl, n.store[lo:lo+bl.n*bl.perPoint], n.adj[w], b*blockSize, gp)
	}
}

// backwardBlock accumulates into g the parameter gradient of one block.
func (n *cpuNet[T, S]) backwardBlock(t *netBwdTask[T, S], bl *blockLayout, buf, scratch []T, p0 int, g []T) {
	spec, params := n.spec, n.params
	nb, nc := bl.n, bl.n*bl.nch
	k1, k2 := n.opt.First, n.opt.Second
	ld := t.npts
	// Every adjoint slot is written (not added to) by the first step that
	// reaches it in reverse order, so the scratch needs no clearing.
	adjAll := scratch[:bl.postFloats*nb]
	tmp := scratch[bl.postFloats*nb:]
	adj := func(s int) []T { return post(bl, adjAll, s, n.slotW[s]) }

	ga := adj(len(n.slotW) - 1)
	clear(ga)
	for o := range spec.Out {
		row := ga[o*nc : (o+1)*nc]
		for c := range 1 + k1 + k2 {
			ch := row[outChannel(c, k1, k2)*nb:]
			gr := t.gy[(c*spec.Out+o)*ld+p0 : (c*spec.Out+o)*ld+p0+nb]
			for p, v := range gr {
				ch[p] = T(v)
			}
		}
	}
	for k := len(spec.Steps) - 1; k >= 0; k-- {
		st := spec.Steps[k]
		gout := adj(k + 1)
		if st.Mix {
			h2 := post(bl, buf, st.Src, n.slotW[st.Src])
			xs := post(bl, buf, st.Skip, n.slotW[st.Skip])
			at := spec.AlphaT + st.Block
			a := T(sigmoid(float64(t.pS[at])))
			g[at] += a * (1 - a) * mixAdjoint(gout, h2, xs, adj(st.Src), adj(st.Skip), a)
			continue
		}
		l := spec.Layers[st.Layer]
		if l.Tanh {
			tanhJetBackward(l.Out, nb, k1, k2, post(bl, buf, k+1, l.Out), pre(bl, buf, k, l.Out), gout)
		}
		h := post(bl, buf, st.Src, l.In)
		w := params[l.W : l.W+l.In*l.Out]
		outerAcc(l.Out, l.In, nc, gout, nc, h, nc, g[l.W:l.W+l.In*l.Out])
		rowSumAcc(l.Out, nb, gout, nc, g[l.B:l.B+l.Out])
		if st.Src == 0 {
			continue // no adjoint needed for the inputs
		}
		gh := adj(st.Src)
		if !n.accum[k] {
			matMulT(l.Out, l.In, nc, w, gout, nc, gh, nc)
			continue
		}
		tm := tmp[:l.In*nc]
		matMulT(l.Out, l.In, nc, w, gout, nc, tm, nc)
		for i, v := range tm {
			gh[i] += v
		}
	}
}

// tanhJetForward adds the bias to the value channel of the pre-activations z
// (len(bias) rows, ld = nch·nb), applies tanh with its Taylor rules in place
// and saves the derivative channels' pre-activations in pre (ld = (nch−1)·nb)
// for the backward pass.
func tanhJetForward[T float](nb, k1, k2 int, bias, z, pre []T) {
	nch := 1 + k1 + 2*k2
	nc, nd := nch*nb, (nch-1)*nb
	for i, bi := range bias {
		row := z[i*nc : (i+1)*nc]
		val := row[:nb]
		tanhBias(val, bi)
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

// tanhJetBackward turns, in place, the adjoints g of a tanh layer's outputs
// (all channels) into the adjoints of its pre-activations, reversing
// tanhJetForward: with s = 1−a², for first channels ȧ = s ż, for second
// channels ä = s z̈ − 2as ż_f² (ż_f the paired first channel along the same
// direction), and s depends on z through a.
func tanhJetBackward[T float](out, nb, k1, k2 int, post, pre, g []T) {
	nch := 1 + k1 + 2*k2
	nc, nd := nch*nb, (nch-1)*nb
	for i := range out {
		grow := g[i*nc : (i+1)*nc]
		val := post[i*nc : i*nc+nb]
		gval := grow[:nb]
		if nch == 1 {
			mulTanhDeriv(gval, val)
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
