package mesh

import (
	"fmt"
	"slices"
)

// Orient rewinds m.Tris in place so that the mesh is consistently oriented
// and, for each closed connected component, outward: triangles are
// counter-clockwise seen from outside, so the signed volume
// V = Σ_f p0·(p1 × p2)/6 is positive. An open component keeps the winding of
// its lowest-numbered triangle (an open surface has no outside).
//
// Consistency is propagated breadth-first across shared edges: a neighbour
// that traverses the shared edge in the same direction as an already oriented
// triangle is flipped (its last two nodes swapped). Orient fails on the
// defects Validate reports before orientation (indices, degenerate, duplicate
// and non-manifold triangles) and, wrapping ErrOrientation, on a
// non-orientable surface (a Möbius strip); m is unchanged on error.
func (m *Mesh) Orient() error {
	if err := m.checkTriangles(); err != nil {
		return fmt.Errorf("orient: %w", err)
	}
	e := m.edges()
	if err := e.checkManifold(); err != nil {
		return fmt.Errorf("orient: %w", err)
	}
	// Work on a copy so that a non-orientable mesh is left untouched.
	w := &Mesh{Nodes: m.Nodes, Tris: slices.Clone(m.Tris)}
	done := make([]bool, len(w.Tris))
	for seed := range w.Tris {
		if done[seed] {
			continue
		}
		done[seed] = true
		comp := []int{seed}
		closed := true
		for q := 0; q < len(comp); q++ {
			k := comp[q]
			t := w.Tris[k]
			for s := 0; s < 3; s++ {
				a, b := t[s], t[(s+1)%3]
				j := other(e.use[[2]int{min(a, b), max(a, b)}], k)
				if j < 0 {
					closed = false
					continue
				}
				same := traverses(w.Tris[j], a, b)
				if done[j] {
					if same {
						return fmt.Errorf("orient: mesh: %w: surface is not orientable (triangles %d and %d around edge %d-%d)", ErrOrientation, k, j, a, b)
					}
					continue
				}
				if same {
					w.Tris[j][1], w.Tris[j][2] = w.Tris[j][2], w.Tris[j][1]
				}
				done[j] = true
				comp = append(comp, j)
			}
		}
		if closed && w.signedVolume(comp) < 0 {
			for _, k := range comp {
				w.Tris[k][1], w.Tris[k][2] = w.Tris[k][2], w.Tris[k][1]
			}
		}
	}
	copy(m.Tris, w.Tris)
	return nil
}

// other returns the triangle other than k using an edge, or -1 for a
// boundary edge.
func other(uses []edgeUse, k int) int {
	for _, u := range uses {
		if u.tri != k {
			return u.tri
		}
	}
	return -1
}

// traverses reports whether triangle t contains the directed edge a->b.
func traverses(t [3]int, a, b int) bool {
	for s := 0; s < 3; s++ {
		if t[s] == a && t[(s+1)%3] == b {
			return true
		}
	}
	return false
}

// signedVolume is Σ p0·(p1 × p2)/6 over the given triangles: the enclosed
// volume by the divergence theorem, positive for outward winding of a closed
// surface, independent of the origin only when the surface is closed.
func (m *Mesh) signedVolume(tris []int) float64 {
	var v float64
	for _, k := range tris {
		t := m.Tris[k]
		v += dot(m.Nodes[t[0]], cross(m.Nodes[t[1]], m.Nodes[t[2]])) / 6
	}
	return v
}

// SignedVolume returns Σ_f p0·(p1 × p2)/6 over all triangles: the enclosed
// volume (in mm³ for mm nodes) of a closed surface, positive when the winding
// is outward.
func (m *Mesh) SignedVolume() float64 {
	all := make([]int, len(m.Tris))
	for k := range all {
		all[k] = k
	}
	return m.signedVolume(all)
}

// DropRepeats removes from m.Tris every triangle that lists the same nodes
// in the same cyclic order as an earlier one (the same triangle written
// twice, as the Utah 128-node sock's triangle 246 repeats 194) and returns
// the (removed, kept) index pairs in the original numbering, nil when there
// are none. A triangle on the same nodes with the opposite winding is not a
// repeat but two faces of a sheet, left for Validate to refuse.
func (m *Mesh) DropRepeats() [][2]int {
	var pairs [][2]int
	seen := make(map[[3]int]int, len(m.Tris))
	kept := m.Tris[:0:0]
	for k, t := range m.Tris {
		key := t // rotated so that the smallest index comes first
		for key[0] > key[1] || key[0] > key[2] {
			key = [3]int{key[1], key[2], key[0]}
		}
		if j, ok := seen[key]; ok {
			pairs = append(pairs, [2]int{k, j})
			continue
		}
		seen[key] = k
		kept = append(kept, t)
	}
	if pairs != nil {
		m.Tris = kept
	}
	return pairs
}
