package ap

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

func TestDefaultParamsArePaperValues(t *testing.T) {
	want := Params{A: 0.1, D: 10, K: 8, E0: 0.002, Mu1: 0.3, Mu2: 0.3}
	if got := DefaultParams(); got != want {
		t.Fatalf("DefaultParams() = %+v, want %+v", got, want)
	}
}

func TestEpsilonPoleAndGuard(t *testing.T) {
	raw := DefaultParams()
	guarded := raw
	guarded.EpsDelta = SuggestedEpsDelta
	tests := []struct {
		name string
		u, v float64
		// raw and guarded ε expected (NaN: only a bound is checked below)
		wantRaw, wantGuarded float64
	}{
		// In the physical range (u ≥ −0.05) the guard must not change ε.
		{"rest", 0, 0.5, 0.002 + 0.3*0.5/0.3, 0.002 + 0.3*0.5/0.3},
		{"plateau", 1, 1, 0.002 + 0.3/1.3, 0.002 + 0.3/1.3},
		{"physical low", -0.05, 1, 0.002 + 0.3/0.25, 0.002 + 0.3/0.25},
		// Below −μ2 + δ = −0.2 the guard evaluates ε at u = −0.2.
		{"near pole", -0.3 + 1e-9, 1, 0.002 + 0.3/1e-9, 0.002 + 0.3/0.1},
		{"beyond pole", -0.5, 1, 0.002 + 0.3/-0.2, 0.002 + 0.3/0.1},
	}
	for _, tc := range tests {
		gotRaw, _, _ := raw.Epsilon(tc.u, tc.v)
		gotG, dGdu, _ := guarded.Epsilon(tc.u, tc.v)
		if !near(gotRaw, tc.wantRaw, 1e-6) || !near(gotG, tc.wantGuarded, 1e-12) {
			t.Errorf("%s: ε(%g,%g) raw %g guarded %g, want %g and %g", tc.name, tc.u, tc.v, gotRaw, gotG, tc.wantRaw, tc.wantGuarded)
		}
		if tc.u < -0.2 && dGdu != 0 {
			t.Errorf("%s: guarded ∂ε/∂u = %g where the clamp is active, want 0", tc.name, dGdu)
		}
	}
}

// TestPartialsMatchFiniteDifferences checks the partials of PointU and
// PointV against central differences (gonum diff/fd) on random points,
// for the raw and the guarded ε, including points below the guard.
func TestPartialsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, delta := range []float64{0, SuggestedEpsDelta} {
		p := DefaultParams()
		p.EpsDelta = delta
		for k := 0; k < 200; k++ {
			x := []float64{
				-0.25 + 1.4*rng.Float64(), // u: away from the pole at −0.3 for the raw ε
				3 * rng.Float64(),         // v
				4*rng.Float64() - 2,       // u_t or v_t
				rng.NormFloat64(),         // Δu
			}
			if delta > 0 && k%4 == 0 {
				x[0] = -0.6 + 0.35*rng.Float64() // clamped region of the guard
			}
			if delta > 0 && math.Abs(x[0]-(-p.Mu2+delta)) < 1e-3 {
				continue // the clamp's kink: no derivative there
			}
			_, du := p.PointU(x[0], x[1], x[2], x[3])
			_, dv := p.PointV(x[0], x[1], x[2])
			gu := fd.Gradient(nil, func(y []float64) float64 { r, _ := p.PointU(y[0], y[1], y[2], y[3]); return r }, x, &fd.Settings{Formula: fd.Central})
			gv := fd.Gradient(nil, func(y []float64) float64 { r, _ := p.PointV(y[0], y[1], y[2]); return r }, x[:3], &fd.Settings{Formula: fd.Central})
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"∂r_u/∂u", du.U, gu[0]}, {"∂r_u/∂v", du.V, gu[1]}, {"∂r_u/∂u_t", du.Ut, gu[2]}, {"∂r_u/∂Δu", du.Lapu, gu[3]},
				{"∂r_v/∂u", dv.U, gv[0]}, {"∂r_v/∂v", dv.V, gv[1]}, {"∂r_v/∂v_t", dv.Vt, gv[2]},
			} {
				if !near(c.got, c.want, 1e-5) {
					t.Fatalf("δ=%g at %v: %s = %g, finite difference %g", delta, x, c.name, c.got, c.want)
				}
			}
		}
	}
}

// TestResidualSlicesMatchFormula checks the slice residuals against Eq. 6–7
// written out, on random inputs.
func TestResidualSlicesMatchFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := DefaultParams()
	const n = 50
	u, v, ut, vt, lap := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 0; i < n; i++ {
		u[i], v[i], ut[i], vt[i], lap[i] = 1.1*rng.Float64(), 2*rng.Float64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
	}
	ru, rv := make([]float64, n), make([]float64, n)
	ResidualU(p, ru, u, v, ut, lap)
	ResidualV(p, rv, u, v, vt)
	for i := 0; i < n; i++ {
		wantU := ut[i] - 10*lap[i] - 8*u[i]*(1-u[i])*(u[i]-0.1) + u[i]*v[i]
		eps := 0.002 + 0.3*v[i]/(u[i]+0.3)
		wantV := vt[i] - eps*(-v[i]-8*u[i]*(u[i]-0.1-1))
		pu, _ := p.PointU(u[i], v[i], ut[i], lap[i])
		pv, _ := p.PointV(u[i], v[i], vt[i])
		if !near(ru[i], wantU, 1e-12) || !near(rv[i], wantV, 1e-12) || ru[i] != pu || rv[i] != pv {
			t.Fatalf("point %d: r_u %g (point %g), want %g; r_v %g (point %g), want %g", i, ru[i], pu, wantU, rv[i], pv, wantV)
		}
	}
}

// near reports |a−b| ≤ tol·max(1, |a|, |b|).
func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b))
}
