package pinn

import (
	"github.com/eandarn/eandarn/solver/nn"
)

// forward evaluates the network at the points x (npts x 4) on workspace
// ws (kept by the caller for backward; reused across steps so activations
// are not reallocated) and returns û, v̂ per point.
func (o *objective) forward(ws *nn.Workspace, x []float64) (u, v []float64, err error) {
	np := len(x) / nn.In
	y := make([]float64, np*nn.Out)
	if err := o.net.Forward(ws, x, y); err != nil {
		return nil, nil, err
	}
	u, v = make([]float64, np), make([]float64, np)
	for p := range u {
		u[p], v[p] = y[2*p], y[2*p+1]
	}
	return u, v, nil
}

// backward adds into grad the weight gradient of a loss whose derivatives
// with respect to the outputs of the forward pass on ws are gu, gv.
func (o *objective) backward(ws *nn.Workspace, gu, gv, grad []float64) error {
	dy := make([]float64, 2*len(gu))
	for p := range gu {
		dy[2*p], dy[2*p+1] = gu[p], gv[p]
	}
	return o.net.Backward(ws, dy, grad)
}

// jetTape is a ForwardJet pass at the collocation points and the layout of
// its derivative channels.
type jetTape struct {
	ws         *nn.Workspace
	k1         int // first-derivative directions: e_t, then n_p when normal
	lap        bool
	normal     bool
	dy1, dy2   [][]float64
	npts, kNrm int
}

// forwardJet fills the AD quantities of the collocation points x (npts x 4):
// û_t, v̂_t along e_t; Δû = Σ_j ∂²û/∂x_j² along e_x, e_y, e_z when lap;
// n·∇û along the vertex normal when normal.
func (o *objective) forwardJet(x []float64, c *colloc, lap, normal bool) (*jetTape, error) {
	np := len(x) / nn.In
	dir := func(f func(p int, d []float64)) []float64 {
		d := make([]float64, np*nn.In)
		for p := 0; p < np; p++ {
			f(p, d[p*nn.In:(p+1)*nn.In])
		}
		return d
	}
	d1 := [][]float64{dir(func(_ int, d []float64) { d[3] = 1 })}
	jt := &jetTape{ws: &o.ws[wsJet], lap: lap, normal: normal, npts: np}
	if normal {
		jt.kNrm = len(d1)
		d1 = append(d1, dir(func(p int, d []float64) {
			nv := o.normals[c.idx[p]%o.grid.n]
			d[0], d[1], d[2] = nv[0], nv[1], nv[2]
		}))
	}
	var d2 [][]float64
	if lap {
		for j := 0; j < 3; j++ {
			d2 = append(d2, dir(func(_ int, d []float64) { d[j] = 1 }))
		}
	}
	y := make([]float64, np*nn.Out)
	jt.dy1 = make([][]float64, len(d1))
	for k := range jt.dy1 {
		jt.dy1[k] = make([]float64, np*nn.Out)
	}
	jt.dy2 = make([][]float64, len(d2))
	for j := range jt.dy2 {
		jt.dy2[j] = make([]float64, np*nn.Out)
	}
	if err := o.net.ForwardJet(jt.ws, x, d1, d2, y, jt.dy1, jt.dy2); err != nil {
		return nil, err
	}
	for p := 0; p < np; p++ {
		c.ut[p], c.vt[p] = jt.dy1[0][2*p], jt.dy1[0][2*p+1]
		if normal {
			c.dn[p] = jt.dy1[jt.kNrm][2*p]
		}
		if lap {
			c.lap[p] = jt.dy2[0][2*p] + jt.dy2[1][2*p] + jt.dy2[2][2*p]
		}
	}
	return jt, nil
}

// backwardJet adds into grad the weight gradient through the jet pass given
// the loss derivatives with respect to the AD quantities in c.
func (o *objective) backwardJet(jt *jetTape, c *colloc, grad []float64) error {
	np := jt.npts
	gd1 := make([][]float64, len(jt.dy1))
	for k := range gd1 {
		gd1[k] = make([]float64, np*nn.Out)
	}
	var gd2 [][]float64
	if jt.lap {
		gd2 = make([][]float64, 3)
		for j := range gd2 {
			gd2[j] = make([]float64, np*nn.Out)
		}
	}
	for p := 0; p < np; p++ {
		gd1[0][2*p], gd1[0][2*p+1] = c.gut[p], c.gvt[p]
		if jt.normal {
			gd1[jt.kNrm][2*p] = c.gd[p]
		}
		for j := range gd2 {
			gd2[j][2*p] = c.glap[p]
		}
	}
	return o.net.BackwardJet(jt.ws, nil, gd1, gd2, grad)
}

// Workspaces of one step: the window pass, the jet pass, the passes at
// x ± h n for the ND r_b, and prediction.
const (
	wsWindow = iota
	wsJet
	wsPlus
	wsMinus
	wsPredict
	numWS
)
