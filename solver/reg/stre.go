package reg

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/floats"
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
// every λt costs one m x n x T product (for the residual) and O(nT)
// logarithms (for GML's determinant).
//
// (λs, λt, w) minimize, by default, the generalized maximum-likelihood
// (GML) function of the Gaussian model the penalty defines (evaluator.gml;
// Wahba 1985):
//
//	M = mT log(yᵀ(I − H)y / (mT)) − log det⁺(I − H),
//
// and with Select "gcv" the GCV function
//
//	G = (‖Y − RU‖_F² / (mT)) / (1 − tr H / (mT))²,  tr H = Σ_ij ‖R q_i‖² / (a_i + 2λt² μ_j),
//
// H being the influence matrix of the whole recording (mT x mT). Both are
// computed at every grid point and recorded. GML is the default because
// GCV is flat in λs far below its statistical resolution and takes λt
// about 3 times the RE-optimal one (README "Which λ rule, and why"):
// on three pacing sites of the Utah heart it drifted to the λs grid's end,
// where STRE is worse than Tikhonov-2, while GML's λs stays put. With
// Select "guarded" (the default) the minimum is taken over the points
// whose reconstruction is at most GuardNormRatio times the Tikhonov one
// (same L, same rule), the check the Tikhonov rule applies against the
// L-curve: on measured data a criterion fits modelling error with a
// temporal term as readily as without one.
type STRE struct {
	opts Options
}

// NewSTRE returns STRE with the given options (LambdaS, LambdaT, Window
// fixed when non-zero; the others chosen by guarded GML by default, or by
// plain GCV: Select must be empty, "guarded" or "gcv").
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
	o := s.opts
	o.ExactData = o.ExactData || p.Exact
	res, err := SolveSTRE(ctx, p.R, mesh.Laplacian(p.Heart), p.BSPM, o)
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
// descent: the criteria need not be unimodal in λs (GCV is not (on the small problem of
// TestSTREAutomatic it has local minima at 10⁻²λ₂, RE 0.83, and at λ₂,
// RE 0.19, the latter global). On the default dataset GCV is very flat in
// λs (relative spread 1e-5 over two decades) with its minimum near
// 10^-1.3 λ₂, inside the grid; GML's minimum lies near 10^-1.25 λ₂ on every
// case of the study (README).
var (
	streSpaceDecades = [2]float64{-2, 0}
	streTimeDecades  = [2]float64{-2.5, 1.5}
)

// SolveSTRE solves the STRE problem for Y (m x T) with spatial operator l
// (n x n). Free parameters are searched exhaustively on grids around λ₂
// (see streSpaceDecades), then the best λt is refined by golden section.
// Result.Values: lambda_s, lambda_t, window, gcv and gml (at the pick),
// residual_norm, noise_estimate, lambda_tikhonov (the scale λ₂),
// lambda_s_gcv, lambda_t_gcv, window_gcv and lambda_s_gml, lambda_t_gml,
// window_gml (each criterion's plain minimum on the grid), gcv_norm_ratio
// and gml_norm_ratio (their ‖U‖ over the Tikhonov reconstruction's),
// rejected (1 when the guard replaced the rule's minimum), and every value
// of the Tikhonov choice prefixed tikhonov_ (its λ by every rule,
// lambda_disagreement, ...). Result.Series: lambda_s_grid, lambda_t_grid,
// window_grid, and gcv, gml and solution_norm over the grid,
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
			if o.ExactData {
				// On exact data Tikhonov's GCV λ sits at 1e-12 σ_max, and
				// grids centred there lose all precision (STRE's closed
				// form does below λs ≈ 1e-6), so the scale stays the
				// guarded rule's; its warnings about GCV's rejection
				// would mislead here.
				to.ExactData = false
				to.Logger = slog.New(slog.DiscardHandler)
				o.logger().Info("exact data (R times a heart potential, no noise added): STRE's grids keep the guarded Tikhonov λ as their scale; Tikhonov keeps GCV's λ on such data")
			}
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
	var ell []float64
	_, unseen := constantResponse(r)
	unseen = unseen && annihilatesConstants(l)
	if err := await(ctx, func() (err error) {
		rtr.Mul(r.T(), r)
		ltl = gram(l)
		if unseen {
			// A constant in space, seen by neither R nor L, would be
			// free in every frame where M_w leaves it so (the mean over
			// time): the penalty takes it, as Tikhonov's does.
			if err := addConstantPenalty(ltl); err != nil {
				return err
			}
		}
		ell, err = nullClipped(ltl)
		return err
	}); err != nil {
		return nil, err
	}
	if unseen {
		o.logger().Warn(unseenWarning)
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

	// The sweep: GCV, GML and the solution norm ‖U‖_F = ‖Ũ‖_F (Q, P
	// orthogonal) at every grid point, flattened [λs][w][λt]; NaN where the
	// window does not fit. The guard's size limit is known before the
	// sweep, so the minima of each criterion over all points and the rule's
	// over the admissible ones are tracked as it goes, each with its
	// factors.
	size := len(lsGrid) * len(windows) * len(ltGrid)
	gcvGrid, gmlGrid, normGrid := make([]float64, size), make([]float64, size), make([]float64, size)
	for i := range gcvGrid {
		gcvGrid[i], gmlGrid[i], normGrid[i] = math.NaN(), math.NaN(), math.NaN()
	}
	var limit float64 // 0: no guard
	if o.Select == SelectGuarded && refNorm > 0 {
		limit = GuardNormRatio * refNorm
	}
	// The rule's criterion: GML for "guarded", GCV for "gcv".
	crit, critName := gmlGrid, "GML"
	if o.Select == SelectGCV {
		crit, critName = gcvGrid, "GCV"
	}
	type point struct {
		index int
		sp    *spaceFactor
		tm    *timeFactor
	}
	allGCV, allGML, admissible := point{index: -1}, point{index: -1}, point{index: -1}
	lower := func(grid []float64, k int, p point) bool { return p.index < 0 || grid[k] < grid[p.index] }
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
		best := math.Inf(1) // the criterion of the point the search would take so far
		if admissible.index >= 0 {
			best = crit[admissible.index]
		}
		rep.Report(progress.Update{Stage: "stre search", Done: int64((is*len(windows) + iw + 1) * len(ltGrid)),
			Total: int64(len(gcvGrid)), Unit: "point", Values: []progress.Value{{Name: "best_" + strings.ToLower(critName), Value: best}}})
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
			ev := newEvaluator(f.sp, tm, ell)
			for it, lt := range ltGrid {
				k := base + it
				gcvGrid[k], gmlGrid[k], _ = ev.criteria(lt)
				normGrid[k] = mat.Norm(ev.ut, 2)
				here := point{k, f.sp, tm}
				if lower(gcvGrid, k, allGCV) {
					allGCV = here
				}
				if lower(gmlGrid, k, allGML) {
					allGML = here
				}
				if (limit == 0 || normGrid[k] <= limit) && lower(crit, k, admissible) {
					admissible = here
				}
			}
			swept(is, iw)
		}
	}
	if allGCV.index < 0 {
		return nil, inverse.InputError(fmt.Errorf("reg: STRE: no window in %v fits %d frames", windows, tf))
	}
	all := allGML
	if o.Select == SelectGCV {
		all = allGCV
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
	ev := newEvaluator(pick.sp, pick.tm, ell)
	criterion := func(x float64) float64 {
		g, ml, _ := ev.criteria(x)
		if o.Select == SelectGCV {
			return g
		}
		return ml
	}
	lt := ltGrid[it]
	if len(ltGrid) > 1 {
		a, b := bracket(ltGrid, it)
		// 1e-3 in log λt: both criteria are flat at their minimum, finer is
		// wasted work.
		refined := goldenMin(criterion, a, b, 1e-3)
		// The refinement stays inside the guard's size limit.
		if criterion(refined); !rejected || mat.Norm(ev.ut, 2) <= limit {
			lt = refined
		}
	}
	g, ml, res2 := ev.criteria(lt)

	at := func(p point) (ls, w, lt float64) {
		return lsGrid[p.index/(len(windows)*len(ltGrid))], float64(windows[(p.index/len(ltGrid))%len(windows)]), ltGrid[p.index%len(ltGrid)]
	}
	values := map[string]float64{
		"lambda_s":        lsGrid[is],
		"lambda_t":        lt,
		"window":          float64(windows[iw]),
		"gcv":             g,
		"gml":             ml,
		"residual_norm":   math.Sqrt(res2),
		"lambda_tikhonov": scale,
		"noise_estimate":  NoiseEstimate(y),
	}
	values["constants_unseen"] = indicator(unseen)
	if size > 1 {
		values["lambda_s_gcv"], values["window_gcv"], values["lambda_t_gcv"] = at(allGCV)
		values["lambda_s_gml"], values["window_gml"], values["lambda_t_gml"] = at(allGML)
	}
	if refNorm > 0 {
		values["gcv_norm_ratio"] = normGrid[allGCV.index] / refNorm
		values["gml_norm_ratio"] = normGrid[allGML.index] / refNorm
		values["rejected"] = indicator(rejected)
	}
	for k, v := range tik {
		values["tikhonov_"+k] = v
	}
	if rejected {
		o.logger().Warn("STRE: the "+critName+" minimum's (λs, λt, w) rejected: its reconstruction is much larger than the Tikhonov one, so it fitted correlated noise or modelling error; searching below the size limit",
			"norm_ratio", normGrid[all.index]/refNorm, "limit", GuardNormRatio)
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
			"gml":           gmlGrid,
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
			"criterion":          strings.ToLower(critName),
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
	ls       float64
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
	sp := &spaceFactor{ls: ls, q: &mat.Dense{}, omega: &mat.Dense{}, a: eig.Values(nil)}
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
	tm.mu = nullClippedValues(tm.mu)
	tm.yp.Mul(y, tm.p)
	return tm, nil
}

// evaluator evaluates STRE for one (λs, w) and any λt, reusing buffers.
type evaluator struct {
	sp   *spaceFactor
	tm   *timeFactor
	ell  []float64  // eigenvalues of LᵀL, those of its null space set to 0
	shat *mat.Dense // Qᵀ Rᵀ Y P, n x T
	ut   *mat.Dense // Ũ buffer
	fit  *mat.Dense // YP − Ω Ũ buffer
}

func newEvaluator(sp *spaceFactor, tm *timeFactor, ell []float64) *evaluator {
	shat := &mat.Dense{}
	shat.Mul(sp.omega.T(), tm.yp)
	n, tf := shat.Dims()
	m, _ := sp.omega.Dims()
	return &evaluator{sp: sp, tm: tm, ell: ell, shat: shat, ut: mat.NewDense(n, tf, nil), fit: mat.NewDense(m, tf, nil)}
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

// criteria returns, for λt, the GCV function G, the GML function M (see
// gml) and the squared residual ‖Y − RU‖_F² (= ‖YP − ΩŨ‖_F², P
// orthogonal).
func (e *evaluator) criteria(lt float64) (g, ml, res2 float64) {
	tr := e.coefficients(lt)
	e.fit.Mul(e.sp.omega, e.ut)
	e.fit.Sub(e.tm.yp, e.fit)
	res2 = math.Pow(mat.Norm(e.fit, 2), 2)
	m, tf := e.fit.Dims()
	mt := float64(m * tf)
	// yᵀ(I − H)y = ⟨Y, Y − RU⟩_F = ⟨YP, YP − ΩŨ⟩_F.
	var quad float64
	yp, fit := e.tm.yp.RawMatrix(), e.fit.RawMatrix()
	for i := 0; i < m; i++ {
		quad += floats.Dot(yp.Data[i*yp.Stride:i*yp.Stride+tf], fit.Data[i*fit.Stride:i*fit.Stride+tf])
	}
	return res2 / mt / math.Pow(1-tr/mt, 2), e.gml(lt, quad, mt), res2
}

// gml returns the generalized maximum-likelihood function (Wahba 1985) of
// the STRE prior, −2 log p(Y) with the noise variance profiled out, up to a
// constant:
//
//	M = N log(yᵀ(I − H)y / N) − log det⁺(I − H),  N = mT,
//
// for y = vec Y = R u + e, e ~ N(0, σ²I), u ~ N(0, σ² B⁻¹) with the STRE
// penalty B = λs² LᵀL ⊗ I + 2λt² I ⊗ M_w. Then y ~ N(0, σ²(I − H)⁻¹) and,
// by the determinant lemma, det(I − H) = det B / det(RᵀR ⊗ I + B) =
// Π_kj (λs² ℓ_k + 2λt² μ_j) / Π_ij (a_i + 2λt² μ_j) (ℓ_k the eigenvalues of
// LᵀL; B and RᵀR ⊗ I + B are diagonal in the bases that diagonalize LᵀL,
// A and M_w). The pairs where B vanishes (a constant in space and time
// when L annihilates constants) are the prior's improper directions, left
// out of det⁺ as in GML: their factor in det(RᵀR ⊗ I + B) tends to a
// constant, which does not depend on (λs, λt, w).
func (e *evaluator) gml(lt, quad, mt float64) float64 {
	c := 2 * lt * lt
	ls2 := e.sp.ls * e.sp.ls
	var det, inv logProduct
	for _, mu := range e.tm.mu {
		for _, l := range e.ell {
			if b := ls2*l + c*mu; b > 0 {
				det.mul(b)
			}
		}
		for _, a := range e.sp.a {
			inv.mul(a + c*mu)
		}
	}
	return mt*math.Log(quad/mt) - det.log() + inv.log()
}

// logProduct accumulates log Π x_i for positive x_i with one logarithm at
// the end instead of one per factor (GML's determinant has 2nT factors per
// grid point): the running product is renormalized by its binary exponent
// when it leaves [2⁻⁵⁰⁰, 2⁵⁰⁰], and a factor outside that range is logged
// on its own, so nothing overflows or underflows.
type logProduct struct {
	p   float64 // running product, 0 meaning 1 (the zero value is empty)
	exp int     // binary exponent taken out of p
	sum float64 // logarithms of the factors taken on their own
}

func (a *logProduct) mul(x float64) {
	if x < 0x1p-500 || x > 0x1p500 {
		a.sum += math.Log(x)
		return
	}
	if a.p == 0 {
		a.p = 1
	}
	a.p *= x
	if a.p < 0x1p-500 || a.p > 0x1p500 {
		f, e := math.Frexp(a.p)
		a.p, a.exp = f, a.exp+e
	}
}

func (a *logProduct) log() float64 {
	if a.p == 0 {
		return a.sum
	}
	return a.sum + math.Log(a.p) + float64(a.exp)*math.Ln2
}

// solution returns U = Q Ũ Pᵀ for λt.
func (e *evaluator) solution(lt float64) *mat.Dense {
	e.coefficients(lt)
	u := &mat.Dense{}
	u.Product(e.sp.q, e.ut, e.tm.p.T())
	return u
}

// nullClipped returns the eigenvalues of the PSD matrix s with those of its
// null space (below 1e-10 of the largest: rounding) set to exactly 0, which
// the GML determinant leaves out.
func nullClipped(s *mat.SymDense) ([]float64, error) {
	var eig mat.EigenSym
	if ok := eig.Factorize(s, false); !ok {
		return nil, fmt.Errorf("reg: STRE: eigenvalues of LᵀL did not converge")
	}
	return nullClippedValues(eig.Values(nil)), nil
}

// nullClippedValues sets the values below 1e-10 of the largest to 0, in
// place (PSD eigenvalues: the rest is rounding around a null space).
func nullClippedValues(v []float64) []float64 {
	top := slices.Max(v)
	for i, x := range v {
		if x < 1e-10*top {
			v[i] = 0
		}
	}
	return v
}
