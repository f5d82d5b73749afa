package kerneltest

import (
	"fmt"
	"math"
	"math/cmplx"
	"slices"

	"github.com/eandarn/eandarn/kernels"
)

// num is the arithmetic of the reference network: float64 for values,
// complex128 for complex-step derivatives with respect to the weights.
type num interface{ float64 | complex128 }

// arith holds the functions the reference needs in N.
type arith[N num] struct {
	tanh, sigmoid func(N) N
	of            func(float64) N
}

var (
	real64 = arith[float64]{tanh: math.Tanh, sigmoid: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
		of: func(x float64) float64 { return x }}
	cplx = arith[complex128]{tanh: cmplx.Tanh, sigmoid: func(x complex128) complex128 { return 1 / (1 + cmplx.Exp(-x)) },
		of: func(x float64) complex128 { return complex(x, 0) }}
)

// channels are one slot's activations at one point: the value, the first
// derivatives along the K1+K2 directions and the second derivatives along
// the K2 second-order directions.
type channels[N num] struct {
	v, d, dd [][]N // v has one row; d K1+K2; dd K2
}

// refNet evaluates the network s with parameters th at the npts points x
// (In x npts, row-major) with the directions dirs (K1+K2 matrices like x),
// point by point with the plain Taylor rules of kernels.Net.Forward, and
// returns y laid out like Forward's output.
func refNet[N num](f arith[N], s *kernels.NetSpec, th []N, x []float64, dirs [][]float64, k1, k2, npts int) []N {
	nout := 1 + k1 + k2
	y := make([]N, nout*s.Out*npts)
	widths := s.SlotWidths()
	slots := make([]channels[N], len(widths))
	for k, w := range widths {
		slots[k] = newChannels[N](w, k1+k2, k2)
	}
	for p := range npts {
		in := slots[0]
		for j := range s.In {
			in.v[0][j] = f.of((x[j*npts+p] - s.Center[j]) / s.Scale[j])
			for k := range k1 + k2 {
				in.d[k][j] = f.of(dirs[k][j*npts+p] / s.Scale[j])
			}
			for k := range k2 {
				in.dd[k][j] = 0
			}
		}
		for k, st := range s.Steps {
			src, out := slots[st.Src], slots[k+1]
			if st.Mix {
				a := f.sigmoid(th[s.AlphaT+st.Block])
				skip := slots[st.Skip]
				mixRows(out.v, src.v, skip.v, a)
				mixRows(out.d, src.d, skip.d, a)
				mixRows(out.dd, src.dd, skip.dd, a)
				continue
			}
			l := s.Layers[st.Layer]
			dense(out.v, src.v, th, l, true)
			dense(out.d, src.d, th, l, false)
			dense(out.dd, src.dd, th, l, false)
			if l.Tanh {
				for i := range l.Out {
					a := f.tanh(out.v[0][i])
					s1 := 1 - a*a
					for j := range k2 { // uses the first derivatives before they are scaled
						zf := out.d[k1+j][i]
						out.dd[j][i] = s1*out.dd[j][i] - 2*a*s1*zf*zf
					}
					for k := range k1 + k2 {
						out.d[k][i] *= s1
					}
					out.v[0][i] = a
				}
			}
		}
		last := slots[len(s.Steps)]
		for o := range s.Out {
			y[o*npts+p] = last.v[0][o]
			for k := range k1 {
				y[((1+k)*s.Out+o)*npts+p] = last.d[k][o]
			}
			for j := range k2 {
				y[((1+k1+j)*s.Out+o)*npts+p] = last.dd[j][o]
			}
		}
	}
	return y
}

func newChannels[N num](w, nd, n2 int) channels[N] {
	rows := func(n int) [][]N {
		r := make([][]N, n)
		for i := range r {
			r[i] = make([]N, w)
		}
		return r
	}
	return channels[N]{v: rows(1), d: rows(nd), dd: rows(n2)}
}

// dense sets out[c] = W in[c] (+ b when bias) for every channel c.
func dense[N num](out, in [][]N, th []N, l kernels.Layer, bias bool) {
	for c := range out {
		for i := range l.Out {
			var z N
			if bias {
				z = th[l.B+i]
			}
			for j := range l.In {
				z += th[l.W+i*l.In+j] * in[c][j]
			}
			out[c][i] = z
		}
	}
}

// mixRows sets out[c] = (1−a) h[c] + a x[c].
func mixRows[N num](out, h, x [][]N, a N) {
	for c := range out {
		for i := range out[c] {
			out[c][i] = (1-a)*h[c][i] + a*x[c][i]
		}
	}
}

// netCase is one architecture of the suite.
type netCase struct {
	name string
	arch kernels.Arch
	full bool // check every weight (small networks); else random directions
}

var netCases = []netCase{
	{"FNN 3x5", kernels.Arch{In: 4, Out: 2, Layers: 3, Width: 5}, true},
	{"ARN 4x10/1", kernels.Arch{In: 4, Out: 2, Layers: 4, Width: 10, Blocks: 1}, true},
	{"ARN 7x15/2, 5 inputs", kernels.Arch{In: 5, Out: 2, Layers: 7, Width: 15, Blocks: 2}, false},
	{"NN6 10x15/3", kernels.Arch{In: 4, Out: 2, Layers: 10, Width: 15, Blocks: 3}, false},
}

// randNet returns the spec of a with a random normalization and random
// weights, biases and α_T (none zero, so no check passes by a zero).
func (e *env) randNet(a kernels.Arch) (*kernels.NetSpec, []float64) {
	e.t.Helper()
	center, scale := make([]float64, a.In), make([]float64, a.In)
	for j := range a.In {
		center[j], scale[j] = 20*e.rng.NormFloat64(), 5+40*e.rng.Float64()
	}
	s, err := a.Spec(center, scale)
	e.must(err)
	th := make([]float64, s.NumParams)
	for _, l := range s.Layers {
		lim := math.Sqrt(6 / float64(l.In+l.Out))
		for k := range l.In * l.Out {
			th[l.W+k] = lim * (2*e.rng.Float64() - 1)
		}
		for i := range l.Out {
			th[l.B+i] = 0.3 * e.rng.NormFloat64()
		}
	}
	for b := range a.Blocks {
		th[s.AlphaT+b] = e.rng.NormFloat64()
	}
	return s, th
}

// points returns In x npts points in the spec's box and directions.
func (e *env) points(s *kernels.NetSpec, npts, ndirs int) ([]float64, [][]float64) {
	x := make([]float64, s.In*npts)
	for j := range s.In {
		for p := range npts {
			x[j*npts+p] = s.Center[j] + s.Scale[j]*(2*e.rng.Float64()-1)
		}
	}
	dirs := make([][]float64, ndirs)
	for k := range dirs {
		dirs[k] = e.randn(s.In * npts)
	}
	return x, dirs
}

// testNets checks Forward and Backward of every architecture, point count
// and jet configuration with arithmetic c on operands of the env's type.
func (e *env) testNets(c kernels.DType) {
	tolY, tolG := 1e-12, 1e-9
	if c == kernels.F32 {
		tolY, tolG = 2e-5, 1e-4
	}
	for _, nc := range netCases {
		for _, jets := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {2, 3}} {
			k1, k2 := jets[0], jets[1]
			pts := append(slices.Clone(sizes), 16*256+300) // more blocks than gradient groups
			for _, npts := range pts {
				if npts > 257 && (k1+k2 > 1 || nc.full) {
					continue // the reference is slow; the large case runs plain and with one direction
				}
				what := fmt.Sprintf("%s K1=%d K2=%d npts=%d", nc.name, k1, k2, npts)
				e.checkNet(what, nc, c, k1, k2, npts, tolY, tolG)
			}
		}
	}
	e.checkNetErrors(c)
}

func (e *env) checkNet(what string, nc netCase, c kernels.DType, k1, k2, npts int, tolY, tolG float64) {
	t := e.t
	s, th := e.randNet(nc.arch)
	x, dirs := e.points(s, npts, k1+k2)
	vth, vx := e.up(th), e.up(x)
	vdirs := make([]kernels.Mat, len(dirs))
	for k := range dirs {
		vdirs[k] = e.up(dirs[k]).Mat(s.In, npts)
	}
	nout := (1 + k1 + k2) * s.Out
	net, err := e.be.NewNet(s, kernels.NetOptions{Compute: c, IO: e.dt, First: k1, Second: k2, MaxPoints: npts, Tape: true})
	e.must(err)
	defer net.Free()
	y := e.alloc(e.dt, nout*npts).Mat(nout, npts)
	e.must(net.Forward(vth, vx.Mat(s.In, npts), vdirs, y))
	got := e.down(y.View)
	want := refNet(real64, s, th, x, dirs, k1, k2, npts)
	// Per output channel: relative to its largest magnitude.
	for r := range nout {
		var m float64
		for p := range npts {
			m = math.Max(m, math.Abs(want[r*npts+p]))
		}
		mag := make([]float64, npts)
		for p := range mag {
			mag[p] = math.Max(m, 1e-300)
		}
		e.check(fmt.Sprintf("%s output row %d", what, r), got[r*npts:(r+1)*npts], want[r*npts:(r+1)*npts], mag, tolY)
	}
	// A pass without tape gives the same bits.
	pred, err := e.be.NewNet(s, kernels.NetOptions{Compute: c, IO: e.dt, First: k1, Second: k2})
	e.must(err)
	defer pred.Free()
	yp := e.alloc(e.dt, nout*npts).Mat(nout, npts)
	e.must(pred.Forward(vth, vx.Mat(s.In, npts), vdirs, yp))
	if !slices.Equal(e.down(yp.View), got) {
		t.Fatalf("%s: the pass without tape differs from the taped one", what)
	}
	if pred.Backward(vth, yp, e.alloc(e.dt, s.NumParams)) == nil {
		t.Fatalf("%s: backward of a pass without tape accepted", what)
	}

	// Reverse pass: L = Σ gy·y.
	gy := e.randn(nout * npts)
	vgy := e.up(gy).Mat(nout, npts)
	grad := e.alloc(e.dt, s.NumParams)
	e.must(net.Backward(vth, vgy, grad))
	g := e.down(grad)
	var gmax float64
	for _, v := range g {
		gmax = math.Max(gmax, math.Abs(v))
	}
	// Backward adds to grad: again into an offset (loosely: the group sums
	// are added to the offset one by one; an overwrite would be off by 1).
	off := e.randn(s.NumParams)
	grad2 := e.up(off)
	e.must(net.Backward(vth, vgy, grad2))
	mag := make([]float64, len(off))
	for k := range off {
		mag[k] = math.Abs(off[k]) + gmax
		off[k] += g[k]
	}
	e.check(what+": gradient added to an offset", e.down(grad2), off, mag, 1e-3)
	// Complex-step derivatives of the reference along directions δ:
	// ⟨∇L, δ⟩ = Im L(θ + i h δ)/h, exact to rounding.
	const h = 1e-20
	var deltas [][]float64
	full := nc.full && npts <= 7
	if full {
		for k := range s.NumParams {
			d := make([]float64, s.NumParams)
			d[k] = 1
			deltas = append(deltas, d)
		}
	} else {
		for range 3 {
			deltas = append(deltas, e.randn(s.NumParams))
		}
	}
	for di, d := range deltas {
		thc := make([]complex128, len(th))
		for k := range th {
			thc[k] = complex(th[k], h*d[k])
		}
		yc := refNet(cplx, s, thc, x, dirs, k1, k2, npts)
		var cs float64
		for k, v := range yc {
			cs += gy[k] * imag(v) / h
		}
		var dot, norm float64
		for k := range g {
			dot += g[k] * d[k]
			norm += math.Abs(g[k] * d[k])
		}
		if full {
			norm = gmax // one weight: relative to the largest component
		}
		if !(math.Abs(dot-cs) <= tolG*norm) && !(norm == 0 && cs == 0) {
			t.Fatalf("%s: gradient along direction %d: %v, complex step %v (scale %v)", what, di, dot, cs, norm)
		}
	}
}

// checkNetErrors: bad options and shapes are errors.
func (e *env) checkNetErrors(c kernels.DType) {
	t := e.t
	s, th := e.randNet(kernels.Arch{In: 4, Out: 2, Layers: 3, Width: 5})
	vth := e.up(th)
	net, err := e.be.NewNet(s, kernels.NetOptions{Compute: c, IO: e.dt, MaxPoints: 10, Tape: true})
	e.must(err)
	defer net.Free()
	if net.Backward(vth, e.alloc(e.dt, 2*10).Mat(2, 10), e.alloc(e.dt, s.NumParams)) == nil {
		t.Error("backward before any forward accepted")
	}
	x, y := e.alloc(e.dt, 4*11).Mat(4, 11), e.alloc(e.dt, 2*11).Mat(2, 11)
	if net.Forward(vth, x, nil, y) == nil {
		t.Error("forward over more points than MaxPoints accepted")
	}
	x, y = e.alloc(e.dt, 3*5).Mat(3, 5), e.alloc(e.dt, 2*5).Mat(2, 5)
	if net.Forward(vth, x, nil, y) == nil {
		t.Error("forward with 3 input rows for 4 inputs accepted")
	}
	if net.Forward(vth.Slice(0, 5), e.alloc(e.dt, 4*5).Mat(4, 5), nil, y) == nil {
		t.Error("forward with 5 parameters accepted")
	}
	bad := *s
	bad.Steps = append(slices.Clone(s.Steps), kernels.Step{Src: 9})
	if _, err := e.be.NewNet(&bad, kernels.NetOptions{Compute: c, IO: e.dt}); err == nil {
		t.Error("a spec whose step reads a slot not yet written accepted")
	}
}
