package pinn

import (
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/nn"
)

// objective evaluates L = L_D + λ L_EP (Eq. 4) and its gradient with respect
// to the network weights on one mini-batch of frames.
type objective struct {
	cfg     *Config
	net     *nn.Net
	grid    *grid
	data    *dataTerm
	ap      ap.Params
	nodes   [][3]float64 // heart nodes (mm)
	normals [][3]float64 // unit outward vertex normals (for r_b)
	times   []float64    // frame times (AP units)
	truth   *mat.Dense   // n x T true u, monitoring only; nil when absent
	workers int          // goroutines of the loss loops; results do not depend on it

	ws [numWS]nn.Workspace
}

// setWorkers sets the number of goroutines of the network passes, the data
// products and the residual loops; the results do not depend on it.
func (o *objective) setWorkers(w int) {
	o.workers, o.net.Workers = w, w
}

// inputs returns the network inputs [x, y, z, t] (npts x 4, row-major) of
// all heart nodes at the given frames, frame-major: point r·n + i is node i
// at frames[r].
func (o *objective) inputs(frames []int) []float64 {
	n := len(o.nodes)
	x := make([]float64, 0, len(frames)*n*nn.In)
	for _, f := range frames {
		for _, p := range o.nodes {
			x = append(x, p[0], p[1], p[2], o.times[f])
		}
	}
	return x
}

// collocInputs returns the inputs of the collocation points, shifted by
// h along the vertex normal (h = 0: the points themselves).
func (o *objective) collocInputs(b *batch, idx []int, h float64) []float64 {
	n := len(o.nodes)
	x := make([]float64, 0, len(idx)*nn.In)
	for _, q := range idx {
		i, t := q%n, b.frames[q/n]
		p := o.nodes[i]
		if h != 0 {
			d := o.normals[i]
			p = [3]float64{p[0] + h*d[0], p[1] + h*d[1], p[2] + h*d[2]}
		}
		x = append(x, p[0], p[1], p[2], o.times[t])
	}
	return x
}

// draw returns the collocation points of a batch of B frames: N_c indices
// q into its B·n (node, frame) pairs (node q%n, batch frame q/n), drawn
// without replacement from rng and sorted; nc = 0 or nc ≥ B·n takes them
// all without drawing.
func (o *objective) draw(rng *rand.Rand, B, nc int) []int {
	total := B * len(o.nodes)
	idx := make([]int, total)
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

// eval returns L_D and L_EP on the batch frames with collocation
// points idx and adds ∂(L_D + λ L_EP)/∂θ into grad.
//
// The network is evaluated on every heart node of the window frames (the
// batch plus, for an ND time derivative, the Eq. 17–18 stencil frames
// around it), so mesh and temporal neighbours exist. L_D uses the batch
// frames; the residuals use the collocation points, with
//   - ND Δû: row i of the Eq. 15 matrix on frame t of the window,
//   - ND û_t, v̂_t: the Eq. 17–18 stencil over the window frames,
//   - AD û_t, v̂_t, Δû, n·∇û: the network's input jets at the points,
//   - ND n·∇û (Boundary on): (û(x+hn) − û(x−hn)) / 2h.
//
// Backpropagation applies the exact adjoints (Rᵀ, Lᵀ, the stencil's
// transpose, the jets' reverse pass), so the gradient is that of the
// computed loss.
func (o *objective) eval(frames []int, idx []int, grad []float64) (ld, lep float64, err error) {
	cfg, g := o.cfg, o.grid
	ndTime, ndLap := cfg.TimeDeriv == ND, cfg.Laplacian == ND
	b := g.newBatch(frames, ndTime)
	tape := &o.ws[wsWindow]
	uW, vW, err := o.forward(tape, o.inputs(b.win))
	if err != nil {
		return 0, 0, err
	}
	guW := make([]float64, len(uW))
	gvW := make([]float64, len(vW))

	ld = o.data.loss(b, uW, guW, 1, o.workers)

	c := newColloc(idx, o.workers)
	c.gather(g, b, uW, vW)
	if ndTime {
		c.ndTime(g, b, uW, vW)
	}
	if ndLap {
		c.ndLap(g, b, uW)
	}
	var jet *jetTape
	if !ndTime { // validate: an AD Laplacian implies an AD time derivative
		if jet, err = o.forwardJet(o.collocInputs(b, idx, 0), c, !ndLap, cfg.Boundary && !ndLap); err != nil {
			return 0, 0, err
		}
	}
	var tp, tm *nn.Workspace
	h := cfg.NormalStep
	if cfg.Boundary && ndLap {
		tp, tm = &o.ws[wsPlus], &o.ws[wsMinus]
		up, _, err := o.forward(tp, o.collocInputs(b, idx, h))
		if err != nil {
			return 0, 0, err
		}
		um, _, err := o.forward(tm, o.collocInputs(b, idx, -h))
		if err != nil {
			return 0, 0, err
		}
		for k := range idx {
			c.dn[k] = (up[k] - um[k]) / (2 * h)
		}
	}

	lep = c.epLoss(o.ap, cfg.Boundary, cfg.Lambda)

	c.scatter(g, b, guW, gvW)
	if ndTime {
		c.ndTimeT(g, b, guW, gvW)
	}
	if ndLap {
		c.ndLapT(g, b, guW)
	}
	if err := o.backward(tape, guW, gvW, grad); err != nil {
		return 0, 0, err
	}
	if jet != nil {
		if err := o.backwardJet(jet, c, grad); err != nil {
			return 0, 0, err
		}
	}
	if tp != nil {
		gp := make([]float64, len(idx))
		gm := make([]float64, len(idx))
		zero := make([]float64, len(idx))
		for k := range idx {
			gp[k] = c.gd[k] / (2 * h)
			gm[k] = -gp[k]
		}
		if err := o.backward(tp, gp, zero, grad); err != nil {
			return 0, 0, err
		}
		if err := o.backward(tm, gm, zero, grad); err != nil {
			return 0, 0, err
		}
	}
	return ld, lep, nil
}

// initRatio returns λ·L_EP/L_D over the whole grid: L_D and L_EP averaged
// over consecutive blocks of B frames (collocation points drawn from a PCG
// of its own, so the training draws do not depend on it).
func (o *objective) initRatio(B int) (float64, error) {
	rng := rand.New(rand.NewPCG(o.cfg.Seed, 0x7a710))
	grad := make([]float64, len(o.net.Params))
	var ld, lep, nf, nc float64
	for bs := 0; bs < o.grid.T; bs += B {
		frames := span(bs, min(o.grid.T, bs+B))
		idx := o.draw(rng, len(frames), o.cfg.Collocation)
		d, e, err := o.eval(frames, idx, grad)
		if err != nil {
			return 0, err
		}
		ld += d * float64(len(frames))
		lep += e * float64(len(idx))
		nf += float64(len(frames))
		nc += float64(len(idx))
	}
	return o.cfg.Lambda * (lep / nc) / (ld / nf), nil
}

// predict evaluates the network on the whole grid: U, V are n x T.
func (o *objective) predict() (U, V *mat.Dense, err error) {
	n, T := o.grid.n, o.grid.T
	U, V = mat.NewDense(n, T, nil), mat.NewDense(n, T, nil)
	const chunk = 16 // frames per forward pass: bounds the workspace memory
	for ws := 0; ws < T; ws += chunk {
		we := min(T, ws+chunk)
		u, v, err := o.forward(&o.ws[wsPredict], o.inputs(span(ws, we)))
		if err != nil {
			return nil, nil, err
		}
		for f := ws; f < we; f++ {
			for i := 0; i < n; i++ {
				U.Set(i, f, u[(f-ws)*n+i])
				V.Set(i, f, v[(f-ws)*n+i])
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

// span returns the frames lo, lo+1, …, hi−1.
func span(lo, hi int) []int {
	f := make([]int, hi-lo)
	for k := range f {
		f[k] = lo + k
	}
	return f
}
