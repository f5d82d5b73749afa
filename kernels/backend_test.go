package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eandarn/eandarn/solver/sparse"
)

// backends lists every Backend the conformance suite runs against; a device
// backend adds itself here behind its build tag.
var backends = []Backend{NewCPU(), &CPU{Workers: 1}, &CPU{Workers: 3}}

func randVec(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func upload(t *testing.T, b Backend, v []float64) Buffer {
	t.Helper()
	buf, err := b.Alloc(len(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upload(buf, v); err != nil {
		t.Fatal(err)
	}
	return buf
}

func download(t *testing.T, b Backend, buf Buffer, n int) []float64 {
	t.Helper()
	v := make([]float64, n)
	if err := b.Download(v, buf); err != nil {
		t.Fatal(err)
	}
	return v
}

func near(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*(1+math.Abs(want[i])) || math.IsNaN(got[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestDense checks DenseForward/DenseBackward against the documented
// per-point loops, for every activation and a point count that leaves a
// partial block and more than one reduction chunk.
func TestDense(t *testing.T) {
	const in, out, npts = 5, 7, 2*chunk + 300
	x, w, bias := randVec(in*npts, 1), randVec(out*in, 2), randVec(out, 3)
	gyv := randVec(out*npts, 4)
	for _, be := range backends {
		for _, act := range []Activation{Linear, Tanh, Sigmoid} {
			// reference
			y := make([]float64, out*npts)
			gz := make([]float64, out*npts)
			gw := make([]float64, out*in)
			gb := make([]float64, out)
			gx := make([]float64, in*npts)
			for p := range npts {
				for i := range out {
					s := bias[i]
					for j := range in {
						s += w[i*in+j] * x[j*npts+p]
					}
					y[i*npts+p] = activate(s, act)
					gz[i*npts+p] = gyv[i*npts+p] * derivative(y[i*npts+p], act)
					gb[i] += gz[i*npts+p]
					for j := range in {
						gw[i*in+j] += gz[i*npts+p] * x[j*npts+p]
						gx[j*npts+p] += w[i*in+j] * gz[i*npts+p]
					}
				}
			}
			bx, bw, bb := upload(t, be, x), upload(t, be, w), upload(t, be, bias)
			by, _ := be.Alloc(out * npts)
			if err := be.DenseForward(Mat{by, out, npts}, Mat{bx, in, npts}, bw, bb, act); err != nil {
				t.Fatal(err)
			}
			near(t, "y", download(t, be, by, out*npts), y, 1e-14)
			bgy := upload(t, be, gyv)
			bgw, bgb := upload(t, be, make([]float64, out*in)), upload(t, be, make([]float64, out))
			bgx, _ := be.Alloc(in * npts)
			if err := be.DenseBackward(Mat{bgx, in, npts}, Mat{bgy, out, npts}, Mat{bx, in, npts}, Mat{by, out, npts}, bw, bgw, bgb, act); err != nil {
				t.Fatal(err)
			}
			near(t, "gz", download(t, be, bgy, out*npts), gz, 1e-14)
			near(t, "gw", download(t, be, bgw, out*in), gw, 1e-11)
			near(t, "gb", download(t, be, bgb, out), gb, 1e-11)
			near(t, "gx", download(t, be, bgx, in*npts), gx, 1e-13)
		}
	}
}

func TestSpMMStencilGemm(t *testing.T) {
	const n, T, m = 50, 40, 9
	var ts []sparse.Triplet
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range n {
		for range 4 {
			ts = append(ts, sparse.Triplet{Row: i, Col: rng.IntN(n), Val: rng.NormFloat64()})
		}
	}
	a, err := sparse.FromTriplets(n, n, ts)
	if err != nil {
		t.Fatal(err)
	}
	u := randVec(n*T, 6)
	start := make([]int, T)
	w := make([][5]float64, T)
	for f := range T {
		start[f] = min(max(f-2, 0), T-5)
		for k := range 5 {
			w[f][k] = rng.NormFloat64()
		}
	}
	r := randVec(m*n, 7)
	for _, be := range backends {
		// SpMM
		want := make([]float64, n*T)
		for i := range n {
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				for c := range T {
					want[i*T+c] += a.Val[e] * u[a.ColIdx[e]*T+c]
				}
			}
		}
		ca, err := be.NewCSR(a)
		if err != nil {
			t.Fatal(err)
		}
		bu := upload(t, be, u)
		bd, _ := be.Alloc(n * T)
		if err := be.SpMM(Mat{bd, n, T}, ca, Mat{bu, n, T}); err != nil {
			t.Fatal(err)
		}
		near(t, "spmm", download(t, be, bd, n*T), want, 1e-14)
		// Stencil
		st, err := be.NewStencil(start, w)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			for f := range T {
				var s float64
				for k := range 5 {
					s += w[f][k] * u[i*T+start[f]+k]
				}
				want[i*T+f] = 2.5 * s
			}
		}
		if err := be.ApplyStencil(Mat{bd, n, T}, Mat{bu, n, T}, st, 2.5); err != nil {
			t.Fatal(err)
		}
		near(t, "stencil", download(t, be, bd, n*T), want, 1e-14)
		// Adjoint: <g, S u> = <Sᵀ g, u> for a random g.
		gv := randVec(n*T, 10)
		bg := upload(t, be, gv)
		if err := be.ApplyStencilT(Mat{bd, n, T}, Mat{bg, n, T}, st, 2.5); err != nil {
			t.Fatal(err)
		}
		sg := download(t, be, bd, n*T)
		var lhs, rhs float64
		for i := range want {
			lhs += gv[i] * want[i]
			rhs += sg[i] * u[i]
		}
		if math.Abs(lhs-rhs) > 1e-12*math.Abs(lhs) {
			t.Errorf("stencil adjoint: <g,Su> = %v, <Sᵀg,u> = %v", lhs, rhs)
		}
		// Gemm: Y = R U, and Rᵀ Y with transposes.
		bd2 := bg
		br := upload(t, be, r)
		by, _ := be.Alloc(m * T)
		y := make([]float64, m*T)
		for i := range m {
			for c := range T {
				for k := range n {
					y[i*T+c] += r[i*n+k] * u[k*T+c]
				}
			}
		}
		if err := be.Gemm(false, false, 1, Mat{br, m, n}, Mat{bu, n, T}, 0, Mat{by, m, T}); err != nil {
			t.Fatal(err)
		}
		near(t, "gemm", download(t, be, by, m*T), y, 1e-13)
		if err := be.Gemm(true, false, 2, Mat{br, m, n}, Mat{by, m, T}, 0, Mat{bd2, n, T}); err != nil {
			t.Fatal(err)
		}
		g := download(t, be, bd2, n*T)
		for k := range n {
			for c := range T {
				var s float64
				for i := range m {
					s += 2 * r[i*n+k] * y[i*T+c]
				}
				if math.Abs(g[k*T+c]-s) > 1e-12*(1+math.Abs(s)) {
					t.Fatalf("gemm Rᵀ: [%d,%d] %v want %v", k, c, g[k*T+c], s)
				}
			}
		}
		if err := be.Gemm(false, false, 1, Mat{br, m, n}, Mat{bu, m, T}, 0, Mat{by, m, T}); err == nil {
			t.Error("gemm with mismatched shapes accepted")
		}
	}
}

func TestReductionsDeterministic(t *testing.T) {
	const n = 5*chunk + 17
	x, y := randVec(n, 8), randVec(n, 9)
	var ref [2]float64
	for k, be := range backends {
		bx, by := upload(t, be, x), upload(t, be, y)
		s, err := be.Sum(bx, n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := be.Dot(bx, by, n)
		if err != nil {
			t.Fatal(err)
		}
		var ws, wd float64
		for i := range n {
			ws += x[i]
			wd += x[i] * y[i]
		}
		if math.Abs(s-ws) > 1e-10 || math.Abs(d-wd) > 1e-10 {
			t.Errorf("%s: sum %v dot %v, want %v %v", be.Name(), s, d, ws, wd)
		}
		if k == 0 {
			ref = [2]float64{s, d}
		} else if ref != [2]float64{s, d} {
			t.Errorf("backend %d: sum/dot %v differ bitwise from %v", k, [2]float64{s, d}, ref)
		}
	}
}

// TestAdam checks two Adam steps against values worked by hand from the
// formula (lr 0.1, β = 0.9/0.999, ε = 1e-8): the first step of Adam moves
// every parameter by lr·sign(g) (up to ε).
func TestAdam(t *testing.T) {
	cfg := AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	for _, be := range backends {
		p, g := upload(t, be, []float64{1, -2, 3}), upload(t, be, []float64{0.5, -4, 1e-3})
		m, v := upload(t, be, make([]float64, 3)), upload(t, be, make([]float64, 3))
		if err := be.Adam(p, g, m, v, 3, 1, cfg); err != nil {
			t.Fatal(err)
		}
		near(t, "adam step 1", download(t, be, p, 3), []float64{0.9, -1.9, 2.9}, 1e-6)
		// Step 2 with the same gradient: m = 0.19 g, v = 0.001999 g²;
		// m̂ = g, v̂ = g², so the step is again lr·sign(g).
		if err := be.Adam(p, g, m, v, 3, 2, cfg); err != nil {
			t.Fatal(err)
		}
		near(t, "adam step 2", download(t, be, p, 3), []float64{0.8, -1.8, 2.8}, 1e-5)
		if err := be.Adam(p, g, m, v, 3, 0, cfg); err == nil {
			t.Error("adam step 0 accepted")
		}
	}
}

func TestForeignAndFreedBuffers(t *testing.T) {
	be := NewCPU()
	b, _ := be.Alloc(4)
	be.Free(b)
	if err := be.Upload(b, []float64{1}); err == nil {
		t.Error("upload to a freed buffer accepted")
	}
	var foreign struct{ Buffer }
	if _, err := be.Sum(foreign, 1); err == nil {
		t.Error("foreign buffer accepted")
	}
	if _, err := be.NewStencil([]int{0, 0, 0, 0, 1}, make([][5]float64, 5)); err == nil {
		t.Error("stencil reading frame 5 of 5 accepted")
	}
	if _, err := be.NewCSR(&sparse.CSR{Rows: 1, Cols: 1, RowPtr: []int{0, 1}, ColIdx: []int{3}, Val: []float64{1}}); err == nil {
		t.Error("CSR with a column outside the matrix accepted")
	}
	c, _ := be.Alloc(2)
	if err := be.Upload(c, []float64{1, 2, 3}); err == nil {
		t.Error("upload of 3 values into 2 accepted")
	}
}
