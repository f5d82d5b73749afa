package kerneltest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eandarn/eandarn/kernels"
)

// testDeterministic runs the same sequence of parallel ops (large enough
// for several tasks of each) on backends opened with 1, 2 and 3 workers,
// twice on the last, and requires the same bits from all.
func testDeterministic(t *testing.T, name string, types []kernels.DType) {
	for _, d := range types {
		var ref []float64
		for _, w := range []int{1, 2, 3, 3} {
			e := &env{t: t, be: open(t, name, w), dt: d, rng: rand.New(rand.NewPCG(5, 5))}
			got := e.script()
			if ref == nil {
				ref = got
				continue
			}
			for k := range ref {
				if math.Float64bits(got[k]) != math.Float64bits(ref[k]) {
					t.Fatalf("%v, %d workers: result %d = %v, 1 worker %v", d, w, k, got[k], ref[k])
				}
			}
		}
	}
}

// script runs the parallel ops and the network passes on fixed random
// inputs and returns every output.
func (e *env) script() []float64 {
	var out []float64
	const m, n, B, W = 40, 700, 6, 12
	r, u := e.up(e.randn(m*n)), e.up(e.randn(W*n))
	et := e.alloc(e.dt, m*B).Mat(m, B)
	rows := e.upIdx([]int32{0, 2, 5, 7, 9, 11})
	ub := e.alloc(e.dt, B*n).Mat(B, n)
	e.must(e.be.GatherRows(ub, u.Mat(W, n), rows))
	e.must(e.be.MulABt(et, r.Mat(m, n), ub))
	g := e.alloc(e.dt, B*n).Mat(B, n)
	e.must(e.be.MulAB(g, et.View.Mat(B, m), r.Mat(m, n)))
	out = append(append(out, e.down(et.View)...), e.down(g.View)...)

	// Index ops over more than one task: inputs on the whole grid and at
	// points, gather and scatter.
	feat, times := e.up(e.randn(3*n)), e.up(e.randn(W))
	wins := e.upIdx([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	xg := e.alloc(e.dt, 4*W*n).Mat(4, W*n)
	e.must(e.be.Inputs(xg, feat.Mat(3, n), times, wins, kernels.View{}))
	pts := make([]int32, 0, W*n)
	for q := W*n - 1; q >= 0; q -= 2 {
		pts = append(pts, int32(q))
	}
	vp := e.upIdx(pts)
	xp := e.alloc(e.dt, 4*len(pts)).Mat(4, len(pts))
	e.must(e.be.Inputs(xp, feat.Mat(3, n), times, wins, vp))
	gat := e.alloc(e.dt, len(pts))
	e.must(e.be.Gather(gat, u, vp))
	e.must(e.be.ScatterAdd(u, gat, vp))
	out = append(append(append(out, e.down(xg.View)...), e.down(xp.View)...), e.down(u)...)

	csr, err := e.be.NewCSR(e.randCSR(n), e.dt)
	e.must(err)
	lap := e.alloc(e.dt, B*n).Mat(B, n)
	e.must(e.be.SpMMRows(lap, csr, u.Mat(W, n), rows))
	e.must(e.be.SpMMRowsAdjoint(u.Mat(W, n), csr, lap, rows))
	start, w := e.randStencil(W)
	st, err := e.be.NewStencil(start, w, e.dt)
	e.must(err)
	frames := e.upIdx([]int32{0, 3, 4, 6, 10, 11})
	var sr []int32
	for _, f := range []int32{0, 3, 4, 6, 10, 11} {
		for j := range int32(5) {
			sr = append(sr, start[f]+j) // the window is every frame
		}
	}
	srcRows := e.upIdx(sr)
	ut := e.alloc(e.dt, B*n).Mat(B, n)
	e.must(e.be.TimeDeriv(ut, st, u.Mat(W, n), frames, srcRows, 0.085))
	e.must(e.be.TimeDerivAdjoint(u.Mat(W, n), st, lap, frames, srcRows, 0.085))
	out = append(append(append(out, e.down(lap.View)...), e.down(ut.View)...), e.down(u)...)

	const nc = 3000
	q := kernels.APPoints{U: e.up(e.randn(nc)), V: e.up(e.randn(nc)), Ut: e.up(e.randn(nc)), Vt: e.up(e.randn(nc)),
		Lap: e.up(e.randn(nc)), Dn: e.up(e.randn(nc))}
	gq := kernels.APPoints{U: e.alloc(e.dt, nc), V: e.alloc(e.dt, nc), Ut: e.alloc(e.dt, nc), Vt: e.alloc(e.dt, nc),
		Lap: e.alloc(e.dt, nc), Dn: e.alloc(e.dt, nc)}
	loss := e.alloc(e.dt, 1)
	p := kernels.APParams{A: 0.1, D: 10, K: 8, E0: 0.002, Mu1: 0.3, Mu2: 0.3, EpsDelta: 0.1}
	e.must(e.be.APResidual(p, q, gq, 0.1, loss))
	out = append(append(out, e.down(loss)...), e.down(gq.U)...)

	s, th := e.randNet(kernels.Arch{In: 4, Out: 2, Layers: 10, Width: 15, Blocks: 3})
	const npts = 5000
	x, dirs := e.points(s, npts, 2)
	vth := e.up(th)
	net, err := e.be.NewNet(s, kernels.NetOptions{Compute: e.dt, IO: e.dt, First: 1, Second: 1, MaxPoints: npts, Tape: true})
	e.must(err)
	defer net.Free()
	vd := []kernels.Mat{e.up(dirs[0]).Mat(4, npts), e.up(dirs[1]).Mat(4, npts)}
	y := e.alloc(e.dt, 6*npts).Mat(6, npts)
	e.must(net.Forward(vth, e.up(x).Mat(4, npts), vd, y))
	grad := e.alloc(e.dt, s.NumParams)
	e.must(net.Backward(vth, e.up(e.randn(6*npts)).Mat(6, npts), grad))
	return append(append(out, e.down(y.View)...), e.down(grad)...)
}
