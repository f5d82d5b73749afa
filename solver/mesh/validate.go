package mesh

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Defect kinds reported by Validate and Orient. Test with errors.Is; the
// wrapped error names the first offending triangle or edge and how many more
// there are.
var (
	ErrIndex       = errors.New("triangle index out of range")
	ErrCoordinate  = errors.New("non-finite node coordinate")
	ErrDegenerate  = errors.New("degenerate triangle")
	ErrDuplicate   = errors.New("duplicate triangle")
	ErrNonManifold = errors.New("non-manifold edge")
	ErrOrientation = errors.New("inconsistent orientation")
)

// degenerateTol is the relative area below which a triangle counts as
// degenerate: 2A <= degenerateTol·(longest edge)². Real heart meshes have
// aspect ratios far above this; it only catches collinear or coincident nodes
// (whose unit normals and cotangents would be NaN or Inf).
const degenerateTol = 1e-12

// Report describes a valid mesh.
type Report struct {
	// Closed is true when every edge is shared by exactly two triangles.
	Closed bool
	// BoundaryEdges lists the edges used by one triangle only, each as
	// (a, b) in the direction its triangle traverses it, sorted
	// lexicographically. Empty for a closed mesh.
	BoundaryEdges [][2]int
	// Isolated lists the nodes no triangle uses (allowed, but operators give
	// them zero rows). Empty in the common case.
	Isolated []int
}

// Validate checks that m is a consistently oriented 2-manifold triangle
// surface (closed or with boundary) and reports its boundary. A mesh without
// triangles is an error. The checks run
// in this order and the first failing one is returned, wrapping one of
// ErrIndex, ErrCoordinate, ErrDegenerate (repeated node or zero area),
// ErrDuplicate (same node set, either winding), ErrNonManifold (edge in more
// than two triangles) or ErrOrientation (an edge traversed in the same
// direction by two triangles; Orient repairs this).
func (m *Mesh) Validate() (*Report, error) {
	if len(m.Tris) == 0 {
		return nil, fmt.Errorf("mesh: no triangles (%d nodes)", len(m.Nodes))
	}
	if err := m.checkTriangles(); err != nil {
		return nil, err
	}
	e := m.edges()
	if err := e.checkManifold(); err != nil {
		return nil, err
	}
	if err := e.checkOrientation(); err != nil {
		return nil, err
	}
	r := &Report{BoundaryEdges: e.boundary()}
	r.Closed = len(r.BoundaryEdges) == 0
	used := make([]bool, len(m.Nodes))
	for _, t := range m.Tris {
		for _, v := range t {
			used[v] = true
		}
	}
	for i, u := range used {
		if !u {
			r.Isolated = append(r.Isolated, i)
		}
	}
	return r, nil
}

// firstOf formats the first defect of a kind and how many others there are.
func firstOf(kind error, first string, n int) error {
	if n > 1 {
		return fmt.Errorf("mesh: %w: %s (and %d more)", kind, first, n-1)
	}
	return fmt.Errorf("mesh: %w: %s", kind, first)
}

// checkTriangles runs the per-triangle checks: indices, coordinates,
// degeneracy, duplicates.
func (m *Mesh) checkTriangles() error {
	n := len(m.Nodes)
	var first string
	count := 0
	for k, t := range m.Tris {
		for _, v := range t {
			if v < 0 || v >= n {
				if count == 0 {
					first = fmt.Sprintf("triangle %d %v: node %d outside 0..%d", k, t, v, n-1)
				}
				count++
				break
			}
		}
	}
	if count > 0 {
		return firstOf(ErrIndex, first, count)
	}
	for i, p := range m.Nodes {
		for _, c := range p {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				if count == 0 {
					first = fmt.Sprintf("node %d %v", i, p)
				}
				count++
				break
			}
		}
	}
	if count > 0 {
		return firstOf(ErrCoordinate, first, count)
	}
	for k, t := range m.Tris {
		msg := ""
		switch {
		case t[0] == t[1] || t[1] == t[2] || t[0] == t[2]:
			msg = fmt.Sprintf("triangle %d %v: repeated node", k, t)
		default:
			a, b, c := m.Nodes[t[0]], m.Nodes[t[1]], m.Nodes[t[2]]
			e1, e2, e3 := sub(b, a), sub(c, b), sub(a, c)
			longest := max(dot(e1, e1), dot(e2, e2), dot(e3, e3))
			if twice := norm(cross(e1, sub(c, a))); twice <= degenerateTol*longest {
				msg = fmt.Sprintf("triangle %d %v: zero area (2A = %g, longest edge² = %g)", k, t, twice, longest)
			}
		}
		if msg != "" {
			if count == 0 {
				first = msg
			}
			count++
		}
	}
	if count > 0 {
		return firstOf(ErrDegenerate, first, count)
	}
	seen := make(map[[3]int]int, len(m.Tris))
	for k, t := range m.Tris {
		key := t
		sort.Ints(key[:])
		if j, ok := seen[key]; ok {
			if count == 0 {
				first = fmt.Sprintf("triangle %d %v repeats triangle %d %v", k, t, j, m.Tris[j])
			}
			count++
			continue
		}
		seen[key] = k
	}
	if count > 0 {
		return firstOf(ErrDuplicate, first, count)
	}
	return nil
}

// edgeUse is one triangle's traversal of an edge.
type edgeUse struct {
	tri  int
	a, b int // direction of traversal in that triangle
}

// edgeSet maps each undirected edge (lower node first) to its traversals, and
// keeps the edges in first-seen order so that reports are deterministic.
type edgeSet struct {
	use   map[[2]int][]edgeUse
	order [][2]int
}

// edges collects the edges of m's triangles. Indices must be in range.
func (m *Mesh) edges() *edgeSet {
	e := &edgeSet{use: make(map[[2]int][]edgeUse, 3*len(m.Tris)/2)}
	for k, t := range m.Tris {
		for s := 0; s < 3; s++ {
			a, b := t[s], t[(s+1)%3]
			key := [2]int{min(a, b), max(a, b)}
			if _, ok := e.use[key]; !ok {
				e.order = append(e.order, key)
			}
			e.use[key] = append(e.use[key], edgeUse{tri: k, a: a, b: b})
		}
	}
	return e
}

func (e *edgeSet) checkManifold() error {
	var first string
	count := 0
	for _, key := range e.order {
		if u := e.use[key]; len(u) > 2 {
			if count == 0 {
				tris := make([]int, len(u))
				for i, x := range u {
					tris[i] = x.tri
				}
				first = fmt.Sprintf("edge %v shared by %d triangles %v", key, len(u), tris)
			}
			count++
		}
	}
	if count > 0 {
		return firstOf(ErrNonManifold, first, count)
	}
	return nil
}

func (e *edgeSet) checkOrientation() error {
	var first string
	count := 0
	for _, key := range e.order {
		if u := e.use[key]; len(u) == 2 && u[0].a == u[1].a {
			if count == 0 {
				first = fmt.Sprintf("edge %d->%d traversed in the same direction by triangles %d and %d", u[0].a, u[0].b, u[0].tri, u[1].tri)
			}
			count++
		}
	}
	if count > 0 {
		return firstOf(ErrOrientation, first, count)
	}
	return nil
}

// boundary returns the edges used by one triangle, in that triangle's
// direction, sorted.
func (e *edgeSet) boundary() [][2]int {
	var b [][2]int
	for _, key := range e.order {
		if u := e.use[key]; len(u) == 1 {
			b = append(b, [2]int{u[0].a, u[0].b})
		}
	}
	sort.Slice(b, func(i, j int) bool {
		if b[i][0] != b[j][0] {
			return b[i][0] < b[j][0]
		}
		return b[i][1] < b[j][1]
	})
	return b
}

// UnmergedHint explains an open mesh whose nodes repeat each other's
// positions: an STL export, or any mesh whose triangles each have their
// own vertices, is closed only once its coincident nodes are merged. It
// returns "; K nodes sit exactly on an earlier node (node i on node j):
// …" for a message about boundary edges, or "" when no two nodes coincide.
func (m *Mesh) UnmergedHint() string {
	seen := make(map[[3]float64]int, len(m.Nodes))
	k, first := 0, [2]int{}
	for i, x := range m.Nodes {
		if j, ok := seen[x]; ok {
			if k == 0 {
				first = [2]int{i, j}
			}
			k++
			continue
		}
		seen[x] = i
	}
	if k == 0 {
		return ""
	}
	return fmt.Sprintf("; %d nodes sit exactly on an earlier node (node %d on node %d): unmerged vertices, as an STL export writes? merge them", k, first[0], first[1])
}
