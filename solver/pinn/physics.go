package pinn

import (
	"math"
	"sort"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/sparse"
	"github.com/eandarn/eandarn/solver/temporal"
)

// grid is the spatiotemporal grid of a problem as the losses see it: n heart
// nodes, T frames at spacing tau, the Eq. 15 Laplacian over the nodes.
type grid struct {
	n, T int
	tau  float64
	lap  *sparse.CSR // Eq. 15, n x n
}

// batch is the frames of one step: the batch frames where L_D and the
// residuals are taken, and the window frames the network is evaluated on
// (every heart node of each), which add, for an ND time derivative, the
// Eq. 17–18 stencil frames of every batch frame.
type batch struct {
	frames []int // batch frames, increasing
	win    []int // window frames, increasing, ⊇ frames
	row    []int // row[f]: position of frame f in win, −1 when absent (len T)
}

// newBatch returns the batch of the given increasing frames.
func (g *grid) newBatch(frames []int, nd bool) *batch {
	b := &batch{frames: frames, row: make([]int, g.T)}
	for f := range b.row {
		b.row[f] = -1
	}
	mark := func(f int) { b.row[f] = 0 }
	for _, t := range frames {
		mark(t)
		if nd {
			s, _ := temporal.Weights(t, g.T)
			for j := s; j < s+5; j++ {
				mark(j)
			}
		}
	}
	for f, r := range b.row {
		if r == 0 {
			b.row[f] = len(b.win)
			b.win = append(b.win, f)
		}
	}
	return b
}

// at returns the window index (row·n + node) of collocation index q.
func (b *batch) at(n, q int) int { return b.row[b.frames[q/n]]*n + q%n }

// colloc holds the quantities of the residuals at the N_c collocation points
// of one step and, after epLoss, the loss's derivatives with respect to each.
// Point k is heart node idx[k] % n at batch frame frames[idx[k] / n]; idx is
// increasing (objective.draw sorts it).
//
// The loops run on workers goroutines over fixed tasks (chunks of points,
// of nodes or of frames) chosen so that no two tasks write the same value
// and every value receives its terms in the serial order: the results do
// not depend on the number of goroutines.
type colloc struct {
	idx                        []int
	workers                    int
	u, v, ut, vt, lap, dn      []float64
	gu, gv, gut, gvt, glap, gd []float64
}

func newColloc(idx []int, workers int) *colloc {
	k := len(idx)
	buf := make([]float64, 12*k)
	s := func(i int) []float64 { return buf[i*k : (i+1)*k : (i+1)*k] }
	return &colloc{idx: idx, workers: workers,
		u: s(0), v: s(1), ut: s(2), vt: s(3), lap: s(4), dn: s(5),
		gu: s(6), gv: s(7), gut: s(8), gvt: s(9), glap: s(10), gd: s(11)}
}

// pointChunk and nodeChunk are the sizes of the tasks over collocation
// points and over heart nodes.
const pointChunk, nodeChunk = 1024, 128

// forPoints calls fn(chunk, k0, k1) for the fixed chunks [k0, k1) of the
// collocation points, in parallel; fn must write only entries k0 … k1−1.
func (c *colloc) forPoints(fn func(chunk, k0, k1 int)) int {
	nk := len(c.idx)
	nchunks := (nk + pointChunk - 1) / pointChunk
	kernels.ParallelFor(nchunks, c.workers, func(_, ch int) {
		fn(ch, ch*pointChunk, min(nk, (ch+1)*pointChunk))
	})
	return nchunks
}

// pointsAt returns the range [k0, k1) of collocation points at batch frame
// fb whose node is in [i0, i1) (idx is increasing).
func (c *colloc) pointsAt(n, fb, i0, i1 int) (k0, k1 int) {
	return sort.SearchInts(c.idx, fb*n+i0), sort.SearchInts(c.idx, fb*n+i1)
}

// epLoss returns L_EP of Eq. 9 over the collocation points,
//
//	L_EP = (1/N_c) Σ_k r_u(k)² + r_v(k)² + r_b(k)²,
//
// with r_u, r_v of Eq. 6–7 (ap.Params.PointU, PointV; ε raw or guarded per
// p.EpsDelta) and r_b = n·∇u (Eq. 8) when boundary is set, and stores
// scale·∂L_EP/∂q for every quantity q (scale = λ for the total loss). The
// sum is taken per chunk of points, the chunks added in order.
func (c *colloc) epLoss(p ap.Params, boundary bool, scale float64) float64 {
	nc := float64(len(c.idx))
	parts := make([]float64, (len(c.idx)+pointChunk-1)/pointChunk)
	c.forPoints(func(ch, k0, k1 int) {
		var sum float64
		for k := k0; k < k1; k++ {
			ru, du := p.PointU(c.u[k], c.v[k], c.ut[k], c.lap[k])
			rv, dv := p.PointV(c.u[k], c.v[k], c.vt[k])
			sum += ru*ru + rv*rv
			a, b := 2*scale*ru/nc, 2*scale*rv/nc
			c.gu[k] = a*du.U + b*dv.U
			c.gv[k] = a*du.V + b*dv.V
			c.gut[k] = a * du.Ut
			c.glap[k] = a * du.Lapu
			c.gvt[k] = b * dv.Vt
			c.gd[k] = 0
			if boundary {
				sum += c.dn[k] * c.dn[k]
				c.gd[k] = 2 * scale * c.dn[k] / nc
			}
		}
		parts[ch] = sum
	})
	var sum float64
	for _, v := range parts {
		sum += v
	}
	return sum / nc
}

// gather copies û, v̂ at the collocation points out of the window values
// uW, vW (window row r, node i at r·n+i).
func (c *colloc) gather(g *grid, b *batch, uW, vW []float64) {
	c.forPoints(func(_, k0, k1 int) {
		for k := k0; k < k1; k++ {
			p := b.at(g.n, c.idx[k])
			c.u[k], c.v[k] = uW[p], vW[p]
		}
	})
}

// scatter is the adjoint of gather: guW, gvW += the u, v derivatives.
// Distinct points have distinct window positions, so chunks do not collide.
func (c *colloc) scatter(g *grid, b *batch, guW, gvW []float64) {
	c.forPoints(func(_, k0, k1 int) {
		for k := k0; k < k1; k++ {
			p := b.at(g.n, c.idx[k])
			guW[p] += c.gu[k]
			gvW[p] += c.gv[k]
		}
	})
}

// ndTime fills u_t, v_t at the collocation points by the Eq. 17–18 stencil
// over the window values: u_t(i,t) = Σ_j w_j û(i, s+j) / τ with
// (s, w) = temporal.Weights(t, T).
func (c *colloc) ndTime(g *grid, b *batch, uW, vW []float64) {
	c.forPoints(func(_, k0, k1 int) {
		for k := k0; k < k1; k++ {
			q := c.idx[k]
			i, t := q%g.n, b.frames[q/g.n]
			s, w := temporal.Weights(t, g.T)
			var x, y float64
			for j, wj := range w {
				p := b.row[s+j]*g.n + i
				x += wj * uW[p]
				y += wj * vW[p]
			}
			c.ut[k], c.vt[k] = x/g.tau, y/g.tau
		}
	})
}

// ndTimeT is the adjoint of ndTime (Dᵀ): it adds the stencil-weighted
// derivatives into guW, gvW. A point writes only its own node (at the
// stencil frames), so the tasks are chunks of nodes, each taking its points
// frame by frame in increasing order.
func (c *colloc) ndTimeT(g *grid, b *batch, guW, gvW []float64) {
	kernels.ParallelFor((g.n+nodeChunk-1)/nodeChunk, c.workers, func(_, ch int) {
		i0, i1 := ch*nodeChunk, min(g.n, (ch+1)*nodeChunk)
		for fb, t := range b.frames {
			s, w := temporal.Weights(t, g.T)
			k0, k1 := c.pointsAt(g.n, fb, i0, i1)
			for k := k0; k < k1; k++ {
				i := c.idx[k] % g.n
				x, y := c.gut[k]/g.tau, c.gvt[k]/g.tau
				for j, wj := range w {
					p := b.row[s+j]*g.n + i
					guW[p] += wj * x
					gvW[p] += wj * y
				}
			}
		}
	})
}

// ndLap fills Δû at the collocation points by row i of the Eq. 15 matrix
// applied to frame t of the window: Δû(i,t) = Σ_j L_ij û(j,t).
func (c *colloc) ndLap(g *grid, b *batch, uW []float64) {
	L := g.lap
	c.forPoints(func(_, k0, k1 int) {
		for k := k0; k < k1; k++ {
			q := c.idx[k]
			i, r := q%g.n, b.row[b.frames[q/g.n]]
			fr := uW[r*g.n : (r+1)*g.n]
			var s float64
			for p := L.RowPtr[i]; p < L.RowPtr[i+1]; p++ {
				s += L.Val[p] * fr[L.ColIdx[p]]
			}
			c.lap[k] = s
		}
	})
}

// ndLapT is the adjoint of ndLap (Lᵀ): guW(j,t) += L_ij · ∂L/∂Δû(i,t). A
// point writes only its own frame, so the tasks are the batch frames.
func (c *colloc) ndLapT(g *grid, b *batch, guW []float64) {
	L := g.lap
	kernels.ParallelFor(len(b.frames), c.workers, func(_, fb int) {
		r := b.row[b.frames[fb]]
		fr := guW[r*g.n : (r+1)*g.n]
		k0, k1 := c.pointsAt(g.n, fb, 0, g.n)
		for k := k0; k < k1; k++ {
			i, gl := c.idx[k]%g.n, c.glap[k]
			for p := L.RowPtr[i]; p < L.RowPtr[i+1]; p++ {
				fr[L.ColIdx[p]] += L.Val[p] * gl
			}
		}
	})
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
