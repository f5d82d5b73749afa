package pinn

import "gonum.org/v1/gonum/mat"

// dataTerm holds what L_D needs: the transfer matrix and the measured BSPM
// stored frame-major (row t = frame t) to match the window layout.
type dataTerm struct {
	R  *mat.Dense // m x n
	YT *mat.Dense // T x m, the BSPM transposed
}

// loss returns L_D of Eq. 5 over the batch frames,
//
//	L_D = 1/(m B) Σ_t Σ_l (y(l,t) − (R û(·,t))_l)²,
//
// where û(·,t) is window row b.row[t] of uW, and adds
// scale·∂L_D/∂û = scale·(2/(m B)) Rᵀ(R û − y) into guW.
func (d *dataTerm) loss(b *batch, uW, guW []float64, scale float64) float64 {
	m, n := d.R.Dims()
	B := len(b.frames)
	ub := mat.NewDense(B, n, nil)
	yb := mat.NewDense(B, m, nil)
	for k, t := range b.frames {
		r := b.row[t]
		ub.SetRow(k, uW[r*n:(r+1)*n])
		yb.SetRow(k, d.YT.RawRowView(t))
	}
	e := mat.NewDense(B, m, nil)
	e.Mul(ub, d.R.T())
	e.Sub(e, yb)
	var s float64
	for _, v := range e.RawMatrix().Data {
		s += v * v
	}
	N := float64(m * B)
	e.Scale(2*scale/N, e)
	g := mat.NewDense(B, n, nil)
	g.Mul(e, d.R)
	for k, t := range b.frames {
		r := b.row[t]
		dst := guW[r*n : (r+1)*n]
		for i, v := range g.RawRowView(k) {
			dst[i] += v
		}
	}
	return s / N
}
