package mesh

import (
	"fmt"
	"math"
)

// Subdivide returns the midpoint (1-to-4) subdivision of m: every edge gets
// a node at its midpoint and every triangle (a, b, c) with edge midpoints
// ab, bc, ca becomes (a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca),
// each with its parent's winding. The nodes of m keep their indices
// 0…n−1 and their positions; the midpoints follow, numbered in the order
// their edges first appear in m.Tris. The new nodes lie on the flat
// triangles (no smoothing, unlike Loop subdivision), so the surface and
// its enclosed volume are unchanged and every edge halves: a field computed
// on the subdivided mesh is sampled back at m's nodes by taking rows
// 0…n−1. A closed 2-manifold stays one, with the same orientation.
func (m *Mesh) Subdivide() *Mesh {
	n := len(m.Nodes)
	edges, mids := m.midpoints()
	out := &Mesh{Nodes: append(make([][3]float64, 0, n+len(edges)), m.Nodes...),
		Tris: make([][3]int, 0, 4*len(m.Tris))}
	for _, e := range edges {
		p, q := m.Nodes[e[0]], m.Nodes[e[1]]
		out.Nodes = append(out.Nodes, [3]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2, (p[2] + q[2]) / 2})
	}
	for k, t := range m.Tris {
		a, b, c := t[0], t[1], t[2]
		ab, bc, ca := mids[k][0], mids[k][1], mids[k][2]
		out.Tris = append(out.Tris, [3]int{a, ab, ca}, [3]int{ab, b, bc}, [3]int{ca, bc, c}, [3]int{ab, bc, ca})
	}
	return out
}

// SubdivideValues returns the values at the nodes of m.Subdivide() of the
// piecewise-linear function with values f at m's nodes: f itself at the
// original nodes, then at each midpoint the mean of its edge's two ends
// (exact, since the midpoints lie on the flat triangles).
func (m *Mesh) SubdivideValues(f []float64) []float64 {
	edges, _ := m.midpoints()
	out := append(make([]float64, 0, len(f)+len(edges)), f...)
	for _, e := range edges {
		out = append(out, (f[e[0]]+f[e[1]])/2)
	}
	return out
}

// midpoints numbers the edges of m as Subdivide numbers their midpoints:
// in the order they first appear in m.Tris, edges ab, bc, ca of each
// triangle (a, b, c); the midpoint of edges[k] is node len(m.Nodes)+k, and
// mids[t] holds the midpoint nodes of triangle t's edges ab, bc, ca.
func (m *Mesh) midpoints() (edges [][2]int, mids [][3]int) {
	n := len(m.Nodes)
	edges = make([][2]int, 0, 3*len(m.Tris)/2)
	mids = make([][3]int, len(m.Tris))
	index := make(map[[2]int]int, 3*len(m.Tris)/2)
	at := func(a, b int) int {
		key := [2]int{min(a, b), max(a, b)}
		if k, ok := index[key]; ok {
			return k
		}
		index[key] = n + len(edges)
		edges = append(edges, [2]int{a, b})
		return n + len(edges) - 1
	}
	for k, t := range m.Tris {
		mids[k] = [3]int{at(t[0], t[1]), at(t[1], t[2]), at(t[2], t[0])}
	}
	return edges, mids
}

// MeanEdgeLength returns the mean length of the distinct edges of m (mm
// for mm nodes); 0 for a mesh without triangles.
func (m *Mesh) MeanEdgeLength() float64 {
	seen := make(map[[2]int]bool, 3*len(m.Tris)/2)
	var sum float64
	for _, t := range m.Tris {
		for s := 0; s < 3; s++ {
			a, b := t[s], t[(s+1)%3]
			key := [2]int{min(a, b), max(a, b)}
			if !seen[key] {
				seen[key] = true
				sum += dist(m.Nodes[a], m.Nodes[b])
			}
		}
	}
	if len(seen) == 0 {
		return 0
	}
	return sum / float64(len(seen))
}

// MaxSubdivisions bounds RefineTo: 6 levels multiply the triangle count by
// 4⁶ = 4096, beyond what any surface simulation here needs.
const MaxSubdivisions = 6

// RefineTo subdivides m (Subdivide) until its mean edge length is at most
// maxEdge and returns the refined mesh and the number of levels (0 and m
// itself when m already qualifies). m's nodes keep their indices 0…n−1 at
// every level. More than MaxSubdivisions levels, or maxEdge ≤ 0, is an
// error naming the mesh's mean edge.
func (m *Mesh) RefineTo(maxEdge float64) (*Mesh, int, error) {
	e := m.MeanEdgeLength()
	if !(maxEdge > 0) {
		return nil, 0, fmt.Errorf("mesh: refine to mean edge %g mm: want a length > 0", maxEdge)
	}
	// Each level halves the mean edge (exactly on a closed mesh), so a bound
	// out of reach is refused before any work.
	if e > maxEdge && math.Log2(e/maxEdge) > MaxSubdivisions+0.1 {
		return nil, 0, fmt.Errorf("mesh: refine to mean edge %g mm: a mesh with mean edge %.3g mm needs more than %d subdivisions (each halves it)",
			maxEdge, e, MaxSubdivisions)
	}
	r := m
	for level := 0; ; level++ {
		if r.MeanEdgeLength() <= maxEdge {
			return r, level, nil
		}
		if level == MaxSubdivisions {
			return nil, 0, fmt.Errorf("mesh: refine to mean edge %g mm: %d subdivisions of a mesh with mean edge %.3g mm are not enough (at most %d levels)",
				maxEdge, MaxSubdivisions, e, MaxSubdivisions)
		}
		r = r.Subdivide()
	}
}
