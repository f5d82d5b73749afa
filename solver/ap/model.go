// Package ap implements the Aliev-Panfilov (AP) model of the paper (Eq. 1–3):
// its parameters, the residuals r_u and r_v of Eq. 6–7 that the physics
// losses reuse, and the explicit simulation on a heart surface mesh that
// makes the ground-truth heart-surface potentials of the synthetic datasets.
//
// Units: u is the normalized potential (rest 0, plateau ≈ 1), time is in AP
// units (1 unit ≈ 12.9 ms), space in mm, so the Laplacian is in mm⁻² and
// D in mm² per time unit.
package ap

import (
	"fmt"
	"math"
)

// MillisecondsPerUnit is the length of one AP time unit in milliseconds,
// the usual dimensional scaling of the model (t[ms] = 12.9 t, as in Nash &
// Panfilov 2004; DESIGN §3): the simulated action potential of about 26.7
// units then lasts ≈ 345 ms, a ventricular one. Measured recordings are
// brought onto the AP time axis with it.
const MillisecondsPerUnit = 12.9

// Params holds the AP model parameters of Eq. 1–2:
//
//	u_t = D Δu + k u (1−u)(u−a) − u v
//	v_t = ε(u,v) (−v − k u (u−a−1)),   ε(u,v) = e0 + μ1 v / (u + μ2)
//
// EpsDelta selects between the paper's raw ε and a guarded ε; see Epsilon.
type Params struct {
	A   float64 // excitability threshold a
	D   float64 // diffusion coefficient (mm² per AP time unit)
	K   float64 // reaction constant k
	E0  float64 // e0 of ε
	Mu1 float64 // μ1 of ε
	Mu2 float64 // μ2 of ε; ε has a pole at u = −μ2
	// EpsDelta guards the pole of ε at u = −μ2: when EpsDelta > 0, ε is
	// evaluated at max(u, −μ2 + EpsDelta); 0 keeps the paper's raw ε. The
	// guard matters only for trial solutions (an untrained network can output
	// u < −μ2, which makes r_v explode: the bad-initialization mechanism of
	// the paper's Table II); a physical AP solution stays in u ≥ −0.05, where
	// any EpsDelta ≤ 0.25 leaves ε unchanged. SuggestedEpsDelta is a
	// documented choice for the guard.
	EpsDelta float64
}

// SuggestedEpsDelta is a guard for Params.EpsDelta: it clamps u at −0.2
// inside ε (for μ2 = 0.3), below the physical range u ≥ −0.05, so a physical
// solution is unaffected while ε stays bounded by e0 + μ1 v / 0.1.
const SuggestedEpsDelta = 0.1

// DefaultParams returns the paper's parameters (§III-A, after Aliev &
// Panfilov 1996): a = 0.1, D = 10, k = 8, e0 = 0.002, μ1 = μ2 = 0.3, with
// the raw (unguarded) ε.
func DefaultParams() Params {
	return Params{A: 0.1, D: 10, K: 8, E0: 0.002, Mu1: 0.3, Mu2: 0.3}
}

// Validate reports a parameter set that the model cannot use.
func (p Params) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"a", p.A}, {"D", p.D}, {"k", p.K}, {"e0", p.E0}, {"mu1", p.Mu1}, {"mu2", p.Mu2}, {"eps delta", p.EpsDelta}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("ap: parameter %s = %g: want a finite value >= 0", f.name, f.v)
		}
	}
	return nil
}

// Epsilon returns ε(u,v) = e0 + μ1 v / (u + μ2) (the coupling of Eq. 2) and
// its partial derivatives ∂ε/∂u and ∂ε/∂v. With p.EpsDelta > 0 it uses
// ũ = max(u, −μ2 + EpsDelta) in place of u (so ∂ε/∂u = 0 where the clamp is
// active); with EpsDelta = 0 it is the paper's raw ε with its pole at u = −μ2.
func (p Params) Epsilon(u, v float64) (eps, dEdu, dEdv float64) {
	clamped := false
	if p.EpsDelta > 0 && u < -p.Mu2+p.EpsDelta {
		u, clamped = -p.Mu2+p.EpsDelta, true
	}
	w := 1 / (u + p.Mu2)
	eps = p.E0 + p.Mu1*v*w
	dEdv = p.Mu1 * w
	if !clamped {
		dEdu = -p.Mu1 * v * w * w
	}
	return eps, dEdu, dEdv
}

// reactionU is f(u,v) = k u (1−u)(u−a) − u v, the reaction of Eq. 1.
func (p Params) reactionU(u, v float64) float64 {
	return p.K*u*(1-u)*(u-p.A) - u*v
}

// reactionV is g(u,v) = ε(u,v) (−v − k u (u−a−1)), the right side of Eq. 2.
func (p Params) reactionV(u, v float64) float64 {
	eps, _, _ := p.Epsilon(u, v)
	return eps * (-v - p.K*u*(u-p.A-1))
}

// PartialsU holds the partial derivatives of r_u (Eq. 6) at one point.
type PartialsU struct{ U, V, Ut, Lapu float64 }

// PartialsV holds the partial derivatives of r_v (Eq. 7) at one point.
type PartialsV struct{ U, V, Vt float64 }

// PointU returns the residual of Eq. 6 at one point,
//
//	r_u = u_t − D Δu − k u (1−u)(u−a) + u v,
//
// and its partial derivatives
//
//	∂r_u/∂u = −k (−3u² + 2(1+a)u − a) + v,  ∂r_u/∂v = u,
//	∂r_u/∂u_t = 1,  ∂r_u/∂Δu = −D.
func (p Params) PointU(u, v, ut, lapu float64) (float64, PartialsU) {
	r := ut - p.D*lapu - p.reactionU(u, v)
	d := PartialsU{
		U:    -p.K*(-3*u*u+2*(1+p.A)*u-p.A) + v,
		V:    u,
		Ut:   1,
		Lapu: -p.D,
	}
	return r, d
}

// PointV returns the residual of Eq. 7 at one point,
//
//	r_v = v_t − ε(u,v) (−v − k u (u−a−1)),
//
// and its partial derivatives, with h = −v − k u (u−a−1),
//
//	∂r_v/∂u = −(∂ε/∂u) h + ε k (2u − a − 1),
//	∂r_v/∂v = −(∂ε/∂v) h + ε,  ∂r_v/∂v_t = 1.
//
// ε follows p.EpsDelta (raw or guarded; see Epsilon).
func (p Params) PointV(u, v, vt float64) (float64, PartialsV) {
	eps, dEdu, dEdv := p.Epsilon(u, v)
	h := -v - p.K*u*(u-p.A-1)
	r := vt - eps*h
	d := PartialsV{
		U:  -dEdu*h + eps*p.K*(2*u-p.A-1),
		V:  -dEdv*h + eps,
		Vt: 1,
	}
	return r, d
}

// ResidualU writes r_u of Eq. 6 point by point into dst:
//
//	dst[i] = ut[i] − D lapu[i] − k u[i] (1−u[i])(u[i]−a) + u[i] v[i].
//
// All slices must have the length of dst.
func ResidualU(p Params, dst, u, v, ut, lapu []float64) {
	checkLen("ResidualU", len(dst), len(u), len(v), len(ut), len(lapu))
	for i := range dst {
		dst[i] = ut[i] - p.D*lapu[i] - p.reactionU(u[i], v[i])
	}
}

// ResidualV writes r_v of Eq. 7 point by point into dst:
//
//	dst[i] = vt[i] − ε(u[i],v[i]) (−v[i] − k u[i] (u[i]−a−1)).
//
// All slices must have the length of dst.
func ResidualV(p Params, dst, u, v, vt []float64) {
	checkLen("ResidualV", len(dst), len(u), len(v), len(vt))
	for i := range dst {
		dst[i] = vt[i] - p.reactionV(u[i], v[i])
	}
}

// checkLen panics on mismatched slice lengths: a programming error, like a
// dimension mismatch in gonum's mat.
func checkLen(fn string, n int, others ...int) {
	for _, m := range others {
		if m != n {
			panic(fmt.Sprintf("ap: %s: slice length %d, want %d", fn, m, n))
		}
	}
}
