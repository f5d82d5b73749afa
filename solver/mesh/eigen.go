package mesh

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// MaxEigenNodes bounds Eigenfunctions: the dense decomposition takes n² ·
// 8 bytes three times over and O(n³) time (2.5 s at 1094 nodes,
// BenchmarkEigenfunctionsHeart; about 2 minutes at 4096), so a finer mesh
// is refused instead of running for hours.
const MaxEigenNodes = 4096

// Eigenfunctions returns the first k non-constant eigenfunctions of the
// Laplace–Beltrami operator of the closed, connected mesh m and their
// eigenvalues: the solutions of the generalized symmetric eigenproblem
//
//	S φ = λ M φ
//
// with S the cotangent stiffness (CotanStiffness) and M the lumped mass
// (LumpedMass), i.e. −Δφ = λφ for the operator LaplaceBeltrami, with the k
// smallest λ above the constant's λ₀ = 0, in ascending order. It is solved
// densely as the standard problem M^{−1/2} S M^{−1/2} ψ = λ ψ, φ = M^{−1/2} ψ,
// so the φ are M-orthonormal (φ_aᵀ M φ_b = δ_ab: units 1/mm for mm nodes)
// and λ has units 1/mm². phi[c][i] is eigenfunction c at node i.
//
// The sign of an eigenvector is arbitrary; here the first node (lowest
// index) where |φ| reaches half its maximum is made positive, so the same
// mesh gives the same functions on every run (half the maximum is far from
// rounding, unlike the largest entry itself, which a symmetric mesh may
// reach at two nodes of opposite sign). Within a multiple eigenvalue (a
// surface of revolution has pairs) the basis is the one the decomposition
// returns, deterministic for a given mesh and build.
func Eigenfunctions(m *Mesh, k int) (phi [][]float64, lambda []float64, err error) {
	n := len(m.Nodes)
	switch {
	case k < 0 || k >= n:
		return nil, nil, fmt.Errorf("mesh: %d Laplace–Beltrami eigenfunctions of a %d-node mesh: want 0 ≤ k < %d", k, n, n)
	case n > MaxEigenNodes:
		return nil, nil, fmt.Errorf("mesh: Laplace–Beltrami eigenfunctions of a %d-node mesh: the dense decomposition takes at most %d nodes", n, MaxEigenNodes)
	case k == 0:
		return nil, nil, nil
	}
	s := CotanStiffness(m)
	mass := LumpedMass(m)
	for i, a := range mass {
		if !(a > 0) {
			return nil, nil, fmt.Errorf("mesh: node %d has lumped mass %g: want every node in a triangle of positive area", i, a)
		}
	}
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for p := s.RowPtr[i]; p < s.RowPtr[i+1]; p++ {
			if j := s.ColIdx[p]; j >= i {
				a.SetSym(i, j, s.Val[p]/math.Sqrt(mass[i]*mass[j]))
			}
		}
	}
	var es mat.EigenSym
	if !es.Factorize(a, true) {
		return nil, nil, fmt.Errorf("mesh: Laplace–Beltrami eigen-decomposition of a %d-node mesh did not converge", n)
	}
	vals := es.Values(nil) // ascending; the first is the constant's 0
	var vec mat.Dense
	es.VectorsTo(&vec)
	phi = make([][]float64, k)
	lambda = make([]float64, k)
	for c := range phi {
		f := make([]float64, n)
		var big float64
		for i := range f {
			f[i] = vec.At(i, c+1) / math.Sqrt(mass[i])
			big = math.Max(big, math.Abs(f[i]))
		}
		for _, v := range f {
			if math.Abs(v) >= big/2 {
				if v < 0 {
					for i := range f {
						f[i] = -f[i]
					}
				}
				break
			}
		}
		phi[c], lambda[c] = f, vals[c+1]
	}
	return phi, lambda, nil
}
