package pinn

import (
	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/kernels"
)

// dataTerm holds what L_D needs: the transfer matrix and the measured BSPM
// stored frame-major (row t = frame t) to match the window layout.
type dataTerm struct {
	m, n int
	r    []float64 // R, m x n row-major
	yt   []float64 // the BSPM transposed, T x m row-major
}

// rowChunk is the number of rows of R (for Û Rᵀ) or columns (for E R) one
// task of the data products takes: the tasks are fixed, so the sums do not
// depend on the number of goroutines.
const rowChunk = 32

func newDataTerm(R, bspm mat.Matrix) *dataTerm {
	m, n := R.Dims()
	_, T := bspm.Dims()
	d := &dataTerm{m: m, n: n, r: make([]float64, m*n), yt: make([]float64, T*m)}
	for i := range m {
		for j := range n {
			d.r[i*n+j] = R.At(i, j)
		}
		for t := range T {
			d.yt[t*m+i] = bspm.At(i, t)
		}
	}
	return d
}

// loss returns L_D of Eq. 5 over the batch frames,
//
//	L_D = 1/(m B) Σ_t Σ_l (y(l,t) − (R û(·,t))_l)²,
//
// where û(·,t) is window row b.row[t] of uW, and adds
// scale·∂L_D/∂û = scale·(2/(m B)) Rᵀ(R û − y) into guW, on workers
// goroutines (the result does not depend on their number).
//
// The products are kernels.OuterAcc (Eᵀ = R Ûᵀ, dot products over the n
// nodes) and kernels.MatMul (G = E R) over fixed chunks of rows of R and of
// nodes, in parallel.
func (d *dataTerm) loss(b *batch, uW, guW []float64, scale float64, workers int) float64 {
	m, n := d.m, d.n
	B := len(b.frames)
	ub := make([]float64, B*n)
	for k, t := range b.frames {
		r := b.row[t]
		copy(ub[k*n:(k+1)*n], uW[r*n:(r+1)*n])
	}
	et := make([]float64, m*B) // Eᵀ = R Ûᵀ − Yᵀ, m x B
	kernels.ParallelFor((m+rowChunk-1)/rowChunk, workers, func(_, c int) {
		i0, i1 := c*rowChunk, min(m, (c+1)*rowChunk)
		kernels.OuterAcc(i1-i0, B, n, d.r[i0*n:], n, ub, n, et[i0*B:])
	})
	N := float64(m * B)
	e := make([]float64, B*m) // E scaled to the adjoint 2·scale/N (R û − y), B x m
	var s float64
	for k, t := range b.frames {
		y := d.yt[t*m : (t+1)*m]
		for i := range m {
			v := et[i*B+k] - y[i]
			s += v * v
			e[k*m+i] = 2 * scale / N * v
		}
	}
	g := make([]float64, B*n)
	kernels.ParallelFor((n+rowChunk-1)/rowChunk, workers, func(_, c int) {
		j0, j1 := c*rowChunk, min(n, (c+1)*rowChunk)
		kernels.MatMul(B, m, j1-j0, e, d.r[j0:], n, g[j0:], n)
	})
	for k, t := range b.frames {
		r := b.row[t]
		dst := guW[r*n : (r+1)*n]
		for i, v := range g[k*n : (k+1)*n] {
			dst[i] += v
		}
	}
	return s / N
}
