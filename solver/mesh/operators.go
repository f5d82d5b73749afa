package mesh

import (
	"math"
	"sort"

	"github.com/eandarn/eandarn/solver/sparse"
)

// The operators below assume a mesh that passes Validate; an isolated node
// gets an all-zero row.

// Laplacian returns the paper's neighbour-based mesh Laplacian (Eq. 15) on the
// 1-ring of every node:
//
//	Δu_i ≈ 4/(r_i n_i) Σ_j (u_j − u_i)/d_ij,
//
// with n_i the number of neighbours, d_ij = |p_j − p_i| and r_i the mean of
// the d_ij. Rows sum to zero. Units: 1/mm² for mm nodes.
//
// It equals the 5-point stencil on a square grid and is exact for quadratics
// on an equilateral (hexagonal) grid, but it is not consistent on irregular
// meshes: on icospheres its RMS relative error for Δz = −2z/r² grows under
// refinement (28%, 52%, 82% at 162, 642, 2562 nodes; DESIGN §2).
// LaplaceBeltrami is the consistent alternative.
func Laplacian(m *Mesh) *sparse.CSR {
	return NeighborLaplacian(m.Nodes, m.Neighbors())
}

// NeighborLaplacian is Eq. 15 for arbitrary neighbour sets nbrs[i] (sorted,
// without i), for example the 4-neighbour square grid of the paper's Eq. 12,
// which no triangle mesh has: Δu_i ≈ 4/(r_i n_i) Σ_j (u_j − u_i)/d_ij.
func NeighborLaplacian(nodes [][3]float64, nbrs [][]int) *sparse.CSR {
	l := ringPattern(nbrs)
	for i, ring := range nbrs {
		if len(ring) == 0 {
			continue
		}
		d := make([]float64, len(ring))
		var r float64
		for k, j := range ring {
			d[k] = dist(nodes[i], nodes[j])
			r += d[k]
		}
		r /= float64(len(ring))
		ii := slot(l, i, i)
		for k, j := range ring {
			w := 4 / (r * float64(len(ring)) * d[k])
			l.Val[slot(l, i, j)] += w
			l.Val[ii] -= w
		}
	}
	return l
}

// CotanStiffness returns the symmetric positive semi-definite cotangent
// stiffness matrix S of the piecewise-linear finite elements on m,
//
//	S_ij = −(cot α_ij + cot β_ij)/2 (i ≠ j),   S_ii = −Σ_j S_ij,
//
// where α_ij, β_ij are the angles opposite edge ij in its (one or two)
// triangles, so that uᵀ S u = ∫ |∇u|² dA. Dimensionless.
func CotanStiffness(m *Mesh) *sparse.CSR {
	s := ringPattern(m.Neighbors())
	for _, t := range m.Tris {
		for c := 0; c < 3; c++ {
			a, b := t[(c+1)%3], t[(c+2)%3]
			pc := m.Nodes[t[c]]
			ea, eb := sub(m.Nodes[a], pc), sub(m.Nodes[b], pc)
			w := dot(ea, eb) / norm(cross(ea, eb)) / 2 // cot of the angle at c, halved
			s.Val[slot(s, a, b)] -= w
			s.Val[slot(s, b, a)] -= w
			s.Val[slot(s, a, a)] += w
			s.Val[slot(s, b, b)] += w
		}
	}
	return s
}

// LumpedMass returns the barycentric lumped vertex areas A_i = Σ_{f∋i} A_f/3
// (mm² for mm nodes); they sum to the surface area.
func LumpedMass(m *Mesh) []float64 {
	mass := make([]float64, len(m.Nodes))
	for k, a := range m.TriangleAreas() {
		for _, v := range m.Tris[k] {
			mass[v] += a / 3
		}
	}
	return mass
}

// LaplaceBeltrami returns the cotangent Laplace–Beltrami operator with a
// lumped (barycentric) mass, L = −M⁻¹ S:
//
//	(L u)_i = 1/A_i Σ_j (cot α_ij + cot β_ij)/2 (u_j − u_i),
//
// with A_i from LumpedMass and S from CotanStiffness. Rows sum to zero;
// units 1/mm² for mm nodes. On icospheres L Y → −6/r² Y for degree-2
// spherical harmonics Y, the RMS relative error halving per refinement
// (4.8%, 2.3%, 1.1% at 162, 642, 2562 nodes). With
// one-sided cotangents on boundary edges it carries the natural (no-flux)
// boundary condition of the Aliev–Panfilov model (paper Eq. 3).
func LaplaceBeltrami(m *Mesh) *sparse.CSR {
	l := CotanStiffness(m)
	mass := LumpedMass(m)
	for i := 0; i < l.Rows; i++ {
		for k := l.RowPtr[i]; k < l.RowPtr[i+1]; k++ {
			if mass[i] > 0 {
				l.Val[k] = -l.Val[k] / mass[i]
			}
		}
	}
	return l
}

// Gradient returns the 3F x n surface-gradient operator G of the piecewise
// linear interpolant: rows 3f, 3f+1, 3f+2 hold the x, y, z components of the
// (constant) gradient on triangle f, scaled by √A_f, so that
//
//	‖G u‖² = Σ_f A_f |∇u|_f|² = ∫ |∇u|² dA = uᵀ S u
//
// with S from CotanStiffness. On triangle f with unit normal n_f the gradient
// of the hat function of corner i is n_f × e_i/(2A_f), e_i the edge opposite
// i traversed in the triangle's direction. This is Γ for Tikhonov order 1.
// Entries are √mm²·1/mm, i.e. dimensionless. Rows sum to zero.
func Gradient(m *Mesh) *sparse.CSR {
	g := &sparse.CSR{Rows: 3 * len(m.Tris), Cols: len(m.Nodes), RowPtr: make([]int, 3*len(m.Tris)+1)}
	g.ColIdx = make([]int, 0, 9*len(m.Tris))
	g.Val = make([]float64, 0, 9*len(m.Tris))
	for f, t := range m.Tris {
		nrm := m.twiceArea(t)
		twoA := norm(nrm)
		n := [3]float64{nrm[0] / twoA, nrm[1] / twoA, nrm[2] / twoA}
		scale := math.Sqrt(twoA/2) / twoA
		var grad [3][3]float64 // grad[i] = √A ∇φ_i for corner i
		for i := 0; i < 3; i++ {
			e := sub(m.Nodes[t[(i+2)%3]], m.Nodes[t[(i+1)%3]])
			c := cross(n, e)
			grad[i] = [3]float64{c[0] * scale, c[1] * scale, c[2] * scale}
		}
		// CSR wants ascending columns within a row.
		order := []int{0, 1, 2}
		sort.Slice(order, func(a, b int) bool { return t[order[a]] < t[order[b]] })
		for d := 0; d < 3; d++ {
			for _, i := range order {
				g.ColIdx = append(g.ColIdx, t[i])
				g.Val = append(g.Val, grad[i][d])
			}
			g.RowPtr[3*f+d+1] = len(g.ColIdx)
		}
	}
	return g
}

// ringPattern returns an n x n CSR with zero values whose row i holds the
// columns {i} ∪ nbrs[i] in ascending order.
func ringPattern(nbrs [][]int) *sparse.CSR {
	n := len(nbrs)
	a := &sparse.CSR{Rows: n, Cols: n, RowPtr: make([]int, n+1)}
	for i, ring := range nbrs {
		diag := false
		for _, j := range ring {
			if !diag && j > i {
				a.ColIdx = append(a.ColIdx, i)
				diag = true
			}
			a.ColIdx = append(a.ColIdx, j)
		}
		if !diag {
			a.ColIdx = append(a.ColIdx, i)
		}
		a.RowPtr[i+1] = len(a.ColIdx)
	}
	a.Val = make([]float64, len(a.ColIdx))
	return a
}

// slot returns the position of entry (i, j) in a's pattern; it must exist.
func slot(a *sparse.CSR, i, j int) int {
	cols := a.ColIdx[a.RowPtr[i]:a.RowPtr[i+1]]
	return a.RowPtr[i] + sort.SearchInts(cols, j)
}
