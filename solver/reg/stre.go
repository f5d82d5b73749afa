package reg

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/progress"
	"github.com/eandarn/eandarn/solver/sparse"
)

// STRE is spatiotemporal regularization (Yao & Yang 2016) in the
// formulation of DESIGN §2 (the published text is not available here):
//
//	U = argmin Σ_t ‖y_t − R u_t‖² + λs² ‖L u_t‖² + λt² Σ_t Σ_{t': 0<|t'−t|≤w} ‖u_t − u_t'‖²
//
// with L the Eq. 15 mesh Laplacian and w the temporal half-window. The
// temporal double sum runs over ordered pairs, so it equals 2 tr(U M_w Uᵀ)
// with M_w the graph Laplacian of the window graph on the T frames (edge
// t–t' when 0 < |t−t'| ≤ w). Setting the gradient to zero gives the
// Sylvester equation
//
//	(RᵀR + λs² LᵀL) U + 2λt² U M_w = Rᵀ Y,
//
// solved in closed form with A = RᵀR + λs²LᵀL = Q diag(a) Qᵀ (one symmetric
// eigen-decomposition in space per λs) and M_w = P diag(μ) Pᵀ (one in time
// per w): U = Q [ (Qᵀ Rᵀ Y P)_ij / (a_i + 2λt² μ_j) ] Pᵀ. For fixed (λs, w)
// every λt costs one m x n x T product (for the GCV residual).
//
// (λs, λt, w) minimize the GCV function
//
//	G = (‖Y − RU‖_F² / (mT)) / (1 − tr H / (mT))²,  tr H = Σ_ij ‖R q_i‖² / (a_i + 2λt² μ_j),
//
// H being the influence matrix of the whole recording (mT x mT). With
// Select "guarded" (the default) the minimum is taken over the points
// whose reconstruction is at most GuardNormRatio times the Tikhonov one
// (same L, same rule), the check the Tikhonov rule applies against the
// L-curve: on measured data GCV fits modelling error with a temporal term
// as readily as without one.
type STRE struct {
	opts Options
}

// NewSTRE returns STRE with the given options (LambdaS, LambdaT, Window
// fixed when non-zero; the others chosen by GCV, guarded by default: Select
// must be empty, "guarded" or "gcv").
func NewSTRE(opts Options) (*STRE, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if o.Select != SelectGCV && o.Select != SelectGuarded {
		return nil, fmt.Errorf("reg: STRE chooses (λs, λt, w) by %q or %q, not by %q", SelectGuarded, SelectGCV, o.Select)
	}
	return &STRE{opts: o}, nil
}

// Solve reconstructs U from p.R and p.BSPM with L = mesh.Laplacian(p.Heart).
func (s *STRE) Solve(ctx context.Context, p *inverse.Problem) (*inverse.Result, error) {
	if err := checkProblem(p); err != nil {
		return nil, err
	}
	if p.Heart == nil {
		return nil, fmt.Errorf("stre: needs the heart mesh for the spatial Laplacian")
	}
	res, err := SolveSTRE(ctx, p.R, mesh.Laplacian(p.Heart), p.BSPM, s.opts)
	if err != nil {
		return nil, fmt.Errorf("stre: %w", err)
	}
	res.Config["operator"] = "mesh.Laplacian (Eq. 15)"
	return res, nil
}

// Default STRE grids, in decades relative to λ₂, the λ of Tikhonov with the
// same L by the same rule (a data-driven scale, cheap from the standard
// form; guarded, so that measured data do not centre the grids on GCV's
// failure): the
// temporal term takes over part of the smoothing, so λs reaches further
// down than up; λt spans the range where 2λt²μ_j crosses the spatial
// eigenvalues a_i that matter. The λs grid is searched exhaustively, not by
// descent: GCV is not unimodal in λs (on the small problem of
// TestSTREAutomatic it has local minima at 10⁻²λ₂, RE 0.83, and at λ₂,
// RE 0.19, the latter global). On the default dataset GCV is very flat in
// λs (relative spread 1e-5 over two decades) with its minimum near
// 10^-1.3 λ₂, inside the grid.
var (
	streSpaceDecades = [2]float64{-2, 0}
	streTimeDecades  = [2]float64{-2.5, 1.5}
)

// SolveSTRE solves the STRE problem for Y (m x T) with spatial operator l
// (n x n). Free parameters are searched exhaustively on grids around λ₂
// (see streSpaceDecades), then the best λt is refined by golden section.
// Result.Values: lambda_s, lambda_t, window, gcv, residual_norm,
// noise_estimate, lambda_tikhonov (the scale λ₂), lambda_s_gcv,
// lambda_t_gcv, window_gcv (the plain GCV minimum on the grid),
// gcv_norm_ratio (its ‖U‖ over the Tikhonov reconstruction's), gcv_rejected,
// and every value of the Tikhonov choice prefixed tikhonov_ (its λ by every
// rule, lambda_disagreement, ...). Result.Series: lambda_s_grid,
// lambda_t_grid, window_grid, and gcv and solution_norm over the grid,
// flattened in the order [λs][w][λt] (NaN where a window does not fit T).
func SolveSTRE(ctx context.Context, r *mat.Dense, l *sparse.CSR, y *mat.Dense, opts Options) (*inverse.Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m, n := r.Dims()
	my, tf := y.Dims()
	switch {
	case my != m:
		return nil, fmt.Errorf("reg: R has %d rows, Y has %d", m, my)
	case l == nil || l.Rows != n || l.Cols != n:
		return nil, fmt.Errorf("reg: STRE needs an %dx%d spatial operator", n, n)
	case tf < 2:
		return nil, fmt.Errorf("reg: STRE needs at least 2 frames, got %d", tf)
	case o.Window >= tf:
		return nil, inverse.InputError(fmt.Errorf("reg: STRE window %d needs more than %d frames", o.Window, tf))
	}

	// Scale for the λ grids, and the size reference of the guard:
	// Tikhonov-L by the same rule.
	var scale, refNorm float64
	tik := map[string]float64{}
	if o.LambdaS == 0 || o.LambdaT == 0 {
		err := await(ctx, func() error {
			f, err := newStdForm(r, l)
			if err != nil {
				return err
			}
			c, beta2, delta2 := f.project(y)
			sp := &spectrum{sigma: f.sigma, beta2: beta2, delta2: delta2, m: m, k: f.k, t: tf}
			to := o
			to.Lambda = 0
			ch, err := choose(f, sp, c, y, to)
			if err != nil {
				return err
			}
			scale, refNorm, tik = ch.lambda, mat.Norm(ch.u, 2), ch.values
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	lsGrid := []float64{o.LambdaS}
	if o.LambdaS == 0 {
		lsGrid = decadeGrid(scale, streSpaceDecades, o.LambdaSGridSize)
	}
	ltGrid := []float64{o.LambdaT}
	if o.LambdaT == 0 {
		ltGrid = decadeGrid(scale, streTimeDecades, o.LambdaTGridSize)
	}
	windows := []int{o.Window}
	if o.Window == 0 {
		windows = o.Windows
	}

	rtr := &mat.Dense{}
	var ltl *mat.SymDense
	if err := await(ctx, func() error { rtr.Mul(r.T(), r); ltl = gram(l); return nil }); err != nil {
		return nil, err
	}
	times := make([]*timeFactor, len(windows))
	for i, w := range windows {
		if w < tf {
			err := await(ctx, func() (err error) { times[i], err = newTimeFactor(y, w); return err })
			if err != nil {
				return nil, err
			}
		}
	}

	// The sweep: GCV and the solution norm ‖U‖_F = ‖Ũ‖_F (Q, P orthogonal)
	// at every grid point, flattened [λs][w][λt]; NaN where the window does
	// not fit. The guard's size limit is known before the sweep, so the
	// GCV minimum over all points and over the admissible ones are tracked
	// as it goes, each with its factors.
	size := len(lsGrid) * len(windows) * len(ltGrid)
	gcvGrid, normGrid := make([]float64, size), make([]float64, size)
	for i := range gcvGrid {
		gcvGrid[i], normGrid[i] = math.NaN(), math.NaN()
	}
	var limit float64 // 0: no guard
	if o.Select == SelectGuarded && refNorm > 0 {
		limit = GuardNormRatio * refNorm
	}
	type point struct {
		index int
		sp    *spaceFactor
		tm    *timeFactor
	}
	all, admissible := point{index: -1}, point{index: -1}
	// The n x n eigen-decompositions run serially inside gonum, while the
	// (w, λt) sweeps are parallel matrix products: a producer goroutine
	// factorizes the next λs while the current one is swept.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type factored struct {
		sp  *spaceFactor
		err error
	}
	factors := make(chan factored, 1)
	producer := kernels.Go(func() {
		defer close(factors)
		for _, ls := range lsGrid {
			sp, err := newSpaceFactor(r, rtr, ltl, ls)
			select {
			case factors <- factored{sp, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})
	rep := progress.FromContext(ctx)
	swept := func(is, iw int) { // one update per (λs, w): its λt sweep, done or skipped
		best := math.Inf(1) // the GCV of the point the search would take so far
		if admissible.index >= 0 {
			best = gcvGrid[admissible.index]
		}
		rep.Report(progress.Update{Stage: "stre search", Done: int64((is*len(windows) + iw + 1) * len(ltGrid)),
			Total: int64(len(gcvGrid)), Unit: "point", Values: []progress.Value{{Name: "best_gcv", Value: best}}})
	}
	for is := range lsGrid {
		// Waiting on ctx too: one factorization takes seconds and cannot
		// be interrupted, so a signal must not wait for it to finish.
		var f factored
		var ok bool
		select {
		case f, ok = <-factors:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if !ok { // the producer stopped on cancellation, or panicked
			if p := <-producer; p != nil {
				panic(p)
			}
			return nil, ctx.Err()
		}
		if f.err != nil {
			return nil, f.err
		}
		for iw, tm := range times {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if tm == nil {
				swept(is, iw)
				continue
			}
			base := (is*len(windows) + iw) * len(ltGrid)
			ev := newEvaluator(f.sp, tm)
			for it, lt := range ltGrid {
				k := base + it
				gcvGrid[k], _ = ev.gcv(lt)
				normGrid[k] = mat.Norm(ev.ut, 2)
				if all.index < 0 || gcvGrid[k] < gcvGrid[all.index] {
					all = point{k, f.sp, tm}
				}
				if (limit == 0 || normGrid[k] <= limit) && (admissible.index < 0 || gcvGrid[k] < gcvGrid[admissible.index]) {
					admissible = point{k, f.sp, tm}
				}
			}
			swept(is, iw)
		}
	}
	if all.index < 0 {
		return nil, inverse.InputError(fmt.Errorf("reg: STRE: no window in %v fits %d frames", windows, tf))
	}
	pick, rejected := all, false
	if limit > 0 && normGrid[all.index] > limit {
		// Large λs and λt shrink U, so an admissible point exists in practice.
		rejected = admissible.index >= 0
		if rejected {
			pick = admissible
		}
	}
	is, iw, it := pick.index/(len(windows)*len(ltGrid)), (pick.index/len(ltGrid))%len(windows), pick.index%len(ltGrid)
	ev := newEvaluator(pick.sp, pick.tm)
	lt := ltGrid[it]
	if len(ltGrid) > 1 {
		a, b := bracket(ltGrid, it)
		// 1e-3 in log λt: GCV is flat at its minimum, finer is wasted work.
		refined := goldenMin(func(x float64) float64 { g, _ := ev.gcv(x); return g }, a, b, 1e-3)
		// The refinement stays inside the guard's size limit.
		if ev.gcv(refined); !rejected || mat.Norm(ev.ut, 2) <= limit {
			lt = refined
		}
	}
	g, res2 := ev.gcv(lt)

	values := map[string]float64{
		"lambda_s":        lsGrid[is],
		"lambda_t":        lt,
		"window":          float64(windows[iw]),
		"gcv":             g,
		"residual_norm":   math.Sqrt(res2),
		"lambda_tikhonov": scale,
		"noise_estimate":  NoiseEstimate(y),
	}
	if size > 1 {
		values["lambda_s_gcv"] = lsGrid[all.index/(len(windows)*len(ltGrid))]
		values["window_gcv"] = float64(windows[(all.index/len(ltGrid))%len(windows)])
		values["lambda_t_gcv"] = ltGrid[all.index%len(ltGrid)]
	}
	if refNorm > 0 {
		values["gcv_norm_ratio"] = normGrid[all.index] / refNorm
		values["gcv_rejected"] = 0
		if rejected {
			values["gcv_rejected"] = 1
		}
	}
	for k, v := range tik {
		values["tikhonov_"+k] = v
	}
	if rejected {
		o.logger().Warn("STRE: GCV's (λs, λt, w) rejected: its reconstruction is much larger than the Tikhonov one, so GCV fitted correlated noise or modelling error; searching below the size limit",
			"norm_ratio", values["gcv_norm_ratio"], "limit", GuardNormRatio)
	}

	wf := make([]float64, len(windows))
	for i, w := range windows {
		wf[i] = float64(w)
	}
	return &inverse.Result{
		U:      ev.solution(lt),
		Values: values,
		Series: map[string][]float64{
			"lambda_s_grid": lsGrid,
			"lambda_t_grid": ltGrid,
			"window_grid":   wf,
			"gcv":           gcvGrid,
			"solution_norm": normGrid,
		},
		Config: map[string]any{
			"method":             "stre",
			"lambda_s_fixed":     o.LambdaS,
			"lambda_t_fixed":     o.LambdaT,
			"window_fixed":       o.Window,
			"windows":            slices.Clone(windows),
			"lambda_s_grid_size": o.LambdaSGridSize,
			"lambda_t_grid_size": o.LambdaTGridSize,
			"lambda_s_decades":   slices.Clone(streSpaceDecades[:]),
			"lambda_t_decades":   slices.Clone(streTimeDecades[:]),
			"select":             o.Select,
			"guard_norm_ratio":   GuardNormRatio,
		},
	}, nil
}

// await runs f in a goroutine and waits for it or for the end of ctx: a
// factorization takes seconds and cannot be interrupted, and a cancelled
// solve (SIGTERM) must not wait for it. When ctx ends first, f finishes in
// the background and its results are never read.
func await(ctx context.Context, f func() error) error {
	var err error
	done := kernels.Go(func() { err = f() })
	select {
	case p := <-done:
		if p != nil {
			panic(p) // in the caller's goroutine, where it can be recovered
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// decadeGrid returns size values log-spaced over scale·10^d[0] … scale·10^d[1].
func decadeGrid(scale float64, d [2]float64, size int) []float64 {
	if size == 1 {
		return []float64{scale}
	}
	return logGrid(scale*math.Pow(10, d[0]), scale*math.Pow(10, d[1]), size)
}

// spaceFactor is A = RᵀR + λs²LᵀL = Q diag(a) Qᵀ with Ω = RQ and the
// squared column norms ‖R q_i‖² that enter tr H.
type spaceFactor struct {
	q, omega *mat.Dense
	a, rq2   []float64
}

func newSpaceFactor(r, rtr *mat.Dense, ltl *mat.SymDense, ls float64) (*spaceFactor, error) {
	_, n := r.Dims()
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, rtr.At(i, j)+ls*ls*ltl.At(i, j))
		}
	}
	var eig mat.EigenSym
	if ok := eig.Factorize(a, true); !ok {
		return nil, fmt.Errorf("reg: STRE: eigen-decomposition of RᵀR + λs²LᵀL (λs %g) did not converge", ls)
	}
	sp := &spaceFactor{q: &mat.Dense{}, omega: &mat.Dense{}, a: eig.Values(nil)}
	eig.VectorsTo(sp.q)
	sp.omega.Mul(r, sp.q)
	sp.rq2 = make([]float64, n)
	for i := range sp.rq2 {
		c := mat.Col(nil, i, sp.omega)
		sp.rq2[i] = mat.Dot(mat.NewVecDense(len(c), c), mat.NewVecDense(len(c), c))
	}
	return sp, nil
}

// timeFactor is M_w = P diag(μ) Pᵀ, the window graph Laplacian, with Y P.
type timeFactor struct {
	p, yp *mat.Dense
	mu    []float64
}

// windowLaplacian returns the graph Laplacian of the T frames joined when
// 0 < |t−t'| ≤ w: degree on the diagonal, −1 per edge.
func windowLaplacian(tf, w int) *mat.SymDense {
	m := mat.NewSymDense(tf, nil)
	for t := 0; t < tf; t++ {
		for s := t + 1; s <= min(t+w, tf-1); s++ {
			m.SetSym(t, s, -1)
			m.SetSym(t, t, m.At(t, t)+1)
			m.SetSym(s, s, m.At(s, s)+1)
		}
	}
	return m
}

func newTimeFactor(y *mat.Dense, w int) (*timeFactor, error) {
	_, tf := y.Dims()
	var eig mat.EigenSym
	if ok := eig.Factorize(windowLaplacian(tf, w), true); !ok {
		return nil, fmt.Errorf("reg: STRE: eigen-decomposition of the window-%d Laplacian did not converge", w)
	}
	tm := &timeFactor{p: &mat.Dense{}, yp: &mat.Dense{}, mu: eig.Values(nil)}
	eig.VectorsTo(tm.p)
	for j, v := range tm.mu { // M_w is PSD: clip rounding below zero
		tm.mu[j] = math.Max(v, 0)
	}
	tm.yp.Mul(y, tm.p)
	return tm, nil
}

// evaluator evaluates STRE for one (λs, w) and any λt, reusing buffers.
type evaluator struct {
	sp   *spaceFactor
	tm   *timeFactor
	shat *mat.Dense // Qᵀ Rᵀ Y P, n x T
	ut   *mat.Dense // Ũ buffer
	fit  *mat.Dense // Ω Ũ buffer
}

func newEvaluator(sp *spaceFactor, tm *timeFactor) *evaluator {
	shat := &mat.Dense{}
	shat.Mul(sp.omega.T(), tm.yp)
	n, tf := shat.Dims()
	m, _ := sp.omega.Dims()
	return &evaluator{sp: sp, tm: tm, shat: shat, ut: mat.NewDense(n, tf, nil), fit: mat.NewDense(m, tf, nil)}
}

// coefficients fills ut with Ũ_ij = Ŝ_ij / (a_i + 2λt² μ_j) and returns tr H.
func (e *evaluator) coefficients(lt float64) float64 {
	c := 2 * lt * lt
	var tr float64
	for i, ai := range e.sp.a {
		src, dst := e.shat.RawRowView(i), e.ut.RawRowView(i)
		var inv float64
		for j, mu := range e.tm.mu {
			d := 1 / (ai + c*mu)
			dst[j] = src[j] * d
			inv += d
		}
		tr += e.sp.rq2[i] * inv
	}
	return tr
}

// gcv returns G(λt) and the squared residual ‖Y − RU‖_F² (= ‖YP − ΩŨ‖_F²,
// P orthogonal).
func (e *evaluator) gcv(lt float64) (float64, float64) {
	tr := e.coefficients(lt)
	e.fit.Mul(e.sp.omega, e.ut)
	e.fit.Sub(e.tm.yp, e.fit)
	res2 := math.Pow(mat.Norm(e.fit, 2), 2)
	m, tf := e.fit.Dims()
	mt := float64(m * tf)
	return res2 / mt / math.Pow(1-tr/mt, 2), res2
}

// solution returns U = Q Ũ Pᵀ for λt.
func (e *evaluator) solution(lt float64) *mat.Dense {
	e.coefficients(lt)
	u := &mat.Dense{}
	u.Product(e.sp.q, e.ut, e.tm.p.T())
	return u
}
