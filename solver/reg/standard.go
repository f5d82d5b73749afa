package reg

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/sparse"
)

// stdForm is the factorization of the pair (R, Γ) that makes every Tikhonov
// solution u_λ = argmin ‖y − R u‖² + λ²‖Γ u‖² a diagonal filter, for every
// λ > 0 at once (Eldén's standard form followed by one thin SVD; equivalent
// to the GSVD of (R, Γ) restricted to the data space).
//
// Construction, with N the unit constant vector when Γ·1 = 0 (k = 1, the
// surface gradient and the Eq. 15 Laplacian) and R sees constants, and
// empty otherwise (k = 0; when R does not see them either, see
// constantResponse, the penalty is ΓᵀΓ + c NNᵀ itself, B̂ below):
//
//  1. Split u = N a + w with Nᵀw = 0. For fixed w the unpenalized a fits the
//     data exactly along q₁ = RN/‖RN‖, a = q₁ᵀ(y − R w)/‖RN‖, and what is
//     left for w is min ‖Q₂ᵀ(y − R w)‖² + λ²‖Γ w‖², Q₂ the orthonormal
//     complement of q₁ in R^m (m − k columns).
//  2. With B̂ = ΓᵀΓ + c NNᵀ (c > 0 arbitrary, here tr(ΓᵀΓ)/n) the normal
//     equations (ĀᵀĀ + λ²B̂) w = Āᵀȳ, Ā = Q₂ᵀR, ȳ = Q₂ᵀy, have a unique
//     solution and it satisfies Nᵀw = 0 by itself (apply Nᵀ: ĀN = 0 and
//     NᵀΓᵀΓ = 0 leave λ² c Nᵀw = 0), so B̂ may replace ΓᵀΓ exactly.
//  3. Cholesky B̂ = LLᵀ and the thin SVD Ā L⁻ᵀ = V diag(σ) Wᵀ give
//     w_λ = X diag(σ_i/(σ_i²+λ²)) Vᵀȳ with X = L⁻ᵀW.
//
// Every step is an identity, so the formula is exact for each λ > 0; only
// the factorization (one Cholesky of n x n, one SVD of (m−k) x n) is paid
// once. The σ_i are the generalized singular values of (Q₂ᵀR, Γ) and enter
// unsquared, so the sweep is no worse conditioned than the problem itself.
type stdForm struct {
	r *mat.Dense // m x n, the transfer matrix
	k int        // dimension of Γ's null space handled (0 or 1)
	// unseen: Γ and R both annihilate constants (constantResponse), so the
	// penalty takes them.
	unseen bool
	q1     []float64  // unit vector RN/‖RN‖ (k = 1)
	rn     float64    // ‖RN‖ (k = 1)
	q2t    *mat.Dense // (m−k) x m, Q₂ᵀ; nil when k = 0 (Q₂ = I)
	sigma  []float64  // generalized singular values, descending
	vt     *mat.Dense // r x (m−k), Vᵀ
	x      *mat.Dense // n x r, L⁻ᵀW
}

// nullTol is the relative size below which Γ·1 counts as zero: the mesh
// operators have rows that sum to zero up to rounding.
const nullTol = 1e-10

// newStdForm factorizes (R, Γ); gamma nil means Γ = I (Tikhonov order 0).
func newStdForm(r *mat.Dense, gamma *sparse.CSR) (*stdForm, error) {
	m, n := r.Dims()
	f := &stdForm{r: r}
	var lower *mat.TriDense
	var rn *mat.VecDense // R N (k = 1)
	if gamma != nil {
		if gamma.Cols != n {
			return nil, fmt.Errorf("reg: regularization operator has %d columns, R has %d", gamma.Cols, n)
		}
		b := gram(gamma)
		if annihilatesConstants(gamma) {
			if err := addConstantPenalty(b); err != nil {
				return nil, err
			}
			if rn, f.unseen = constantResponse(r); !f.unseen {
				f.k = 1
			}
		}
		var chol mat.Cholesky
		if ok := chol.Factorize(b); !ok {
			return nil, inverse.InputError(fmt.Errorf("reg: ΓᵀΓ (+ constants) is not positive definite: the %dx%d operator has a null space other than the constants (disconnected mesh?)", gamma.Rows, gamma.Cols))
		}
		lower = mat.NewTriDense(n, mat.Lower, nil)
		chol.LTo(lower)
	}
	if m <= f.k {
		// The leads would all go to the constant part of u (fitted exactly
		// along R·1), leaving no data for the rest.
		return nil, inverse.InputError(fmt.Errorf("reg: %d lead: an operator that leaves constants free needs at least %d leads", m, f.k+1))
	}
	abar := mat.DenseCopyOf(r)
	if f.k == 1 {
		f.rn = rn.Norm(2)
		var qr mat.QR
		qr.Factorize(rn)
		var q mat.Dense
		qr.QTo(&q)
		f.q1 = mat.Col(nil, 0, &q)
		if rn.AtVec(0)*f.q1[0] < 0 { // keep q₁ = +RN/‖RN‖
			for i := range f.q1 {
				f.q1[i] = -f.q1[i]
			}
		}
		f.q2t = mat.DenseCopyOf(q.Slice(0, m, 1, m).T())
		abar = mat.NewDense(m-1, n, nil)
		abar.Mul(f.q2t, r)
	}
	// Ā numerically zero (R sees nothing of u beyond the constants: a
	// single nonzero column, say) would leave every λ rule dividing zero
	// by zero. Frobenius norms (gonum's Norm 2 of a matrix).
	if a, rn := mat.Norm(abar, 2), mat.Norm(r, 2); a <= float64(max(m, n))*0x1p-52*rn {
		return nil, inverse.InputError(fmt.Errorf("reg: R sees nothing of u beyond its constant part (norm %.3g of the rest, %.3g of R)", a, rn))
	}
	// Mᵀ = L⁻¹Āᵀ, n x (m−k); the SVD is taken of the tall matrix.
	mt := mat.DenseCopyOf(abar.T())
	if lower != nil {
		if err := lower.SolveTo(mt, false, abar.T()); err != nil {
			return nil, fmt.Errorf("reg: standard form L⁻¹Āᵀ: %w", err)
		}
	}
	var svd mat.SVD
	if ok := svd.Factorize(mt, mat.SVDThin); !ok {
		return nil, fmt.Errorf("reg: SVD of the %dx%d standard-form matrix did not converge", n, m-f.k)
	}
	f.sigma = svd.Values(nil)
	var w, v mat.Dense
	svd.UTo(&w) // Mᵀ = W Σ Vᵀ
	svd.VTo(&v)
	f.vt = mat.DenseCopyOf(v.T())
	f.x = &w
	if lower != nil {
		f.x = mat.NewDense(n, len(f.sigma), nil)
		if err := lower.SolveTo(f.x, true, &w); err != nil {
			return nil, fmt.Errorf("reg: back-transform L⁻ᵀW: %w", err)
		}
	}
	return f, nil
}

// gram returns ΓᵀΓ as a dense symmetric matrix, accumulated row by row so
// that the cost is Σ_rows nnz² rather than a dense product.
func gram(g *sparse.CSR) *mat.SymDense {
	b := mat.NewSymDense(g.Cols, nil)
	raw := b.RawSymmetric()
	for i := 0; i < g.Rows; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		for p := lo; p < hi; p++ {
			cp, vp := g.ColIdx[p], g.Val[p]
			for q := lo; q < hi; q++ {
				cq := g.ColIdx[q]
				if cq >= cp { // upper triangle only
					raw.Data[cp*raw.Stride+cq] += vp * g.Val[q]
				}
			}
		}
	}
	return b
}

// addConstantPenalty adds c NNᵀ to the Gram matrix b = ΓᵀΓ of an operator
// that annihilates constants, N = 1/√n, c = tr(ΓᵀΓ)/n (the mean of its
// eigenvalues), making it positive definite on a connected mesh.
func addConstantPenalty(b *mat.SymDense) error {
	n := b.SymmetricDim()
	c := mat.Trace(b) / float64(n)
	if c == 0 {
		return fmt.Errorf("reg: regularization operator is zero")
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			b.SetSym(i, j, b.At(i, j)+c/float64(n))
		}
	}
	return nil
}

// unseenTol is the fraction of ‖R‖_F below which ‖R N‖ (N = 1/√n) counts as
// zero: R then does not see a constant heart potential. Transfer matrices
// with a reference (rows summing to zero) have ‖R N‖ at their rounding and
// discretization error (ECGSim's transmembrane matrix, referenced to
// Wilson's central terminal: 7e-8 of ‖R‖_F); those without one (R·1 = 1:
// the default BEM's, FwdInv's, the Utah sock's) 0.58–0.95. Between, a
// constant fitted exactly would carry the noise amplified 10⁴ times or
// more.
const unseenTol = 1e-4

// constantResponse returns R N, N = 1/√n, and whether R does not see
// constants: ‖R N‖ ≤ unseenTol ‖R‖_F. With an operator Γ that annihilates
// constants too (Tikhonov 1 and 2, STRE's L), nothing then determines the
// constant part of u: unpenalized it was the noise along R·1 divided by
// ‖R N‖ (on ECGSim's matrix, RE 1e4), so the penalty takes it (c NNᵀ,
// addConstantPenalty) and the reconstruction has mean ≈ 0 over the nodes
// in every frame.
func constantResponse(r *mat.Dense) (rn *mat.VecDense, unseen bool) {
	m, n := r.Dims()
	rn = mat.NewVecDense(m, nil)
	for i := range m {
		rn.SetVec(i, floats.Sum(r.RawRowView(i))/math.Sqrt(float64(n)))
	}
	return rn, rn.Norm(2) <= unseenTol*mat.Norm(r, 2)
}

// unseenWarning is the log line when constantResponse finds constants unseen.
const unseenWarning = "R does not see a constant heart potential (its rows sum to about 0: a transfer matrix with a reference, such as Wilson's central terminal, or from transmembrane potentials) and the regularization operator leaves constants free: the data do not determine u's constant part, so it is penalized (the reconstruction's mean over the nodes is near 0 in every frame; compare shapes, not offsets)"

// indicator is 1 for true and 0 for false, as values/ record flags.
func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// annihilatesConstants reports whether Γ·1 = 0 up to rounding.
func annihilatesConstants(g *sparse.CSR) bool {
	var scale, worst float64
	for i := 0; i < g.Rows; i++ {
		var s, a float64
		for p := g.RowPtr[i]; p < g.RowPtr[i+1]; p++ {
			s += g.Val[p]
			a += math.Abs(g.Val[p])
		}
		scale = math.Max(scale, a)
		worst = math.Max(worst, math.Abs(s))
	}
	return scale > 0 && worst <= nullTol*scale
}

// project returns the spectral coefficients C = Vᵀ Q₂ᵀ Y (r x T), their
// squared row norms β_i² = Σ_t C_it², and δ² = ‖Q₂ᵀY‖² − Σβ², the part of
// the data no λ can fit (zero when m − k ≤ n).
func (f *stdForm) project(y *mat.Dense) (c *mat.Dense, beta2 []float64, delta2 float64) {
	ybar := y
	if f.q2t != nil {
		ybar = &mat.Dense{}
		ybar.Mul(f.q2t, y)
	}
	c = &mat.Dense{}
	c.Mul(f.vt, ybar)
	rows, _ := c.Dims()
	beta2 = make([]float64, rows)
	var sum float64
	for i := range beta2 {
		row := c.RawRowView(i)
		beta2[i] = floats.Dot(row, row)
		sum += beta2[i]
	}
	delta2 = math.Max(mat.Norm(ybar, 2)*mat.Norm(ybar, 2)-sum, 0)
	return c, beta2, delta2
}

// solution returns U_λ (n x T) for the coefficients c = Vᵀ Q₂ᵀ Y of Y.
func (f *stdForm) solution(lambda float64, c, y *mat.Dense) *mat.Dense {
	rows, cols := c.Dims()
	fc := mat.NewDense(rows, cols, nil)
	for i := 0; i < rows; i++ {
		s := f.sigma[i]
		phi := s / (s*s + lambda*lambda)
		src, dst := c.RawRowView(i), fc.RawRowView(i)
		for j := range dst {
			dst[j] = phi * src[j]
		}
	}
	u := &mat.Dense{}
	u.Mul(f.x, fc)
	if f.k == 1 {
		// a = q₁ᵀ(Y − R W)/‖RN‖, added along N = 1/√n.
		var rw mat.Dense
		rw.Mul(f.r, u)
		n, _ := u.Dims()
		scale := 1 / (f.rn * math.Sqrt(float64(n)))
		for t := 0; t < cols; t++ {
			var a float64
			for i, q := range f.q1 {
				a += q * (y.At(i, t) - rw.At(i, t))
			}
			a *= scale
			for i := 0; i < n; i++ {
				u.Set(i, t, u.At(i, t)+a)
			}
		}
	}
	return u
}
