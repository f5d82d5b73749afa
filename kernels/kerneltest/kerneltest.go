// Package kerneltest is the conformance suite of kernels.Backend, in the
// way gonum's lapack/testlapack serves every LAPACK implementation: a
// backend's test calls Run with its registry name,
//
//	func TestConformance(t *testing.T) { kerneltest.Run(t, "cpu") }
//
// and every op is checked, in every floating-point type the backend
// supports, against float64 reference loops written here from the formulas
// of the kernels documentation, on random inputs of awkward sizes (1, 7,
// 255, 256, 257 points, widths 5, 10 and 15, empty batches): memory and
// elementwise ops, network inputs, gather and scatter, the data products
// and L_D, the sparse operator and the time stencil with their adjoints,
// the Aliev–Panfilov residuals and L_EP, Adam, and the network passes (FNN
// and ARN, values and Taylor jets against a reference network, the reverse
// pass against complex-step derivatives of that reference). Finally every
// op must give the same bits for 1, 2 and 3 workers and on a repeated run.
//
// Tolerances: a result that is a sum of terms may differ from the float64
// reference by tol·Σ|terms| with tol = 64·ε of the op's type (ε = 2⁻⁵² for
// float64, 2⁻²³ for float32: the summation order is the backend's); the
// Aliev–Panfilov residual and its adjoint, whose terms cancel, by 1e-12
// (float64) and 1e-4 (float32) relative to the magnitudes of their terms;
// network outputs and jets by 1e-12 (float64 arithmetic) and 2e-5
// (float32) of the largest output of their channel; weight gradients by
// 1e-9 and 1e-4 of the gradient's 1-norm along each check direction.
package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/eandarn/eandarn/kernels"
)

// Run runs the whole suite on the backend registered under name.
func Run(t *testing.T, name string) {
	be := open(t, name, 0)
	var types []kernels.DType
	for _, d := range []kernels.DType{kernels.F64, kernels.F32} {
		if be.Supports(d) {
			types = append(types, d)
		}
	}
	if len(types) == 0 || !be.Supports(kernels.I32) {
		t.Fatalf("%s supports neither float64 nor float32, or no int32 indices", name)
	}
	for _, d := range types {
		e := &env{t: t, be: be, dt: d, rng: rand.New(rand.NewPCG(uint64(d), 17))}
		t.Run(d.String(), func(t *testing.T) {
			e.t = t
			t.Run("memory", e.testMemory)
			t.Run("elementwise", e.testElementwise)
			t.Run("inputs", e.testInputs)
			t.Run("gather", e.testGather)
			t.Run("data", e.testData)
			t.Run("sparse", e.testSparse)
			t.Run("stencil", e.testStencil)
			t.Run("ap", e.testAP)
			t.Run("adam", e.testAdam)
		})
	}
	for _, c := range types {
		for _, io := range types {
			if io == kernels.F32 && c == kernels.F64 {
				continue
			}
			e := &env{t: t, be: be, dt: io, rng: rand.New(rand.NewPCG(uint64(c), uint64(io)))}
			t.Run(fmt.Sprintf("net/%v-on-%v", c, io), func(t *testing.T) {
				e.t = t
				e.testNets(c)
			})
		}
	}
	if len(types) == 2 {
		t.Run("convert", func(t *testing.T) {
			e := &env{t: t, be: be, dt: kernels.F64, rng: rand.New(rand.NewPCG(3, 3))}
			e.testConvert()
		})
	}
	t.Run("deterministic", func(t *testing.T) { testDeterministic(t, name, types) })
}

func open(t *testing.T, name string, workers int) kernels.Backend {
	t.Helper()
	be, err := kernels.Open(name, kernels.Options{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

// env runs checks on one backend in one type.
type env struct {
	t   *testing.T
	be  kernels.Backend
	dt  kernels.DType
	rng *rand.Rand
}

// eps is the unit roundoff of the env's type.
func (e *env) eps() float64 {
	if e.dt == kernels.F32 {
		return 0x1p-23
	}
	return 0x1p-52
}

// must fails the test on an error.
func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// alloc returns a zeroed view of n elements of type d.
func (e *env) alloc(d kernels.DType, n int) kernels.View {
	e.t.Helper()
	b, err := e.be.Alloc(d, n)
	e.must(err)
	e.t.Cleanup(func() { e.be.Free(b) })
	return kernels.Whole(b)
}

// up uploads v (rounded to the env's type, in place, so that v holds what
// the backend holds).
func (e *env) up(v []float64) kernels.View {
	e.t.Helper()
	x := e.alloc(e.dt, len(v))
	e.must(e.be.Upload(x, v))
	copy(v, e.down(x))
	return x
}

// upIdx uploads indices.
func (e *env) upIdx(v []int32) kernels.View {
	e.t.Helper()
	x := e.alloc(kernels.I32, len(v))
	e.must(e.be.UploadIndex(x, v))
	return x
}

// down downloads a view.
func (e *env) down(v kernels.View) []float64 {
	e.t.Helper()
	x := make([]float64, v.N)
	e.must(e.be.Download(x, v))
	return x
}

// randn returns n standard normal values.
func (e *env) randn(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = e.rng.NormFloat64()
	}
	return v
}

// check compares got with want element by element: |got−want| ≤
// tol·mag[k] (mag nil: tol·max(1, |want[k]|)).
func (e *env) check(what string, got, want, mag []float64, tol float64) {
	e.t.Helper()
	if len(got) != len(want) {
		e.t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for k := range want {
		m := math.Max(1, math.Abs(want[k]))
		if mag != nil {
			m = mag[k]
		}
		if d := math.Abs(got[k] - want[k]); !(d <= tol*m) {
			e.t.Fatalf("%s[%d] = %v, want %v (|diff| %.3g > %.3g)", what, k, got[k], want[k], d, tol*m)
		}
	}
}

// sizes are the awkward point counts of the suite: around a 256-point
// block, a single point and none.
var sizes = []int{0, 1, 7, 255, 256, 257}

func (e *env) testMemory(t *testing.T) {
	e.t = t
	v := e.randn(257)
	x := e.up(v)
	if got := e.down(x); !slices.Equal(got, v) {
		t.Fatal("download differs from the upload")
	}
	if x.DType() != e.dt || x.Buf.Len() != 257 {
		t.Fatalf("buffer of %v[%d], want %v[257]", x.DType(), x.Buf.Len(), e.dt)
	}
	e.must(e.be.Fill(x.Slice(3, 10), 2.5))
	for k, g := range e.down(x) {
		if want := v[k]; k >= 3 && k < 10 && g != 2.5 || (k < 3 || k >= 10) && g != want {
			t.Fatalf("fill of [3,10): element %d = %v", k, g)
		}
	}
	y := e.alloc(e.dt, 7)
	e.must(e.be.Copy(y, x.Slice(100, 107)))
	e.check("copy", e.down(y), v[100:107], nil, 0)
	if e.be.Upload(y, v) == nil {
		t.Error("upload of 257 values into 7 accepted")
	}
	if e.be.Copy(y, x) == nil {
		t.Error("copy between views of 7 and 257 elements accepted")
	}
	z, err := e.be.Alloc(e.dt, 4)
	e.must(err)
	e.be.Free(z)
	if e.be.Upload(kernels.Whole(z), []float64{1, 2, 3, 4}) == nil {
		t.Error("upload into a freed buffer accepted")
	}
	if e.be.Fill(kernels.View{Buf: foreign{e.dt}, N: 1}, 0) == nil {
		t.Error("foreign buffer accepted")
	}
	i := e.upIdx([]int32{4, -1, 7})
	if e.be.Fill(i, 0) == nil {
		t.Error("fill of an index buffer accepted")
	}
}

// foreign is a Buffer of no backend.
type foreign struct{ d kernels.DType }

func (f foreign) DType() kernels.DType { return f.d }
func (f foreign) Len() int             { return 1 }

func (e *env) testElementwise(t *testing.T) {
	e.t = t
	for _, n := range sizes {
		a, b := e.randn(n), e.randn(n)
		va, vb, dst := e.up(a), e.up(b), e.alloc(e.dt, n)
		sum, dif, mag := make([]float64, n), make([]float64, n), make([]float64, n)
		for k := range n {
			sum[k], dif[k] = a[k]+b[k], (a[k]-b[k])/0.3
			mag[k] = (math.Abs(a[k]) + math.Abs(b[k])) / 0.3
		}
		e.must(e.be.Add(dst, va, vb))
		e.check("add", e.down(dst), sum, mag, 2*e.eps())
		e.must(e.be.Diff(dst, va, vb, 0.3))
		e.check("diff", e.down(dst), dif, mag, 4*e.eps())
		e.must(e.be.Add(va, va, vb)) // in place
		e.check("add in place", e.down(va), sum, mag, 2*e.eps())
		flag := e.alloc(e.dt, 1)
		e.must(e.be.AllFinite(flag, vb))
		if f := e.down(flag)[0]; f != 1 {
			t.Fatalf("all finite of %d finite values: %v", n, f)
		}
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			if n == 0 {
				break
			}
			c := slices.Clone(b)
			c[n-1] = bad
			e.must(e.be.AllFinite(flag, e.up(c)))
			if f := e.down(flag)[0]; f != 0 {
				t.Fatalf("all finite with %v at %d of %d: %v", bad, n-1, n, f)
			}
		}
	}
}

func (e *env) testInputs(t *testing.T) {
	e.t = t
	for _, n := range []int{1, 7, 256} {
		for _, F := range []int{3, 4} {
			T := 9
			feat, times := e.randn(F*n), e.randn(T)
			vf, vt := e.up(feat), e.up(times)
			frames := []int32{8, 2, 5}
			vfr := e.upIdx(frames)
			var pts []int32
			for q := 0; q < len(frames)*n; q += 1 + e.rng.IntN(3) {
				pts = append(pts, int32(q))
			}
			for _, grid := range []bool{true, false} {
				npts := len(pts)
				vp := e.upIdx(pts)
				if grid {
					npts, vp = len(frames)*n, kernels.View{Buf: vp.Buf}
				}
				want := make([]float64, (F+1)*npts)
				for k := range npts {
					q := k
					if !grid {
						q = int(pts[k])
					}
					for j := range F {
						want[j*npts+k] = feat[j*n+q%n]
					}
					want[F*npts+k] = times[frames[q/n]]
				}
				x := e.alloc(e.dt, len(want)).Mat(F+1, npts)
				e.must(e.be.Inputs(x, vf.Mat(F, n), vt, vfr, vp))
				e.check(fmt.Sprintf("inputs n=%d F=%d grid=%v", n, F, grid), e.down(x.View), want, nil, 0)
			}
		}
	}
}

func (e *env) testGather(t *testing.T) {
	e.t = t
	for _, n := range sizes {
		grid := e.randn(3*n + 5)
		vg := e.up(grid)
		perm := e.rng.Perm(len(grid))[:n]
		idx := make([]int32, n)
		for k, p := range perm {
			idx[k] = int32(p)
		}
		vi := e.upIdx(idx)
		dst := e.alloc(e.dt, n)
		e.must(e.be.Gather(dst, vg, vi))
		want := make([]float64, n)
		for k, p := range perm {
			want[k] = grid[p]
		}
		e.check("gather", e.down(dst), want, nil, 0)
		add := e.randn(n)
		e.must(e.be.ScatterAdd(vg, e.up(add), vi))
		wantG := slices.Clone(grid)
		mag := make([]float64, len(grid))
		for k, p := range perm {
			wantG[p] += add[k]
			mag[p] = math.Abs(grid[p]) + math.Abs(add[k])
		}
		e.check("scatter add", e.down(vg), wantG, mag, e.eps())
	}
	// Rows of a frames x nodes plane.
	for _, cols := range []int{1, 7, 257} {
		rows := []int32{4, 0, 2}
		src := e.randn(5 * cols)
		vs := e.up(src)
		dst := e.alloc(e.dt, len(rows)*cols).Mat(len(rows), cols)
		vr := e.upIdx(rows)
		e.must(e.be.GatherRows(dst, vs.Mat(5, cols), vr))
		want := make([]float64, 0, len(rows)*cols)
		for _, r := range rows {
			want = append(want, src[int(r)*cols:(int(r)+1)*cols]...)
		}
		e.check("gather rows", e.down(dst.View), want, nil, 0)
		add := e.randn(len(rows) * cols)
		e.must(e.be.ScatterAddRows(vs.Mat(5, cols), e.up(add).Mat(len(rows), cols), vr))
		mag := make([]float64, len(src))
		for k, r := range rows {
			for i := range cols {
				src[int(r)*cols+i] += add[k*cols+i]
				mag[int(r)*cols+i] = math.Abs(src[int(r)*cols+i]) + 2*math.Abs(add[k*cols+i])
			}
		}
		e.check("scatter add rows", e.down(vs), src, mag, e.eps())
	}
}

// testConvert checks the conversions of Copy, GatherRows and
// ScatterAddRows between float64 and float32 (rounding to nearest).
func (e *env) testConvert() {
	const rows, cols = 5, 257
	v := e.randn(rows * cols)
	d64 := e.up(v)
	d32 := e.alloc(kernels.F32, rows*cols)
	e.must(e.be.Copy(d32, d64))
	want := make([]float64, len(v))
	for k, x := range v {
		want[k] = float64(float32(x))
	}
	e.check("copy float64 → float32", e.down(d32), want, nil, 0)
	back := e.alloc(kernels.F64, rows*cols)
	e.must(e.be.Copy(back, d32))
	e.check("copy float32 → float64", e.down(back), want, nil, 0)
	sel := []int32{4, 1}
	vr := e.upIdx(sel)
	g32 := e.alloc(kernels.F32, len(sel)*cols).Mat(len(sel), cols)
	e.must(e.be.GatherRows(g32, d64.Mat(rows, cols), vr))
	wantRows := append(slices.Clone(want[4*cols:5*cols]), want[cols:2*cols]...)
	e.check("gather rows float64 → float32", e.down(g32.View), wantRows, nil, 0)
	e.must(e.be.ScatterAddRows(d64.Mat(rows, cols), g32, vr))
	for k, r := range sel {
		for i := range cols {
			v[int(r)*cols+i] += wantRows[k*cols+i]
		}
	}
	e.check("scatter add rows float32 → float64", e.down(d64), v, nil, 2*e.eps())
}

func (e *env) testData(t *testing.T) {
	e.t = t
	tol := 64 * e.eps()
	for _, m := range []int{1, 7, 33} {
		for _, n := range []int{1, 7, 255, 256, 257} {
			for _, B := range []int{0, 1, 8} {
				T := 11
				r, u, y := e.randn(m*n), e.randn(B*n), e.randn(T*m)
				vr, vu, vy := e.up(r), e.up(u), e.up(y)
				frames := make([]int32, B)
				for k := range frames {
					frames[k] = int32(e.rng.IntN(T))
				}
				et := e.alloc(e.dt, m*B).Mat(m, B)
				e.must(e.be.MulABt(et, vr.Mat(m, n), vu.Mat(B, n)))
				want, mag := make([]float64, m*B), make([]float64, m*B)
				for i := range m {
					for k := range B {
						for j := range n {
							want[i*B+k] += r[i*n+j] * u[k*n+j]
							mag[i*B+k] += math.Abs(r[i*n+j] * u[k*n+j])
						}
					}
				}
				what := fmt.Sprintf("m=%d n=%d B=%d", m, n, B)
				gotET := e.down(et.View)
				e.check("R Ûᵀ "+what, gotET, want, mag, tol)
				ev := e.alloc(e.dt, B*m).Mat(B, m)
				loss := e.alloc(e.dt, 1)
				e.must(e.be.DataLoss(ev, et, vy.Mat(T, m), e.upIdx(frames), 0.7, loss))
				var s, smag float64
				we, wmag := make([]float64, B*m), make([]float64, B*m)
				N := float64(m * B)
				for k := range B {
					for i := range m {
						v := gotET[i*B+k] - y[int(frames[k])*m+i]
						s += v * v
						smag += v * v
						we[k*m+i] = 2 * 0.7 / N * v
						wmag[k*m+i] = 2 * 0.7 / N * (math.Abs(gotET[i*B+k]) + math.Abs(y[int(frames[k])*m+i]))
					}
				}
				gotL := e.down(loss)[0]
				if B == 0 {
					if gotL != 0 {
						t.Fatalf("L_D of an empty batch: %v", gotL)
					}
				} else {
					e.check("L_D "+what, []float64{gotL}, []float64{s / N}, []float64{smag / N}, tol)
				}
				e.check("L_D adjoint "+what, e.down(ev.View), we, wmag, 4*e.eps())
				// G = E R (B x n).
				ge := e.randn(B * m)
				g := e.alloc(e.dt, B*n).Mat(B, n)
				e.must(e.be.MulAB(g, e.up(ge).Mat(B, m), vr.Mat(m, n)))
				wg, gmag := make([]float64, B*n), make([]float64, B*n)
				for k := range B {
					for i := range m {
						for j := range n {
							wg[k*n+j] += ge[k*m+i] * r[i*n+j]
							gmag[k*n+j] += math.Abs(ge[k*m+i] * r[i*n+j])
						}
					}
				}
				e.check("E R "+what, e.down(g.View), wg, gmag, tol)
			}
		}
	}
}

// randCSR returns a random n x n sparse matrix with up to 7 entries per row
// (like a mesh Laplacian: the diagonal and up to 6 neighbours).
func (e *env) randCSR(n int) kernels.CSRData {
	a := kernels.CSRData{Rows: n, Cols: n, RowPtr: []int32{0}}
	for i := range n {
		cols := []int{i}
		for range e.rng.IntN(7) {
			cols = append(cols, e.rng.IntN(n))
		}
		slices.Sort(cols)
		cols = slices.Compact(cols)
		for _, j := range cols {
			a.ColIdx = append(a.ColIdx, int32(j))
			a.Val = append(a.Val, e.rng.NormFloat64())
		}
		a.RowPtr = append(a.RowPtr, int32(len(a.ColIdx)))
	}
	return a
}

func (e *env) testSparse(t *testing.T) {
	e.t = t
	for _, n := range []int{1, 7, 255, 256, 257} {
		a := e.randCSR(n)
		ca, err := e.be.NewCSR(a, e.dt)
		e.must(err)
		if r, c := ca.Dims(); r != n || c != n {
			t.Fatalf("csr dims %dx%d, want %dx%d", r, c, n, n)
		}
		vals := e.down(e.up(a.Val)) // the values as the backend holds them
		W := 6
		src := e.randn(W * n)
		vs := e.up(src)
		for _, rows := range [][]int32{{}, {3}, {5, 0, 2, 4}} {
			B := len(rows)
			vr := e.upIdx(rows)
			dst := e.alloc(e.dt, B*n).Mat(B, n)
			e.must(e.be.SpMMRows(dst, ca, vs.Mat(W, n), vr))
			want, mag := make([]float64, B*n), make([]float64, B*n)
			for b, r := range rows {
				for i := range n {
					for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
						v := vals[p] * src[int(r)*n+int(a.ColIdx[p])]
						want[b*n+i] += v
						mag[b*n+i] += math.Abs(v)
					}
				}
			}
			what := fmt.Sprintf("n=%d rows %v", n, rows)
			e.check("spmm rows "+what, e.down(dst.View), want, mag, 64*e.eps())
			g := e.randn(B * n)
			grid := e.randn(W * n)
			vgrid := e.up(grid)
			e.must(e.be.SpMMRowsAdjoint(vgrid.Mat(W, n), ca, e.up(g).Mat(B, n), vr))
			wantG := slices.Clone(grid)
			magG := make([]float64, len(grid))
			for k := range grid {
				magG[k] = math.Abs(grid[k])
			}
			for b, r := range rows {
				for i := range n {
					for p := a.RowPtr[i]; p < a.RowPtr[i+1]; p++ {
						k := int(r)*n + int(a.ColIdx[p])
						wantG[k] += vals[p] * g[b*n+i]
						magG[k] += math.Abs(vals[p] * g[b*n+i])
					}
				}
			}
			e.check("spmm rows adjoint "+what, e.down(vgrid), wantG, magG, 64*e.eps())
		}
	}
	if _, err := e.be.NewCSR(kernels.CSRData{Rows: 1, Cols: 1, RowPtr: []int32{0, 1}, ColIdx: []int32{3}, Val: []float64{1}}, e.dt); err == nil {
		t.Error("CSR with a column outside the matrix accepted")
	}
}

// stencilStart is where the five-frame stencil of frame t of T starts: the
// Eq. 17 window t−2 … t+2 inside, the Eq. 18 windows at the two first and
// two last frames.
func stencilStart(t, T int) int32 { return int32(min(max(t-2, 0), T-5)) }

// randStencil returns a stencil of T frames with the Eq. 17–18 windows
// and random weights.
func (e *env) randStencil(T int) ([]int32, [][5]float64) {
	start := make([]int32, T)
	w := make([][5]float64, T)
	for f := range T {
		start[f] = stencilStart(f, T)
		for j := range 5 {
			w[f][j] = e.rng.NormFloat64()
		}
	}
	return start, w
}

func (e *env) testStencil(t *testing.T) {
	e.t = t
	const T, tau = 13, 0.085
	start, w := e.randStencil(T)
	st, err := e.be.NewStencil(start, w, e.dt)
	e.must(err)
	if st.Frames() != T {
		t.Fatalf("stencil of %d frames, want %d", st.Frames(), T)
	}
	var w64 [][5]float64 // the weights as the backend holds them
	for f := range T {
		var r [5]float64
		copy(r[:], e.down(e.up(w[f][:])))
		w64 = append(w64, r)
	}
	for _, n := range []int{1, 7, 257} {
		for _, frames := range [][]int32{{}, {0}, {1, 6, 11, 12}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}} {
			// The window: every frame each batch frame's stencil reads, in
			// increasing order (as the trainer lays it out).
			row := make([]int32, T)
			for f := range row {
				row[f] = -1
			}
			for _, f := range frames {
				for j := range int32(5) {
					row[start[f]+j] = 0
				}
			}
			var win []int
			for f := range row {
				if row[f] == 0 {
					row[f] = int32(len(win))
					win = append(win, f)
				}
			}
			B, W := len(frames), len(win)
			srcRows := make([]int32, 5*B)
			for b, f := range frames {
				for j := range int32(5) {
					srcRows[b*5+int(j)] = row[start[f]+j]
				}
			}
			src := e.randn(W * n)
			vs, vf, vr := e.up(src), e.upIdx(frames), e.upIdx(srcRows)
			dst := e.alloc(e.dt, B*n).Mat(B, n)
			e.must(e.be.TimeDeriv(dst, st, vs.Mat(W, n), vf, vr, tau))
			want, mag := make([]float64, B*n), make([]float64, B*n)
			for b, f := range frames {
				for i := range n {
					for j := range 5 {
						v := w64[f][j] * src[int(srcRows[b*5+j])*n+i]
						want[b*n+i] += v / tau
						mag[b*n+i] += math.Abs(v) / tau
					}
				}
			}
			what := fmt.Sprintf("n=%d frames %v", n, frames)
			e.check("time derivative "+what, e.down(dst.View), want, mag, 64*e.eps())
			g, grid := e.randn(B*n), e.randn(W*n)
			vgrid := e.up(grid)
			e.must(e.be.TimeDerivAdjoint(vgrid.Mat(W, n), st, e.up(g).Mat(B, n), vf, vr, tau))
			magG := make([]float64, len(grid))
			for k, v := range grid {
				magG[k] = math.Abs(v)
			}
			for b, f := range frames {
				for i := range n {
					for j := range 5 {
						k := int(srcRows[b*5+j])*n + i
						grid[k] += w64[f][j] * g[b*n+i] / tau
						magG[k] += math.Abs(w64[f][j] * g[b*n+i] / tau)
					}
				}
			}
			e.check("time derivative adjoint "+what, e.down(vgrid), grid, magG, 64*e.eps())
		}
	}
	if _, err := e.be.NewStencil([]int32{0, 0, 0, 0, 1}, make([][5]float64, 5), e.dt); err == nil {
		t.Error("stencil reading frame 5 of 5 accepted")
	}
}

// apRef is the reference of APResidual at one point (float64, written from
// the formulas of kernels.Backend.APResidual): the squared residuals, the
// derivatives (u, v, u_t, v_t, Δu, n·∇u) and the magnitudes of their terms.
func apRef(p kernels.APParams, u, v, ut, vt, lap, dn float64, boundary bool, scale, nc float64) (sq float64, g, mag [6]float64) {
	ue := u
	clamped := p.EpsDelta > 0 && u < -p.Mu2+p.EpsDelta
	if clamped {
		ue = -p.Mu2 + p.EpsDelta
	}
	eps := p.E0 + p.Mu1*v/(ue+p.Mu2)
	dEdv := p.Mu1 / (ue + p.Mu2)
	dEdu := 0.0
	if !clamped {
		dEdu = -p.Mu1 * v / ((ue + p.Mu2) * (ue + p.Mu2))
	}
	f := p.K*u*(1-u)*(u-p.A) - u*v
	ru := ut - p.D*lap - f
	h := -v - p.K*u*(u-p.A-1)
	rv := vt - eps*h
	sq = ru*ru + rv*rv
	a, b := 2*scale*ru/nc, 2*scale*rv/nc
	duU := -p.K*(-3*u*u+2*(1+p.A)*u-p.A) + v
	dvU := -dEdu*h + eps*p.K*(2*u-p.A-1)
	dvV := -dEdv*h + eps
	g = [6]float64{a*duU + b*dvU, a*u + b*dvV, a, b, -a * p.D, 0}
	// Magnitudes: the terms of each residual, times the factors.
	mu := math.Abs(ut) + math.Abs(p.D*lap) + math.Abs(p.K*u*(1-u)*(u-p.A)) + math.Abs(u*v)
	mv := math.Abs(vt) + math.Abs(eps*h) + math.Abs(eps*(math.Abs(v)+math.Abs(p.K*u*(u-p.A-1))))
	ma, mb := 2*scale*mu/nc, 2*scale*mv/nc
	mag = [6]float64{
		ma*(p.K*(3*u*u+2*(1+p.A)*math.Abs(u)+p.A)+math.Abs(v)) + mb*(math.Abs(dEdu*h)+math.Abs(eps*p.K*(2*math.Abs(u)+p.A+1))) + math.Abs(a*duU) + math.Abs(b*dvU),
		ma*math.Abs(u) + mb*(math.Abs(dEdv*h)+eps) + math.Abs(a*u) + math.Abs(b*dvV),
		ma, mb, ma * p.D, 0}
	if boundary {
		sq += dn * dn
		g[5] = 2 * scale * dn / nc
		mag[5] = math.Abs(g[5])
	}
	return sq, g, mag
}

func (e *env) testAP(t *testing.T) {
	e.t = t
	tol := 1e-12
	if e.dt == kernels.F32 {
		tol = 1e-4
	}
	for _, nc := range []int{0, 1, 7, 1023, 1024, 1025, 2100} {
		for _, delta := range []float64{0, 0.1} {
			for _, boundary := range []bool{false, true} {
				p := kernels.APParams{A: 0.1, D: 10, K: 8, E0: 0.002, Mu1: 0.3, Mu2: 0.3, EpsDelta: delta}
				// u spans the physical range and the region below the pole
				// (u < −μ2 + δ) where the guard clamps; the raw ε stays
				// away from u = −μ2 itself.
				in := make([][]float64, 6)
				for q := range in {
					in[q] = e.randn(nc)
				}
				for k := range nc {
					in[0][k] = -0.25 + 1.3*e.rng.Float64()
					if delta > 0 && k%5 == 0 {
						in[0][k] = -0.6 + 0.35*e.rng.Float64()
					}
					in[1][k] = 2 * e.rng.Float64()
				}
				views := make([]kernels.View, 6)
				grads := make([]kernels.View, 6)
				for q := range 6 {
					views[q] = e.up(in[q])
					grads[q] = e.alloc(e.dt, nc)
				}
				if !boundary {
					views[5], grads[5] = kernels.View{}, kernels.View{}
				}
				loss := e.alloc(e.dt, 1)
				qp := kernels.APPoints{U: views[0], V: views[1], Ut: views[2], Vt: views[3], Lap: views[4], Dn: views[5]}
				gp := kernels.APPoints{U: grads[0], V: grads[1], Ut: grads[2], Vt: grads[3], Lap: grads[4], Dn: grads[5]}
				e.must(e.be.APResidual(p, qp, gp, 0.1, loss))
				want := make([][]float64, 6)
				mag := make([][]float64, 6)
				for q := range 6 {
					want[q], mag[q] = make([]float64, nc), make([]float64, nc)
				}
				var sum, smag float64
				for k := range nc {
					sq, g, m := apRef(p, in[0][k], in[1][k], in[2][k], in[3][k], in[4][k], in[5][k], boundary, 0.1, float64(nc))
					sum += sq
					smag += sq
					for q := range 6 {
						want[q][k], mag[q][k] = g[q], m[q]
					}
				}
				what := fmt.Sprintf("N_c=%d δ=%g boundary=%v", nc, delta, boundary)
				got := e.down(loss)[0]
				if nc == 0 {
					if got != 0 {
						t.Fatalf("L_EP of no points: %v", got)
					}
					continue
				}
				e.check("L_EP "+what, []float64{got}, []float64{sum / float64(nc)}, []float64{smag / float64(nc)}, tol)
				names := []string{"∂/∂u", "∂/∂v", "∂/∂u_t", "∂/∂v_t", "∂/∂Δu", "∂/∂(n·∇u)"}
				for q := range 6 {
					if q == 5 && !boundary {
						continue
					}
					e.check(names[q]+" "+what, e.down(grads[q]), want[q], mag[q], tol)
				}
			}
		}
	}
}

func (e *env) testAdam(t *testing.T) {
	e.t = t
	cfg := kernels.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	// Two steps with the same gradient move every parameter by lr·sign(g)
	// each (m̂ = g, v̂ = g²), up to ε.
	p, g := e.up([]float64{1, -2, 3}), e.up([]float64{0.5, -4, 1e-3})
	m, v := e.alloc(e.dt, 3), e.alloc(e.dt, 3)
	e.must(e.be.Adam(p, g, m, v, 1, cfg))
	e.check("adam step 1", e.down(p), []float64{0.9, -1.9, 2.9}, nil, 1e-5)
	e.must(e.be.Adam(p, g, m, v, 2, cfg))
	e.check("adam step 2", e.down(p), []float64{0.8, -1.8, 2.8}, nil, 1e-5)
	if e.be.Adam(p, g, m, v, 0, cfg) == nil {
		t.Error("adam step 0 accepted")
	}
	// Against the formula on random values over 5 steps.
	const n = 257
	pv, gv := e.randn(n), e.randn(n)
	vp, vg, vm, vv := e.up(pv), e.up(gv), e.alloc(e.dt, n), e.alloc(e.dt, n)
	mr, vr := make([]float64, n), make([]float64, n)
	for step := 1; step <= 5; step++ {
		e.must(e.be.Adam(vp, vg, vm, vv, step, cfg))
		bc1 := 1 - math.Pow(cfg.Beta1, float64(step))
		bc2 := math.Sqrt(1 - math.Pow(cfg.Beta2, float64(step)))
		for k := range n {
			mr[k] = cfg.Beta1*mr[k] + (1-cfg.Beta1)*gv[k]
			vr[k] = cfg.Beta2*vr[k] + (1-cfg.Beta2)*gv[k]*gv[k]
			pv[k] -= cfg.LR / bc1 * mr[k] / (math.Sqrt(vr[k])/bc2 + cfg.Eps)
		}
	}
	e.check("adam 5 steps", e.down(vp), pv, nil, 64*e.eps())
	e.check("adam first moment", e.down(vm), mr, nil, 64*e.eps())
	e.check("adam second moment", e.down(vv), vr, nil, 64*e.eps())
}
