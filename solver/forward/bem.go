// Package forward computes the transfer matrix R of the forward problem of
// electrocardiography, y = R u (DESIGN §2–3): body-surface potentials y at
// the torso leads from the heart-surface potentials u, for a homogeneous
// conductor between the heart surface and an insulated torso surface. It
// uses the potential-based boundary element method with linear triangles and
// collocation at the nodes (Barr, Ramsey & Spach 1977).
package forward

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/progress"
)

// TransferMatrix returns the potential-to-potential transfer matrix from the
// heart surface to the torso surface, restricted to the lead rows:
// R[l][j] = ∂φ_B(leads[l]) / ∂φ_H(j), a len(leads) x len(heart.Nodes) matrix.
// A nil leads slice selects every torso node.
//
// Green's third identity for the potential φ, harmonic between the heart
// surface H and the torso surface B (both closed, normals outward, dΩ_x(y) the
// solid angle of dS_y seen from x, positive when the normal points away from
// x, Γ = ∂φ/∂n on H, ∂φ/∂n = 0 on the insulated B), collocated at every node
// x of B and H, reads
//
//	c(x)φ(x) − 1/4π ∫_B φ dΩ_x + 1/4π ∫_H φ dΩ_x + 1/4π ∫_H Γ/|y−x| dS_y = 0 .
//
// With linear basis functions for φ and Γ this is the block system
//
//	P_BB φ_B + P_BH φ_H + G_BH Γ_H = 0
//	P_HB φ_B + P_HH φ_H + G_HH Γ_H = 0 ,
//
// and eliminating Γ_H gives
//
//	R = (P_BB − G_BH G_HH⁻¹ P_HB)⁻¹ (G_BH G_HH⁻¹ P_HH − P_BH) .
//
// The off-diagonal P entries are exact linear-weighted solid angles (Van
// Oosterom–Strackee, de Munck 1992); the G entries are exact integrals of
// N_j/r, the singular self-integrals included (see integrals). The diagonal
// c(x) − (self terms) of P is set so that every row of [P_·B P_·H] sums to
// zero: a constant potential with zero current solves the system exactly, so
// R·1 = 1 holds to rounding. This also gives the correct c(x) at non-smooth
// nodes, where the solid angle is not 2π. The Schur complement is regular
// when the heart lies inside the torso, so no deflation is applied (a
// (1/N)·11ᵀ deflation would break R·1 = 1; DESIGN §3).
//
// Both meshes are copied and oriented outward (mesh.Orient); each must be a
// valid closed surface, and every heart node must lie inside the torso and
// every torso node outside the heart (solid-angle winding test), otherwise an
// error is returned before any matrix is assembled. Assembly runs on
// GOMAXPROCS goroutines over rows; the result does not depend on their number.
// Options change how it reports, never what it computes.
func TransferMatrix(heart, torso *mesh.Mesh, leads []int, opts ...Option) (*mat.Dense, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	hs, bs, err := nested(heart, torso)
	if err != nil {
		return nil, err
	}
	nB, nH := len(bs.nodes), len(hs.nodes)
	if leads == nil {
		leads = make([]int, nB)
		for i := range leads {
			leads[i] = i
		}
	}
	for l, j := range leads {
		if j < 0 || j >= nB {
			return nil, fmt.Errorf("forward: lead %d is torso node %d, want 0..%d", l, j, nB-1)
		}
	}
	N := nB + nH
	var done atomic.Int64
	row := func() { o.report(done.Add(1), N) }
	P, G := assemble(hs, bs, row)
	R, err := eliminate(P, G, nB, nH)
	if err != nil {
		return nil, err
	}
	o.report(int64(N+1), N)
	out := mat.NewDense(len(leads), nH, nil)
	for l, j := range leads {
		out.SetRow(l, R.RawRowView(j))
	}
	return out, nil
}

// Option is an option of TransferMatrix.
type Option func(*options)

type options struct{ rep progress.Reporter }

// WithProgress reports to r the rows of the BEM system assembled, then the
// elimination as one last unit (N + 1 units for N = torso + heart nodes).
func WithProgress(r progress.Reporter) Option { return func(o *options) { o.rep = r } }

// report reports done of the N + 1 units, when a Reporter is set.
func (o *options) report(done int64, N int) {
	if o.rep != nil {
		o.rep.Report(progress.Update{Stage: "bem", Done: done, Total: int64(N + 1), Unit: "row"})
	}
}

// CheckSurface checks m as TransferMatrix checks the heart or the torso
// (name) before the BEM: a valid closed surface (any winding: it is
// oriented outward) with every node in a triangle.
func CheckSurface(m *mesh.Mesh, name string) error {
	_, err := closedCopy(m, name)
	return err
}

// CheckNesting checks, as TransferMatrix does before assembling, that both
// surfaces pass CheckSurface, every heart node lies inside the torso and
// every torso node outside the heart: a heart partly outside the torso, or
// the two swapped, is refused in milliseconds instead of after a
// simulation.
func CheckNesting(heart, torso *mesh.Mesh) error {
	_, _, err := nested(heart, torso)
	return err
}

// nested returns the BEM boundaries of outward copies of heart and torso
// after the checks of CheckNesting.
func nested(heart, torso *mesh.Mesh) (hs, bs *boundary, err error) {
	h, err := closedCopy(heart, "heart")
	if err != nil {
		return nil, nil, err
	}
	b, err := closedCopy(torso, "torso")
	if err != nil {
		return nil, nil, err
	}
	hs, bs = newBoundary(h), newBoundary(b)
	return hs, bs, checkNesting(hs, bs)
}

// closedCopy returns an outward-oriented copy of m after checking that it is a
// valid closed surface with no unused node (an unused node would leave an
// empty, singular row in the BEM system).
func closedCopy(m *mesh.Mesh, name string) (*mesh.Mesh, error) {
	if m == nil || len(m.Tris) == 0 {
		return nil, fmt.Errorf("forward: %s mesh is empty", name)
	}
	c := &mesh.Mesh{
		Nodes: append([][3]float64(nil), m.Nodes...),
		Tris:  append([][3]int(nil), m.Tris...),
	}
	if err := c.Orient(); err != nil {
		return nil, fmt.Errorf("forward: %s mesh: %w", name, err)
	}
	rep, err := c.Validate()
	if err != nil {
		return nil, fmt.Errorf("forward: %s mesh: %w", name, err)
	}
	if !rep.Closed {
		e := rep.BoundaryEdges[0]
		return nil, fmt.Errorf("forward: %s mesh is not closed: %d boundary edges (first %d-%d); the BEM needs closed surfaces%s", name, len(rep.BoundaryEdges), e[0], e[1], c.UnmergedHint())
	}
	if len(rep.Isolated) > 0 {
		return nil, fmt.Errorf("forward: %s mesh: node %d is in no triangle (%d such nodes)", name, rep.Isolated[0], len(rep.Isolated))
	}
	return c, nil
}

// boundary is one closed surface of the BEM with its panels and unique
// edges (each edge stored once, from node a to node b, with unit direction
// and length), so that per-row edge integrals are computed once per edge.
type boundary struct {
	nodes  [][3]float64
	panels []panel
	edges  [][2]int
	dir    [][3]float64
	length []float64
}

func newBoundary(m *mesh.Mesh) *boundary {
	s := &boundary{nodes: m.Nodes, panels: make([]panel, len(m.Tris))}
	ids := map[[2]int]int{}
	for k, t := range m.Tris {
		s.panels[k] = newPanel(m.Nodes, t)
		for j := range 3 {
			a, b := t[j], t[(j+1)%3]
			key := [2]int{min(a, b), max(a, b)}
			id, ok := ids[key]
			if !ok {
				id = len(s.edges)
				ids[key] = id
				d := sub(m.Nodes[key[1]], m.Nodes[key[0]])
				s.edges = append(s.edges, key)
				s.length = append(s.length, norm(d))
				s.dir = append(s.dir, scale(d, 1/norm(d)))
			}
			s.panels[k].eid[j] = id
		}
	}
	return s
}

// rowCache holds, for one observation point, the distances to every node
// and the edge integrals of every edge of a boundary.
type rowCache struct {
	dist, elog []float64
}

func (s *boundary) fill(x [3]float64, rc *rowCache) {
	if rc.dist == nil {
		rc.dist = make([]float64, len(s.nodes))
		rc.elog = make([]float64, len(s.edges))
	}
	for j, p := range s.nodes {
		rc.dist[j] = norm(sub(p, x))
	}
	for e, ab := range s.edges {
		rc.elog[e] = edgeLog(x, s.nodes[ab[0]], s.dir[e], s.length[e], rc.dist[ab[0]], rc.dist[ab[1]])
	}
}

// corners gathers the cached distances and edge integrals of panel k.
func (rc *rowCache) corners(pn *panel) *corners {
	var c corners
	for j := range 3 {
		c.R[j] = rc.dist[pn.v[j]]
		c.E[j] = rc.elog[pn.eid[j]]
	}
	return &c
}

// windingAngle returns Σ Ω over the panels of a closed outward surface seen
// from x: 4π inside, 0 outside.
func windingAngle(x [3]float64, ps []panel) float64 {
	var s float64
	for i := range ps {
		s += solidAngle(x, ps[i].p[0], ps[i].p[1], ps[i].p[2])
	}
	return s
}

// checkNesting verifies that every heart node is inside the torso and every
// torso node outside the heart, by the winding solid angle (threshold 2π).
func checkNesting(h, b *boundary) error {
	hp, bp := h.panels, b.panels
	bad, first := 0, -1
	for i, x := range h.nodes {
		if windingAngle(x, bp) < 2*math.Pi {
			if bad == 0 {
				first = i
			}
			bad++
		}
	}
	inside, firstInside := 0, -1
	for i, x := range b.nodes {
		if windingAngle(x, hp) > 2*math.Pi {
			if inside == 0 {
				firstInside = i
			}
			inside++
		}
	}
	if bad > 0 {
		x := h.nodes[first]
		why := ""
		switch dh, db := (&mesh.Mesh{Nodes: h.nodes}).Diagonal(), (&mesh.Mesh{Nodes: b.nodes}).Diagonal(); {
		case bad < len(h.nodes):
		case dh > 20*db:
			why = fmt.Sprintf("; the torso is %.3g mm across (bounding-box diagonal), the heart %.3g mm: are they in different units?", db, dh)
		case inside == len(b.nodes):
			why = "; the whole torso is inside the heart: heart and torso swapped?"
		}
		return fmt.Errorf("forward: torso does not enclose the heart: heart node %d at (%.4g, %.4g, %.4g) mm is outside the torso (%d of %d heart nodes outside)%s", first, x[0], x[1], x[2], bad, len(h.nodes), why)
	}
	if bad, first = inside, firstInside; bad > 0 {
		x := b.nodes[first]
		return fmt.Errorf("forward: heart and torso intersect: torso node %d at (%.4g, %.4g, %.4g) mm is inside the heart (%d torso nodes inside)", first, x[0], x[1], x[2], bad)
	}
	return nil
}

// assemble returns P (N x N, N = nB + nH, torso nodes first) and G (N x nH)
// of the collocation system documented at TransferMatrix, rows in parallel;
// rowDone is called after each row.
func assemble(h, b *boundary, rowDone func()) (P, G *mat.Dense) {
	nB, nH := len(b.nodes), len(h.nodes)
	N := nB + nH
	P = mat.NewDense(N, N, nil)
	G = mat.NewDense(N, nH, nil)
	const inv4pi = 1 / (4 * math.Pi)
	row := func(i int, hc, bc *rowCache) {
		pr, gr := P.RawRowView(i), G.RawRowView(i)
		var x [3]float64
		onB := i < nB
		self := i
		if onB {
			x = b.nodes[i]
		} else {
			x = h.nodes[i-nB]
			self = i - nB
		}
		b.fill(x, bc)
		h.fill(x, hc)
		for k := range b.panels {
			pn := &b.panels[k]
			if onB && hasNode(pn, self) {
				continue // x in the panel's plane: zero solid angle
			}
			w, _ := integrals(x, pn, bc.corners(pn), false)
			for c := range 3 {
				pr[pn.v[c]] -= inv4pi * w[c]
			}
		}
		for k := range h.panels {
			pn := &h.panels[k]
			w, g := integrals(x, pn, hc.corners(pn), true)
			if !onB && hasNode(pn, self) {
				w = [3]float64{}
			}
			for c := range 3 {
				pr[nB+pn.v[c]] += inv4pi * w[c]
				gr[pn.v[c]] += inv4pi * g[c]
			}
		}
		pr[i] = 0
		var s float64
		for _, v := range pr {
			s += v
		}
		pr[i] = -s
	}
	// Rows are independent; each worker keeps its own caches (kernels'
	// workers also carry a panic to this goroutine).
	workers := min(runtime.GOMAXPROCS(0), N)
	caches := make([][2]rowCache, workers)
	kernels.ParallelFor(N, workers, func(w, i int) {
		row(i, &caches[w][0], &caches[w][1])
		rowDone()
	})
	return P, G
}

func hasNode(pn *panel, v int) bool { return pn.v[0] == v || pn.v[1] == v || pn.v[2] == v }

// eliminate forms R = (P_BB − W P_HB)⁻¹ (W P_HH − P_BH) with W = G_BH G_HH⁻¹,
// computed as Wᵀ = G_HH⁻ᵀ G_BHᵀ by one LU factorization (no explicit inverse;
// collocation makes G_HH non-symmetric, so LU rather than Cholesky), and a
// second LU for the nB x nB Schur complement.
func eliminate(P, G *mat.Dense, nB, nH int) (*mat.Dense, error) {
	N := nB + nH
	var lu mat.LU
	lu.Factorize(G.Slice(nB, N, 0, nH))
	var Wt mat.Dense
	if err := lu.SolveTo(&Wt, true, G.Slice(0, nB, 0, nH).T()); err != nil {
		return nil, fmt.Errorf("forward: single-layer matrix G_HH (%dx%d): %w", nH, nH, err)
	}
	// WP = W [P_HB | P_HH]  (nB x N)
	var WP mat.Dense
	WP.Mul(Wt.T(), P.Slice(nB, N, 0, N))
	A := mat.DenseCopyOf(P.Slice(0, nB, 0, nB))
	A.Sub(A, WP.Slice(0, nB, 0, nB))
	Bm := mat.DenseCopyOf(WP.Slice(0, nB, nB, N))
	Bm.Sub(Bm, P.Slice(0, nB, nB, N))
	var luA mat.LU
	luA.Factorize(A)
	var R mat.Dense
	if err := luA.SolveTo(&R, false, Bm); err != nil {
		return nil, fmt.Errorf("forward: Schur complement P_BB − G_BH G_HH⁻¹ P_HB (%dx%d): %w", nB, nB, err)
	}
	return &R, nil
}
