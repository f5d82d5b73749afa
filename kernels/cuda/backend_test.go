package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/kernels/kerneltest"
)

// TestConformance runs kernels/kerneltest on the backend: every op against
// its float64 reference loop in float32 (the only type it supports), the
// network passes against the reference network and complex-step
// derivatives, determinism. On the emulator in plain go test; on the card
// under -tags cuda.
func TestConformance(t *testing.T) { kerneltest.Run(t, testBackend) }

// TestRefuses: what the device backend does not do is an error, not a
// wrong result: float64 data, float64 network arithmetic, layers wider than
// the kernels' local arrays, more Taylor channels than they hold.
func TestRefuses(t *testing.T) {
	be, err := kernels.Open(testBackend, kernels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if be.Supports(kernels.F64) || !be.Supports(kernels.F32) || !be.Supports(kernels.I32) {
		t.Error("supports float64, or not float32 and int32")
	}
	if _, err := be.Alloc(kernels.F64, 3); err == nil {
		t.Error("float64 buffer allocated")
	}
	spec := func(width int) *kernels.NetSpec {
		s, err := kernels.Arch{In: 4, Out: 2, Layers: 3, Width: width}.Spec([]float64{0, 0, 0, 0}, []float64{1, 1, 1, 1})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	f32 := kernels.NetOptions{Compute: kernels.F32, IO: kernels.F32}
	for _, c := range []struct {
		name string
		spec *kernels.NetSpec
		opt  kernels.NetOptions
		want string
	}{
		{"float64 arithmetic", spec(5), kernels.NetOptions{Compute: kernels.F64, IO: kernels.F64}, "float32 only"},
		{"width 33", spec(33), f32, "at most 32"},
		{"too many channels", spec(5), kernels.NetOptions{Compute: kernels.F32, IO: kernels.F32, First: 3, Second: 3}, "at most 9 channels"},
	} {
		if _, err := be.NewNet(c.spec, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if n, err := be.NewNet(spec(32), kernels.NetOptions{Compute: kernels.F32, IO: kernels.F32, First: 2, Second: 3}); err != nil {
		t.Errorf("width 32 with 9 channels: %v", err)
	} else {
		n.Free()
	}
}

// TestNetAgreesWithCPU: the fused passes agree with the CPU backend's
// float32 passes much more tightly than kerneltest's float64 reference
// allows for float32 (2e-5 of the outputs, 1e-4 of the gradient's 1-norm):
// both sides round alike, so an error in one term of the jets' reverse
// rules, invisible there, shows here (a 0.025% error in one term of the
// jets' reverse rule is caught). Tolerances: outputs relative to the largest
// magnitude of their channel, values 2e-6 and derivative channels 5e-6;
// each gradient component relative to its magnitude plus 1% of the largest,
// 2.5e-5 (measured: at most 1e-5).
func TestNetAgreesWithCPU(t *testing.T) {
	dev, err := kernels.Open(testBackend, kernels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	cpu, err := kernels.Open("cpu", kernels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cpu.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		arch   kernels.Arch
		npts   int
		k1, k2 int
	}{
		{kernels.Arch{In: 4, Out: 2, Layers: 10, Width: 15, Blocks: 3}, 300, 0, 0},
		{kernels.Arch{In: 4, Out: 2, Layers: 10, Width: 15, Blocks: 3}, 130, 1, 3},
		{kernels.Arch{In: 5, Out: 2, Layers: 10, Width: 10}, 129, 2, 3},
		{kernels.Arch{In: 4, Out: 3, Layers: 4, Width: 32, Blocks: 1}, 7, 1, 1},
	} {
		name := fmt.Sprintf("%+v/%dpts/jets%d,%d", c.arch, c.npts, c.k1, c.k2)
		center, scale := make([]float64, c.arch.In), make([]float64, c.arch.In)
		for j := range scale {
			center[j], scale[j] = 10*rng.NormFloat64(), 20+30*rng.Float64()
		}
		spec, err := c.arch.Spec(center, scale)
		if err != nil {
			t.Fatal(err)
		}
		theta := randn(rng, spec.NumParams, 0.4)
		x := randn(rng, c.arch.In*c.npts, 1)
		for j := range c.arch.In {
			for p := range c.npts {
				x[j*c.npts+p] = center[j] + scale[j]*x[j*c.npts+p]
			}
		}
		dirs := make([][]float64, c.k1+c.k2)
		for k := range dirs {
			dirs[k] = randn(rng, c.arch.In*c.npts, 1)
		}
		nout := (1 + c.k1 + c.k2) * c.arch.Out
		gy := randn(rng, nout*c.npts, 1)
		run := func(be kernels.Backend) (y, grad []float64) {
			up := func(v []float64) kernels.View {
				b, err := be.Alloc(kernels.F32, len(v))
				if err != nil {
					t.Fatal(err)
				}
				if err := be.Upload(kernels.Whole(b), v); err != nil {
					t.Fatal(err)
				}
				return kernels.Whole(b)
			}
			net, err := be.NewNet(spec, kernels.NetOptions{Compute: kernels.F32, IO: kernels.F32, First: c.k1, Second: c.k2, MaxPoints: c.npts, Tape: true})
			if err != nil {
				t.Fatal(err)
			}
			defer net.Free()
			var vd []kernels.Mat
			for _, d := range dirs {
				vd = append(vd, up(d).Mat(c.arch.In, c.npts))
			}
			th := up(theta)
			yv := up(make([]float64, nout*c.npts)).Mat(nout, c.npts)
			gv := up(make([]float64, spec.NumParams))
			if err := net.Forward(th, up(x).Mat(c.arch.In, c.npts), vd, yv); err != nil {
				t.Fatal(err)
			}
			if err := net.Backward(th, up(gy).Mat(nout, c.npts), gv); err != nil {
				t.Fatal(err)
			}
			y, grad = make([]float64, yv.N), make([]float64, gv.N)
			if err := be.Download(y, yv.View); err != nil {
				t.Fatal(err)
			}
			if err := be.Download(grad, gv); err != nil {
				t.Fatal(err)
			}
			return y, grad
		}
		yd, gd := run(dev)
		yc, gc := run(cpu)
		for r := range nout {
			tol := 2e-6
			if r >= c.arch.Out {
				tol = 5e-6
			}
			row := func(v []float64) []float64 { return v[r*c.npts : (r+1)*c.npts] }
			if e := relDiff(row(yd), row(yc)); e > tol {
				t.Errorf("%s: output row %d: relative difference %.2g > %.2g", name, r, e, tol)
			}
		}
		if e := elemRelDiff(gd, gc, 0.01); e > 2.5e-5 {
			t.Errorf("%s: gradient: relative difference %.2g > 2.5e-5", name, e)
		}
	}
}

func randn(rng *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s * rng.NormFloat64()
	}
	return v
}

// elemRelDiff returns max_k |a_k−b_k| / (|b_k| + floor·max |b|).
func elemRelDiff(a, b []float64, floor float64) float64 {
	var m float64
	for _, v := range b {
		m = max(m, math.Abs(v))
	}
	var d float64
	for i := range b {
		d = max(d, math.Abs(a[i]-b[i])/(math.Abs(b[i])+floor*m))
	}
	return d
}

// relDiff returns max |a−b| / max |b|.
func relDiff(a, b []float64) float64 {
	var d, m float64
	for i := range b {
		d = max(d, math.Abs(a[i]-b[i]))
		m = max(m, math.Abs(b[i]))
	}
	return d / max(m, 1e-300)
}
