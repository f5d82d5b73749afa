package forward

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/integrate/quad"

	"github.com/eandarn/eandarn/solver/mesh"
)

// quadIntegrals integrates N_k(y)·(y−x)·n/|y−x|³ and N_k(y)/|y−x| over the
// panel numerically: the triangle is split into three sub-triangles with apex
// a (the projection of x when it falls inside or on the border, else corner 0; signed areas
// make the split valid either way), each mapped by the Duffy transform
// y = a + u(p_j − a) + uv(p_{j+1} − p_j), dS = 2A_j u du dv, which cancels the
// 1/r singularity at the apex, and integrated by a 48x48 Gauss–Legendre rule.
func quadIntegrals(x [3]float64, pn *panel) (w, g [3]float64) {
	const nq = 48
	xs, ws := make([]float64, nq), make([]float64, nq)
	quad.Legendre{}.FixedLocations(xs, ws, 0, 1)
	h := dot(pn.n, sub(pn.p[0], x))
	q := add(x, scale(pn.n, h))
	a := pn.p[0]
	var bary [3]float64
	inside := true
	for k := range 3 {
		bary[k] = dot(cross(sub(pn.p[(k+1)%3], q), sub(pn.p[(k+2)%3], q)), pn.n) / (2 * pn.area)
		inside = inside && bary[k] > -1e-12
	}
	if inside {
		a = q
	}
	basis := func(y [3]float64) [3]float64 {
		var nk [3]float64
		for k := range 3 {
			nk[k] = dot(cross(sub(pn.p[(k+1)%3], y), sub(pn.p[(k+2)%3], y)), pn.n) / (2 * pn.area)
		}
		return nk
	}
	for j := range 3 {
		pj, pk := pn.p[j], pn.p[(j+1)%3]
		twoAj := dot(cross(sub(pj, a), sub(pk, a)), pn.n)
		if twoAj == 0 {
			continue
		}
		for iu, u := range xs {
			for iv, v := range xs {
				y := add(a, add(scale(sub(pj, a), u), scale(sub(pk, pj), u*v)))
				r := sub(y, x)
				d := norm(r)
				dS := twoAj * u * ws[iu] * ws[iv]
				nk := basis(y)
				for k := range 3 {
					w[k] += nk[k] * dot(r, pn.n) / (d * d * d) * dS
					g[k] += nk[k] / d * dS
				}
			}
		}
	}
	return w, g
}

// cornersAt computes the per-panel distances and edge integrals directly, as
// the assembly's row cache does.
func cornersAt(x [3]float64, pn *panel) *corners {
	var c corners
	for k := range 3 {
		c.R[k] = norm(sub(pn.p[k], x))
	}
	for k := range 3 {
		L := norm(sub(pn.p[(k+1)%3], pn.p[k]))
		c.E[k] = edgeLog(x, pn.p[k], pn.e[k], L, c.R[k], c.R[(k+1)%3])
	}
	return &c
}

func TestIntegralsMatchQuadrature(t *testing.T) {
	nodes := [][3]float64{{0.1, -0.2, 0.05}, {1.3, 0.1, -0.1}, {0.4, 1.1, 0.3}}
	pn := newPanel(nodes, [3]int{0, 1, 2})
	c := scale(add(add(nodes[0], nodes[1]), nodes[2]), 1.0/3)
	tests := []struct {
		name string
		x    [3]float64
		tol  float64 // absolute, per entry (integrals are O(1) here)
	}{
		{"far above", add(c, scale(pn.n, 5)), 1e-10},
		{"far below, offset", add(add(c, scale(pn.n, -3)), [3]float64{2, 1, 0}), 1e-10},
		{"near above centroid", add(c, scale(pn.n, 0.2)), 1e-7},
		{"near below, outside edge", add(add(c, scale(pn.n, -0.3)), scale(pn.m[0], 0.9)), 1e-7},
		{"in plane, outside", add(c, scale(pn.m[1], 1.5)), 1e-9},
		{"corner 0 (singular)", nodes[0], 1e-9},
		{"corner 2 (singular)", nodes[2], 1e-9},
		{"on edge line beyond corner", add(nodes[1], scale(pn.e[0], 0.7)), 1e-9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, g := integrals(tc.x, &pn, cornersAt(tc.x, &pn), true)
			qw, qg := quadIntegrals(tc.x, &pn)
			for k := range 3 {
				if math.Abs(w[k]-qw[k]) > tc.tol || math.Abs(g[k]-qg[k]) > tc.tol {
					t.Errorf("k=%d: w %.12g vs quad %.12g; g %.12g vs quad %.12g", k, w[k], qw[k], g[k], qg[k])
				}
			}
			om := solidAngle(tc.x, nodes[0], nodes[1], nodes[2])
			if s := w[0] + w[1] + w[2]; math.Abs(s-om) > 1e-12 {
				t.Errorf("Σ w = %g, want the solid angle %g", s, om)
			}
		})
	}
}

func TestSolidAngleClosedSurface(t *testing.T) {
	// A unit cube, outward: 4π inside, 0 outside, whatever the point.
	nodes := [][3]float64{{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}}
	tris := [][3]int{{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4}, {1, 2, 6}, {1, 6, 5}, {2, 3, 7}, {2, 7, 6}, {3, 0, 4}, {3, 4, 7}}
	ps := newBoundary(&mesh.Mesh{Nodes: nodes, Tris: tris}).panels
	for i, tc := range []struct {
		x    [3]float64
		want float64
	}{{[3]float64{0.5, 0.5, 0.5}, 4 * math.Pi}, {[3]float64{0.01, 0.9, 0.2}, 4 * math.Pi}, {[3]float64{1.5, 0.5, 0.5}, 0}, {[3]float64{-3, 7, 2}, 0}} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if got := windingAngle(tc.x, ps); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("winding angle at %v = %g, want %g", tc.x, got, tc.want)
			}
		})
	}
}

// TestEdgeLog checks ∫ dl/|y − x| along a segment against Gauss–Legendre
// quadrature, for observation points whose foot on the line falls before,
// inside and after the segment (the three branches of edgeLog).
func TestEdgeLog(t *testing.T) {
	a, b := [3]float64{0.2, -0.1, 0.3}, [3]float64{1.4, 0.5, -0.2}
	L := norm(sub(b, a))
	e := scale(sub(b, a), 1/L)
	off := [3]float64{0.1, 0.3, 0.25} // not along e
	xs, ws := make([]float64, 400), make([]float64, 400)
	quad.Legendre{}.FixedLocations(xs, ws, 0, L)
	for _, tc := range []struct {
		name  string
		along float64 // foot position along e, from a
		dist  float64 // scale of the offset from the line
	}{
		{"before a", -2, 0.3}, {"before a, near line", -0.5, 1e-4}, {"inside", 0.4 * L, 0.2},
		{"after b", L + 1.5, 0.5}, {"after b, near line", L + 0.3, 1e-4}, {"far", 0.5 * L, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := add(add(a, scale(e, tc.along)), scale(off, tc.dist))
			var want float64
			for i, s := range xs {
				want += ws[i] / norm(sub(add(a, scale(e, s)), x))
			}
			got := edgeLog(x, a, e, L, norm(sub(a, x)), norm(sub(b, x)))
			if math.Abs(got-want) > 1e-10*math.Max(1, want) {
				t.Errorf("edgeLog = %.15g, quadrature %.15g", got, want)
			}
		})
	}
	if v := edgeLog(a, a, e, L, 0, L); v != 0 {
		t.Errorf("at an endpoint: %g, want 0", v)
	}
}
