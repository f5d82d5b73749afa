package reg

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/sparse"
)

// Tikhonov is Tikhonov regularization (paper Eq. 10) of order 0, 1 or 2:
//
//	U_λ = argmin Σ_t ‖y_t − R u_t‖² + λ² ‖Γ u_t‖²
//
// with one λ for the whole recording and Γ = I (order 0), the surface
// gradient mesh.Gradient (order 1, ‖Γu‖² = ∫|∇u|² dA) or the Eq. 15 mesh
// Laplacian mesh.Laplacian (order 2, the paper's Tikh_2nd).
type Tikhonov struct {
	order int
	opts  Options
}

// NewTikhonov returns Tikhonov regularization of the given order (0, 1, 2).
func NewTikhonov(order int, opts Options) (*Tikhonov, error) {
	if order < 0 || order > 2 {
		return nil, fmt.Errorf("reg: Tikhonov order %d (want 0, 1 or 2)", order)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Tikhonov{order: order, opts: o}, nil
}

// Operator returns the Tikhonov operator Γ of the given order on the heart
// mesh: nil for order 0 (Γ = I), mesh.Gradient (3F x n) for order 1,
// mesh.Laplacian (Eq. 15, n x n) for order 2.
func Operator(order int, heart *mesh.Mesh) (*sparse.CSR, error) {
	switch order {
	case 0:
		return nil, nil
	case 1, 2:
		if heart == nil || len(heart.Nodes) == 0 {
			return nil, fmt.Errorf("reg: Tikhonov order %d needs the heart mesh", order)
		}
		if order == 1 {
			return mesh.Gradient(heart), nil
		}
		return mesh.Laplacian(heart), nil
	}
	return nil, fmt.Errorf("reg: Tikhonov order %d (want 0, 1 or 2)", order)
}

// Solve reconstructs U from p.R and p.BSPM.
func (t *Tikhonov) Solve(ctx context.Context, p *inverse.Problem) (*inverse.Result, error) {
	if err := checkProblem(p); err != nil {
		return nil, err
	}
	gamma, err := Operator(t.order, p.Heart)
	if err != nil {
		return nil, err
	}
	o := t.opts
	o.ExactData = o.ExactData || p.Exact
	res, err := SolveTikhonov(ctx, p.R, gamma, p.BSPM, o)
	if err != nil {
		return nil, fmt.Errorf("tikhonov%d: %w", t.order, err)
	}
	res.Values["order"] = float64(t.order)
	res.Config["method"] = fmt.Sprintf("tikhonov%d", t.order)
	res.Config["order"] = t.order
	res.Config["operator"] = [...]string{"identity", "mesh.Gradient", "mesh.Laplacian (Eq. 15)"}[t.order]
	return res, nil
}

// checkProblem validates the shapes Solve relies on.
func checkProblem(p *inverse.Problem) error {
	if p == nil || p.R == nil || p.BSPM == nil {
		return fmt.Errorf("reg: problem needs R and BSPM")
	}
	m, n := p.R.Dims()
	my, tf := p.BSPM.Dims()
	if my != m {
		return fmt.Errorf("reg: R is %dx%d but BSPM has %d rows (want %d leads)", m, n, my, m)
	}
	if p.Heart != nil && len(p.Heart.Nodes) != n {
		return fmt.Errorf("reg: R has %d columns but the heart mesh has %d nodes", n, len(p.Heart.Nodes))
	}
	if tf < 1 {
		return fmt.Errorf("reg: BSPM has no frames")
	}
	return nil
}

// SolveTikhonov solves min Σ_t ‖y_t − R u_t‖² + λ²‖Γ u_t‖² for Y (m x T)
// with one λ, Γ = gamma (nil: identity). It factorizes (R, Γ) once
// (stdForm), sweeps opts.GridSize λ values log-spaced over the generalized
// singular values, evaluates every λ rule and picks λ by opts.Select
// unless opts.Lambda fixes it (see choose for the values and series
// reported; Series also has singular_values).
func SolveTikhonov(ctx context.Context, r *mat.Dense, gamma *sparse.CSR, y *mat.Dense, opts Options) (*inverse.Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m, _ := r.Dims()
	my, tf := y.Dims()
	if my != m {
		return nil, fmt.Errorf("reg: R has %d rows, Y has %d", m, my)
	}
	// The factorization takes seconds on a large heart and cannot be
	// interrupted: a signal does not wait for it (await).
	var f *stdForm
	if err := await(ctx, func() (err error) { f, err = newStdForm(r, gamma); return err }); err != nil {
		return nil, err
	}
	c, beta2, delta2 := f.project(y)
	s := &spectrum{sigma: f.sigma, beta2: beta2, delta2: delta2, m: m, k: f.k, t: tf}
	ch, err := choose(f, s, c, y, o)
	if err != nil {
		return nil, err
	}
	ch.series["singular_values"] = append([]float64(nil), f.sigma...)
	ch.values["constants_unseen"] = indicator(f.unseen)
	if f.unseen {
		o.logger().Warn(unseenWarning)
	}
	return &inverse.Result{
		U:      ch.u,
		Values: ch.values,
		Series: ch.series,
		Config: map[string]any{
			"select":              o.Select,
			"lambda_fixed":        o.Lambda,
			"sigma":               o.Sigma,
			"grid_size":           o.GridSize,
			"corner_fraction":     o.CornerFraction,
			"null_space_dim":      f.k,
			"guard_norm_ratio":    GuardNormRatio,
			"disagreement_factor": DisagreementFactor,
			"rgcv_gamma":          rgcvGamma,
		},
	}, nil
}

// pickCorner applies the "lcurve" rule: the smallest-λ corner whose
// curvature is at least frac times the largest corner curvature.
func pickCorner(cs []corner, frac float64) float64 {
	var kmax float64
	for _, c := range cs {
		kmax = math.Max(kmax, c.curvature)
	}
	pick := cs[0].lambda
	for _, c := range cs { // descending λ: the last qualifying one is the smallest
		if c.curvature >= frac*kmax {
			pick = c.lambda
		}
	}
	return pick
}
