package mesh

import (
	"container/heap"
	"math"
	"sort"
)

// The methods below assume a mesh that passes Validate (indices in range);
// outward normals further assume Orient has run on a closed mesh.

// Neighbors returns, for every node, the sorted list of nodes it shares a
// triangle edge with (its 1-ring). Isolated nodes get an empty list.
func (m *Mesh) Neighbors() [][]int {
	nb := make([][]int, len(m.Nodes))
	for _, t := range m.Tris {
		for s := 0; s < 3; s++ {
			a, b := t[s], t[(s+1)%3]
			nb[a] = append(nb[a], b)
			nb[b] = append(nb[b], a)
		}
	}
	for i, l := range nb {
		sort.Ints(l)
		u := l[:0]
		for k, v := range l {
			if k == 0 || v != l[k-1] {
				u = append(u, v)
			}
		}
		nb[i] = u
	}
	return nb
}

// TriangleAreas returns the area |(p1 − p0) × (p2 − p0)|/2 of every triangle
// (mm² for mm nodes).
func (m *Mesh) TriangleAreas() []float64 {
	a := make([]float64, len(m.Tris))
	for k, t := range m.Tris {
		a[k] = norm(m.twiceArea(t)) / 2
	}
	return a
}

// TriangleNormals returns the unit normal (p1 − p0) × (p2 − p0) / |…| of every
// triangle: outward for an oriented closed mesh.
func (m *Mesh) TriangleNormals() [][3]float64 {
	n := make([][3]float64, len(m.Tris))
	for k, t := range m.Tris {
		n[k] = unit(m.twiceArea(t))
	}
	return n
}

// VertexNormals returns unit vertex normals, the area-weighted mean of the
// normals of the triangles around each node,
//
//	n_i = Σ_{f∋i} A_f n_f / |Σ_{f∋i} A_f n_f|,
//
// outward for an oriented closed mesh. Isolated nodes get the zero vector.
func (m *Mesh) VertexNormals() [][3]float64 {
	n := make([][3]float64, len(m.Nodes))
	for _, t := range m.Tris {
		// The unnormalized cross product is 2·A_f·n_f: the weight for free.
		c := m.twiceArea(t)
		for _, v := range t {
			n[v] = add(n[v], c)
		}
	}
	for i := range n {
		if norm(n[i]) > 0 {
			n[i] = unit(n[i])
		}
	}
	return n
}

// twiceArea returns (p1 − p0) × (p2 − p0) of triangle t.
func (m *Mesh) twiceArea(t [3]int) [3]float64 {
	p0 := m.Nodes[t[0]]
	return cross(sub(m.Nodes[t[1]], p0), sub(m.Nodes[t[2]], p0))
}

// EdgePathDistances returns the length of the shortest path along mesh edges
// from node src to every node (Dijkstra; +Inf for nodes not connected to
// src). It overestimates the geodesic distance (on an equilateral grid by up
// to the zig-zag factor 2/√3 ≈ 1.15) and serves as its cheap proxy,
// for example to place stimuli a given distance from a pacing site.
func (m *Mesh) EdgePathDistances(src int) []float64 {
	nb := m.Neighbors()
	d := make([]float64, len(m.Nodes))
	for i := range d {
		d[i] = math.Inf(1)
	}
	d[src] = 0
	q := &distHeap{{node: src}}
	for q.Len() > 0 {
		it := heap.Pop(q).(distItem)
		if it.dist > d[it.node] {
			continue // stale entry: a shorter path was found after pushing it
		}
		for _, j := range nb[it.node] {
			if nd := it.dist + dist(m.Nodes[it.node], m.Nodes[j]); nd < d[j] {
				d[j] = nd
				heap.Push(q, distItem{node: j, dist: nd})
			}
		}
	}
	return d
}

type distItem struct {
	node int
	dist float64
}

type distHeap []distItem

func (h distHeap) Len() int           { return len(h) }
func (h distHeap) Less(i, j int) bool { return h[i].dist < h[j].dist }
func (h distHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *distHeap) Push(x any)        { *h = append(*h, x.(distItem)) }
func (h *distHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func add(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func dot(a, b [3]float64) float64    { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func norm(a [3]float64) float64      { return math.Sqrt(dot(a, a)) }
func dist(a, b [3]float64) float64   { return norm(sub(a, b)) }
func unit(a [3]float64) [3]float64 {
	n := norm(a)
	return [3]float64{a[0] / n, a[1] / n, a[2] / n}
}
func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// Bounds returns the corners of the axis-aligned bounding box of m's nodes.
func (m *Mesh) Bounds() (lo, hi [3]float64) {
	lo = [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi = [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for _, x := range m.Nodes {
		for d := range 3 {
			lo[d], hi[d] = math.Min(lo[d], x[d]), math.Max(hi[d], x[d])
		}
	}
	return lo, hi
}

// Diagonal returns the length of the diagonal of m's bounding box: the
// mesh's size, as a check of its units.
func (m *Mesh) Diagonal() float64 {
	lo, hi := m.Bounds()
	return dist(lo, hi)
}
