package forward

import "math"

// panel holds the precomputed geometry of one flat triangle of a boundary:
// its node indices v, the indices eid of its sides in the boundary's edge
// list (side k runs from p[k] to p[k+1]), its corners p, unit normal n (from the corner order, right-hand rule),
// area, unit edge directions e[k] (from p[k] to p[k+1]), outward in-plane
// edge normals m[k] = e[k] × n, and the surface gradients of the three linear
// basis functions, grad[k] = n × (p[k+2] − p[k+1]) / (2·area), so that
// N_k(y) = N_k(q) + grad[k]·(y − q) for any points y, q of the plane.
type panel struct {
	v    [3]int
	eid  [3]int
	p    [3][3]float64
	n    [3]float64
	area float64
	e    [3][3]float64
	m    [3][3]float64
	grad [3][3]float64
}

func newPanel(nodes [][3]float64, t [3]int) panel {
	var pn panel
	pn.v = t
	for k := range 3 {
		pn.p[k] = nodes[t[k]]
	}
	c := cross(sub(pn.p[1], pn.p[0]), sub(pn.p[2], pn.p[0]))
	twoA := norm(c)
	pn.area = twoA / 2
	pn.n = scale(c, 1/twoA)
	for k := range 3 {
		a, b := pn.p[k], pn.p[(k+1)%3]
		d := sub(b, a)
		pn.e[k] = scale(d, 1/norm(d))
		pn.m[k] = cross(pn.e[k], pn.n)
		pn.grad[k] = scale(cross(pn.n, sub(pn.p[(k+2)%3], pn.p[(k+1)%3])), 1/twoA)
	}
	return pn
}

// solidAngle returns the solid angle Ω subtended at x by the triangle
// (a, b, c), by the formula of Van Oosterom & Strackee (1983):
//
//	tan(Ω/2) = r1·(r2×r3) / (|r1||r2||r3| + (r1·r2)|r3| + (r1·r3)|r2| + (r2·r3)|r1|),  r_k = p_k − x.
//
// Ω is positive when x lies on the side opposite to the normal (a,b,c)
// defines, i.e. when the triangle's normal points away from x: summed over a
// closed outward surface it is 4π for x inside and 0 outside.
func solidAngle(x, a, b, c [3]float64) float64 {
	r := [3][3]float64{sub(a, x), sub(b, x), sub(c, x)}
	return solidAngleR(r, [3]float64{norm(r[0]), norm(r[1]), norm(r[2])})
}

// edgeLog returns ∫ dl/|y − x| along the straight segment from a to b
// (unit direction e, length L, Ra = |a − x|, Rb = |b − x|). With l the
// coordinate along e measured from x's foot on the line, the integral is
// ln((Rb + lb)/(Ra + la)); when x lies behind a on the line's extension
// (la < 0) the equivalent ln((Ra − la)/(Rb − lb)) avoids the cancellation in
// R + l, and when the foot falls inside the segment both factors are used,
// divided by ρ² = |(a − x) × e|². The value does not depend on the direction
// of e. It returns 0 when x is on the segment's line within rounding, or at an
// endpoint: every caller multiplies it by a factor that vanishes there.
func edgeLog(x, a, e [3]float64, L, Ra, Rb float64) float64 {
	ra := sub(a, x)
	la := dot(ra, e)
	lb := la + L
	tiny := 1e-12 * L
	if Ra <= tiny || Rb <= tiny {
		return 0
	}
	switch {
	case la >= 0:
		return math.Log((Rb + lb) / (Ra + la))
	case lb <= 0:
		return math.Log((Ra - la) / (Rb - lb))
	}
	c := cross(ra, e)
	rho2 := dot(c, c)
	if rho2 <= tiny*tiny {
		return 0
	}
	return math.Log((Rb + lb) * (Ra - la) / rho2)
}

// corners holds, for one observation point x and one panel, the distances
// R[k] = |p_k − x| and the edge integrals E[k] = edgeLog of side k (from p_k
// to p_{k+1}). The assembly computes both once per node and per edge of a
// surface and shares them between the panels that use them.
type corners struct {
	R, E [3]float64
}

// integrals returns, for the observation point x and the panel pn, the
// linear-basis-weighted solid angles
//
//	w[k] = ∫_t N_k(y) (y − x)·n / |y − x|³ dS_y
//
// and, when wantG is set, the linear-basis-weighted single-layer integrals
//
//	g[k] = ∫_t N_k(y) / |y − x| dS_y .
//
// Both are analytic (de Munck 1992 for w; Wilton et al. 1984 / Graglia 1993
// for g). With h = n·(p_1 − x) the height of the plane above x, E_j the
// edgeLog of side j and m_j its outward in-plane normal, the divergence
// theorem in the plane gives ∫_t (y − x) dΩ = hΩn − h Σ_j m_j E_j, hence
//
//	w[k] = N_k(x)·Ω − h grad_k·Σ_j m_j E_j ,
//
// where N_k(x) is the linear basis function extended to x's projection (it
// may lie outside [0,1]). For g, with q the projection of x on the plane,
// P_j = (p_j − q)·m_j and ρ_j² = P_j² + h² (the squared distance from x to
// side j's line), l^±_j the side's end coordinates along e_j:
//
//	∫_t 1/|y−x| dS = Σ_j P_j E_j − |h|·|Ω|
//	∫_t (y − q)/|y−x| dS = ½ Σ_j m_j (ρ_j² E_j + l⁺_j R⁺_j − l⁻_j R⁻_j)
//	g[k] = N_k(q)·∫ 1/|y−x| + grad_k·∫ (y − q)/|y−x| .
//
// When x is a corner of the panel (the singular self term) h = 0, Ω = 0 and
// only the opposite side contributes: the formulas stay exact, which is how
// the singular single-layer self-integrals are handled analytically.
func integrals(x [3]float64, pn *panel, c *corners, wantG bool) (w, g [3]float64) {
	var r [3][3]float64
	for k := range 3 {
		r[k] = sub(pn.p[k], x)
	}
	h := dot(pn.n, r[0])
	omega := solidAngleR(r, c.R)
	// N_k at x's projection: signed sub-triangle area ratio; the normal
	// component of x does not change it.
	var nx [3]float64
	for k := range 3 {
		nx[k] = dot(cross(r[(k+1)%3], r[(k+2)%3]), pn.n) / (2 * pn.area)
	}
	var sm [3]float64
	for j := range 3 {
		sm = add(sm, scale(pn.m[j], c.E[j]))
	}
	for k := range 3 {
		w[k] = nx[k]*omega - h*dot(pn.grad[k], sm)
	}
	if !wantG {
		return w, g
	}
	ah := math.Abs(h)
	i0 := -ah * math.Abs(omega)
	var irho [3]float64
	for j := range 3 {
		// r[j] + h n is p_j − q.
		P := dot(r[j], pn.m[j])
		lm := dot(r[j], pn.e[j])
		lp := dot(r[(j+1)%3], pn.e[j])
		i0 += P * c.E[j]
		irho = add(irho, scale(pn.m[j], 0.5*((P*P+h*h)*c.E[j]+lp*c.R[(j+1)%3]-lm*c.R[j])))
	}
	for k := range 3 {
		g[k] = nx[k]*i0 + dot(pn.grad[k], irho)
	}
	return w, g
}

// solidAngleR is solidAngle from the corner vectors r_k = p_k − x and their
// lengths.
func solidAngleR(r [3][3]float64, l [3]float64) float64 {
	triple := dot(r[0], cross(r[1], r[2]))
	den := l[0]*l[1]*l[2] + dot(r[0], r[1])*l[2] + dot(r[0], r[2])*l[1] + dot(r[1], r[2])*l[0]
	return 2 * math.Atan2(triple, den)
}

func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func add(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func scale(a [3]float64, s float64) [3]float64 {
	return [3]float64{a[0] * s, a[1] * s, a[2] * s}
}
func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a [3]float64) float64   { return math.Sqrt(dot(a, a)) }
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
