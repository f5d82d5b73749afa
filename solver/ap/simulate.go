package ap

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/sparse"
)

// PaceKind says how a Pacing names its site.
type PaceKind int

const (
	// PaceApex paces at geometry.Apex of the heart (the default: apex-to-base
	// depolarization as in the paper's Fig. 10).
	PaceApex PaceKind = iota
	// PaceNode paces at the node index Pacing.Node.
	PaceNode
	// PacePoint paces at the heart node nearest to Pacing.Point (mm).
	PacePoint
)

// Pacing names the pacing site. The zero value is the apex.
type Pacing struct {
	Kind  PaceKind
	Node  int        // node index, for PaceNode
	Point [3]float64 // position in mm, for PacePoint
}

// ParsePacing reads a pacing site as written on a command line: "apex", a
// 0-based node index ("17"), or a position in mm ("x,y,z").
func ParsePacing(s string) (Pacing, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "apex" {
		return Pacing{Kind: PaceApex}, nil
	}
	if parts := strings.Split(s, ","); len(parts) == 3 {
		var p [3]float64
		for d, f := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err == nil && (math.IsNaN(x) || math.IsInf(x, 0)) {
				err = fmt.Errorf("want a finite coordinate, got %v", x)
			}
			if err != nil {
				return Pacing{}, fmt.Errorf("ap: pacing site %q: coordinate %d: %w", s, d, err)
			}
			p[d] = x
		}
		return Pacing{Kind: PacePoint, Point: p}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return Pacing{}, fmt.Errorf("ap: pacing site %q: want apex, a node index or x,y,z", s)
	}
	return Pacing{Kind: PaceNode, Node: n}, nil
}

// Site resolves the pacing site to a node index of heart. heart may be nil
// only for PaceNode, where n is then the node count to check against
// (ignored when heart is given).
func (pc Pacing) Site(heart *mesh.Mesh, n int) (int, error) {
	if heart != nil {
		n = len(heart.Nodes)
	}
	switch pc.Kind {
	case PaceApex:
		if heart == nil {
			return 0, fmt.Errorf("ap: pacing at the apex needs the heart mesh")
		}
		return geometry.Apex(heart), nil
	case PaceNode:
		if pc.Node < 0 || pc.Node >= n {
			return 0, fmt.Errorf("ap: pacing node %d out of range [0, %d)", pc.Node, n)
		}
		return pc.Node, nil
	case PacePoint:
		if heart == nil {
			return 0, fmt.Errorf("ap: pacing at a point needs the heart mesh")
		}
		i := nearestNode(heart.Nodes, pc.Point)
		// A point in a cavity or a little off the surface is paced at its
		// nearest node; one well outside the heart's bounding box is a
		// mistake (other units, another frame of reference), not a site.
		lo, hi := heart.Bounds()
		diag := math.Sqrt(dist2(lo, hi))
		if out := outside(pc.Point, lo, hi); out > farOutside*diag {
			return 0, fmt.Errorf("ap: pacing point (%g, %g, %g) mm lies %.3g mm outside the heart's bounding box [%g, %g]×[%g, %g]×[%g, %g] mm (its nearest node %d is %.3g mm away); want a point on or near the heart",
				pc.Point[0], pc.Point[1], pc.Point[2], out, lo[0], hi[0], lo[1], hi[1], lo[2], hi[2], i, math.Sqrt(dist2(heart.Nodes[i], pc.Point)))
		}
		return i, nil
	}
	return 0, fmt.Errorf("ap: unknown pacing kind %d", pc.Kind)
}

// farOutside is how far, as a fraction of the diagonal of the heart's
// bounding box, a pacing point may lie outside that box.
const farOutside = 0.1

// outside returns the distance from p to the box [lo, hi] (0 inside).
func outside(p, lo, hi [3]float64) float64 {
	var s float64
	for d := range 3 {
		e := math.Max(math.Max(lo[d]-p[d], p[d]-hi[d]), 0)
		s += e * e
	}
	return math.Sqrt(s)
}

func nearestNode(nodes [][3]float64, p [3]float64) int {
	best, bestD := 0, math.Inf(1)
	for i, x := range nodes {
		if d := dist2(x, p); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

func dist2(a, b [3]float64) float64 {
	dx, dy, dz := a[0]-b[0], a[1]-b[1], a[2]-b[2]
	return dx*dx + dy*dy + dz*dz
}

// Stimulus is the pacing protocol: a current of Strength (u per AP time unit)
// added to u_t of the stimulated nodes for 0 ≤ t < Duration.
type Stimulus struct {
	Pacing Pacing
	// Radius (mm): the nodes within this Euclidean distance of the pacing
	// site are stimulated, and always the site's one-ring (its edge
	// neighbours): on a coarse mesh a radius smaller than the edges would
	// otherwise stimulate the site alone, a source too small to start a
	// wave (the 257-node ECGSim ventricles, mean edge 16.5 mm: 1 node within
	// 6 mm, 1 of 257 nodes ever activates). Radius 0 stimulates the site
	// alone. Needs Config.Heart when > 0.
	Radius float64
	// Nodes, when not empty, lists the stimulated nodes explicitly and
	// overrides Pacing and Radius.
	Nodes    []int
	Strength float64
	Duration float64
}

// Config sets up a simulation. DefaultConfig fills every field but Heart.
type Config struct {
	Params Params
	// Dt is the largest explicit Euler step (AP time units). The step used is
	// τ/m with m = ⌈τ/Dt⌉ sub-steps per output frame (τ = Tend/(Frames−1)),
	// so every frame is an exact step (no interpolation) and the step is ≤ Dt.
	Dt     float64
	Frames int     // number of output frames T (≥ 2), evenly spaced over [0, Tend]
	Tend   float64 // time of the last frame (AP units)
	Stim   Stimulus
	// Heart supplies the node coordinates for the apex/point pacing site and
	// the stimulus radius; it must match the Laplacian's size.
	Heart *mesh.Mesh
	// U0, V0 are the initial state (nil: resting, u = v = 0).
	U0, V0 []float64
}

// MaxSteps is the most Euler steps Simulate takes (Frames−1 times ⌈τ/Dt⌉):
// 10^8 steps take about 40 minutes on the default heart. A protocol beyond
// it (a Tend of 10^12, a Dt of 10^-300 whose step count does not even fit
// an int) is refused instead of running for days or silently taking no
// step at all.
const MaxSteps = 100_000_000

// Steps returns the sub-steps per output frame m = ⌈τ/Dt⌉ (τ =
// Tend/(Frames−1)) and the total (Frames−1)·m, or an error when Frames,
// Tend or Dt are out of range or the total exceeds MaxSteps.
func (c Config) Steps() (perFrame, total int, err error) {
	if c.Frames < 2 || !(c.Tend > 0) || math.IsInf(c.Tend, 0) {
		return 0, 0, fmt.Errorf("ap: simulate: want Frames >= 2 and a finite Tend > 0, got %d frames over [0, %g]", c.Frames, c.Tend)
	}
	if !(c.Dt > 0) || math.IsInf(c.Dt, 0) {
		return 0, 0, fmt.Errorf("ap: simulate: time step dt = %g: want a finite dt > 0", c.Dt)
	}
	tau := c.Tend / float64(c.Frames-1)
	// The 1e-9 keeps a Dt that divides τ up to rounding from adding a step.
	m := math.Max(1, math.Ceil(tau/c.Dt-1e-9))
	if n := m * float64(c.Frames-1); !(n <= MaxSteps) {
		return 0, 0, fmt.Errorf("ap: simulate: %d frames over [0, %g] with dt = %g take %.3g Euler steps, more than %d", c.Frames, c.Tend, c.Dt, n, MaxSteps)
	}
	return int(m), int(m) * (c.Frames - 1), nil
}

// DefaultConfig returns the default protocol: the paper's parameters,
// Dt = 0.005, 661 frames over [0, 56] (τ ≈ 0.085), a stimulus of strength 1
// for 0.6 time units on the nodes within 6 mm of the apex and its one-ring
// (5 nodes of the default heart), resting start. On the default heart durations 0.3 to 0.6
// excite without pushing u above 1 (longer ones overshoot to 1.01–1.07 at
// the stimulated nodes), and a 3 mm patch (2 nodes) still excites.
func DefaultConfig() Config {
	return Config{
		Params: DefaultParams(),
		Dt:     0.005,
		Frames: 661,
		Tend:   56,
		Stim:   Stimulus{Radius: 6, Strength: 1, Duration: 0.6},
	}
}

// Solution is a simulated AP time course.
type Solution struct {
	Time []float64  // frame times, length T
	U, V *mat.Dense // n x T: u and v at each node (row) and frame (column)
	Step float64    // the Euler step used (≤ Config.Dt)
	// Site is the pacing node (−1 when the stimulus listed Nodes) and
	// Stimulated the nodes that received the stimulus.
	Site       int
	Stimulated []int
}

// Reaction-Jacobian box: a physical AP solution with the paper's parameters
// stays in u ∈ [−0.05, 1.05] (asserted by the tests) and v ∈ [0, vMax]
// (the measured peak of v is ≈ 2.2; the margin covers other parameter sets
// near the paper's).
const (
	uLow, uHigh = -0.05, 1.05
	vMax        = 3.0
)

// Limits are the explicit Euler step limits of Eq. 1–2 on a Laplacian.
//
// Diffusion: Euler on u_t = D L u is stable when dt·D·|λ| ≤ 2 for every
// eigenvalue λ of L. ρ(L) is bounded by Gershgorin, max_i Σ_j |L_ij|, which
// is close to tight for the mesh Laplacians (rows sum to 0 and the diagonal
// dominates); for the Eq. 15 operator, whose eigenvalues may be complex, the
// Gershgorin discs then also lie inside Euler's stability disc. So
// Diffusion = 2 / (D ρ_G(L)).
//
// Reaction: Reaction = 2 / ρ_R, with ρ_R the largest spectral radius of the
// 2x2 reaction Jacobian ∂(f,g)/∂(u,v) over the physical box
// u ∈ [−0.05, 1.05], v ∈ [0, 3] (a 221 x 61 grid). For the paper's
// parameters ρ_R ≈ 12.2 (at u = 1.05, v = 3), so Reaction ≈ 0.16 (DESIGN §3
// quotes ≈ 0.1). Weakly damped oscillatory modes of the reaction (complex
// eigenvalues near the imaginary axis) are not counted: they bound the
// accuracy of a long step, not its stability.
//
// Combined = 2 / (D ρ_G(L) + ρ_R), the spectral bound of the linearized
// system D L + reaction when a diffusion mode and the stiffest reaction mode
// add up. Simulate refuses a Dt above Combined.
type Limits struct {
	SpectralRadius float64 // Gershgorin bound ρ_G(L) (mm⁻²)
	ReactionRate   float64 // ρ_R (per AP time unit)
	Diffusion      float64
	Reaction       float64
	Combined       float64
}

// StepLimits returns the explicit Euler step limits for p on lap; see Limits.
func StepLimits(lap *sparse.CSR, p Params) Limits {
	var rho float64
	for i := 0; i < lap.Rows; i++ {
		var s float64
		for k := lap.RowPtr[i]; k < lap.RowPtr[i+1]; k++ {
			s += math.Abs(lap.Val[k])
		}
		rho = max(rho, s)
	}
	rate := reactionRate(p)
	return Limits{
		SpectralRadius: rho,
		ReactionRate:   rate,
		Diffusion:      2 / (p.D * rho),
		Reaction:       2 / rate,
		Combined:       2 / (p.D*rho + rate),
	}
}

// reactionRate is the largest spectral radius of the reaction Jacobian
//
//	J = [ ∂f/∂u  ∂f/∂v ] = − [ ∂r_u/∂u  ∂r_u/∂v ]
//	    [ ∂g/∂u  ∂g/∂v ]     [ ∂r_v/∂u  ∂r_v/∂v ]
//
// (the partials from PointU, PointV) over the physical box, from the
// closed-form eigenvalues (tr ± √(tr² − 4 det))/2.
func reactionRate(p Params) float64 {
	const nu, nv = 221, 61
	var rate float64
	for i := 0; i < nu; i++ {
		u := uLow + (uHigh-uLow)*float64(i)/(nu-1)
		for j := 0; j < nv; j++ {
			v := vMax * float64(j) / (nv - 1)
			_, du := p.PointU(u, v, 0, 0)
			_, dv := p.PointV(u, v, 0)
			tr := -(du.U + dv.V)
			det := du.U*dv.V - du.V*dv.U
			if disc := tr*tr - 4*det; disc >= 0 {
				rate = max(rate, (math.Abs(tr)+math.Sqrt(disc))/2)
			} else {
				rate = max(rate, math.Sqrt(det))
			}
		}
	}
	return rate
}

// ErrUnstableStep is wrapped by Simulate's error for a step above the
// explicit Euler stability limit (see Limits): a setting the caller chose,
// not a failure of the integrator.
var ErrUnstableStep = errors.New("exceeds the explicit Euler stability limit")

// Simulate integrates the AP model (Eq. 1–2) on a heart surface,
//
//	u_t = D L u + k u (1−u)(u−a) − u v + I(t),  v_t = ε(u,v)(−v − k u (u−a−1)),
//
// by explicit (forward) Euler with one CSR SpMV per step. lap is the
// surface Laplacian in mm⁻² (n x n): mesh.LaplaceBeltrami(heart) by default,
// the consistent cotangent operator, so the data do not share the inverse
// methods' Eq. 15 discretization; mesh.Laplacian(heart) (Eq. 15) also works.
// Eq. 3 (no flux) needs no extra term: a closed heart surface has no
// boundary, and on an open one the cotangent operator's one-sided weights
// (and Eq. 15's one-sided neighbour sums) already carry the natural no-flux
// condition. I(t) = Stim.Strength on the stimulated
// nodes while t < Stim.Duration, else 0.
//
// The step is checked first: a Dt above the combined stability limit (see
// Limits) is refused with an error wrapping ErrUnstableStep that names Dt
// and the limit.
func Simulate(lap *sparse.CSR, cfg Config) (*Solution, error) {
	if lap == nil || lap.Rows != lap.Cols || lap.Rows == 0 {
		return nil, fmt.Errorf("ap: simulate: want a square non-empty Laplacian")
	}
	n := lap.Rows
	p := cfg.Params
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("ap: simulate: %w", err)
	}
	if cfg.Heart != nil && len(cfg.Heart.Nodes) != n {
		return nil, fmt.Errorf("ap: simulate: heart has %d nodes, Laplacian is %dx%d", len(cfg.Heart.Nodes), n, n)
	}
	m, _, err := cfg.Steps()
	if err != nil {
		return nil, err
	}
	if lim := StepLimits(lap, p); cfg.Dt > lim.Combined {
		return nil, fmt.Errorf("ap: simulate: time step dt = %g %w %.4g "+
			"(2/(D·ρ(L) + reaction rate); diffusion alone %.4g, reaction alone %.4g)",
			cfg.Dt, ErrUnstableStep, lim.Combined, lim.Diffusion, lim.Reaction)
	}
	u, v, err := initialState(cfg, n)
	if err != nil {
		return nil, err
	}
	sol := &Solution{Site: -1}
	if sol.Stimulated, sol.Site, err = stimulated(cfg, n); err != nil {
		return nil, err
	}

	tau := cfg.Tend / float64(cfg.Frames-1)
	h := tau / float64(m)
	sol.Step = h
	stim := make([]float64, n)
	for _, i := range sol.Stimulated {
		stim[i] = cfg.Stim.Strength
	}

	T := cfg.Frames
	sol.Time = make([]float64, T)
	ud, vd := make([]float64, n*T), make([]float64, n*T)
	record := func(f int) {
		sol.Time[f] = tau * float64(f)
		for i := 0; i < n; i++ {
			ud[i*T+f], vd[i*T+f] = u[i], v[i]
		}
	}
	record(0)
	un, vn := make([]float64, n), make([]float64, n)
	for f := 1; f < T; f++ {
		for s := 0; s < m; s++ {
			t := float64((f-1)*m+s) * h
			on := t < cfg.Stim.Duration
			eulerStep(lap, p, h, u, v, un, vn, stim, on)
			u, un = un, u
			v, vn = vn, v
		}
		record(f)
	}
	for i, x := range u {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("ap: simulate: u diverged at node %d (dt = %g)", i, h)
		}
	}
	sol.U = mat.NewDense(n, T, ud)
	sol.V = mat.NewDense(n, T, vd)
	return sol, nil
}

// eulerStep advances (u, v) by one forward Euler step of length h into
// (un, vn); the stimulus current is added when on.
func eulerStep(lap *sparse.CSR, p Params, h float64, u, v, un, vn, stim []float64, on bool) {
	for i := range u {
		var lu float64
		for k := lap.RowPtr[i]; k < lap.RowPtr[i+1]; k++ {
			lu += lap.Val[k] * u[lap.ColIdx[k]]
		}
		du := p.D*lu + p.reactionU(u[i], v[i])
		if on {
			du += stim[i]
		}
		un[i] = u[i] + h*du
		vn[i] = v[i] + h*p.reactionV(u[i], v[i])
	}
}

func initialState(cfg Config, n int) (u, v []float64, err error) {
	u, v = make([]float64, n), make([]float64, n)
	for _, s := range []struct {
		name      string
		dst, init []float64
	}{{"U0", u, cfg.U0}, {"V0", v, cfg.V0}} {
		if s.init == nil {
			continue
		}
		if len(s.init) != n {
			return nil, nil, fmt.Errorf("ap: simulate: initial state %s has length %d, want %d", s.name, len(s.init), n)
		}
		copy(s.dst, s.init)
	}
	return u, v, nil
}

// stimulated returns the stimulated nodes and the pacing site (−1 when the
// stimulus lists its nodes).
func stimulated(cfg Config, n int) ([]int, int, error) {
	st := cfg.Stim
	if len(st.Nodes) > 0 {
		for _, i := range st.Nodes {
			if i < 0 || i >= n {
				return nil, -1, fmt.Errorf("ap: simulate: stimulus node %d out of range [0, %d)", i, n)
			}
		}
		return append([]int(nil), st.Nodes...), -1, nil
	}
	site, err := st.Pacing.Site(cfg.Heart, n)
	if err != nil {
		return nil, -1, fmt.Errorf("ap: simulate: %w", err)
	}
	if st.Radius <= 0 {
		return []int{site}, site, nil
	}
	if cfg.Heart == nil {
		return nil, -1, fmt.Errorf("ap: simulate: stimulus radius %g mm needs the heart mesh", st.Radius)
	}
	ring := cfg.Heart.Neighbors()[site]
	var nodes []int
	c := cfg.Heart.Nodes[site]
	for i, x := range cfg.Heart.Nodes {
		if dist2(x, c) <= st.Radius*st.Radius || slices.Contains(ring, i) {
			nodes = append(nodes, i)
		}
	}
	return nodes, site, nil
}
