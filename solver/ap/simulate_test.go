package ap

import (
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/eandarn/eandarn/solver/geometry"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/sparse"
	"github.com/eandarn/eandarn/solver/temporal"
)

// testHeart returns the default heart (1094 nodes) with its default
// operator, the cotangent Laplace–Beltrami Laplacian.
func testHeart() (*mesh.Mesh, *sparse.CSR) {
	h := geometry.Heart()
	return h, mesh.LaplaceBeltrami(h)
}

// defaultRun caches the default simulation on the test heart: several tests
// inspect it.
var defaultRun = sync.OnceValues(func() (*Solution, error) {
	h, lap := testHeart()
	cfg := DefaultConfig()
	cfg.Heart = h
	return Simulate(lap, cfg)
})

func mustDefaultRun(t testing.TB) *Solution {
	t.Helper()
	sol, err := defaultRun()
	if err != nil {
		t.Fatalf("default simulation: %v", err)
	}
	return sol
}

// TestSimulateDefaultHeart: every node activates exactly once and recovers,
// activation spreads from the pacing site, and u stays in [−0.05, 1.05],
// with the default cotangent operator and with Eq. 15.
func TestSimulateDefaultHeart(t *testing.T) {
	h, _ := testHeart()
	t.Run("LaplaceBeltrami", func(t *testing.T) { checkBeat(t, h, mustDefaultRun(t)) })
	t.Run("Eq15", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Heart = h
		sol, err := Simulate(mesh.Laplacian(h), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkBeat(t, h, sol)
	})
}

// checkBeat asserts one complete beat paced from sol.Site on h and logs
// its activation span, APD, conduction velocity and std of u.
func checkBeat(t *testing.T, h *mesh.Mesh, sol *Solution) {
	n, T := sol.U.Dims()
	if T != 661 || len(sol.Time) != 661 || sol.Time[660] != 56 {
		t.Fatalf("got %d frames ending at %g, want 661 over [0, 56]", T, sol.Time[len(sol.Time)-1])
	}
	act := ActivationTimes(sol, 0.5)
	up := UpCrossings(sol, 0.5)
	for i := 0; i < n; i++ {
		if up[i] != 1 || math.IsNaN(act[i]) {
			t.Fatalf("node %d: %d upward crossings of u = 0.5 (activation %g), want exactly 1", i, up[i], act[i])
		}
		if last := sol.U.At(i, T-1); last >= 0.1 {
			t.Fatalf("node %d: u = %g at t = %g, want < 0.1 (recovered)", i, last, sol.Time[T-1])
		}
	}
	data := sol.U.RawMatrix().Data
	if lo, hi := floats.Min(data), floats.Max(data); lo < -0.05 || hi > 1.05 {
		t.Fatalf("u in [%g, %g], want within [-0.05, 1.05]", lo, hi)
	}
	dist := h.EdgePathDistances(sol.Site)
	rho := spearman(dist, act)
	if rho <= 0.9 {
		t.Fatalf("Spearman rank correlation of activation time with edge-path distance from the site = %.4f, want > 0.9", rho)
	}
	rec := RecoveryTimes(sol, act, 0.1)
	rec50 := RecoveryTimes(sol, act, 0.5)
	apd, apd50 := make([]float64, n), make([]float64, n)
	for i := range apd {
		apd[i], apd50[i] = rec[i]-act[i], rec50[i]-act[i]
	}
	// Conduction velocity: least-squares slope of distance against
	// activation time, outside the stimulated patch.
	var x, y []float64
	stim := map[int]bool{}
	for _, i := range sol.Stimulated {
		stim[i] = true
	}
	for i := range act {
		if !stim[i] {
			x, y = append(x, act[i]), append(y, dist[i])
		}
	}
	_, cv := stat.LinearRegression(x, y, nil, false)
	t.Logf("n=%d, step %.5g, site %d (%d stimulated nodes); activation %.2f–%.2f; APD (u=0.5 up to u=0.1 down) mean %.2f [%.2f, %.2f], APD50 %.2f; recovered by %.2f; conduction %.2f mm/unit; Spearman %.4f; u in [%.4f, %.4f], std(u) %.4f",
		n, sol.Step, sol.Site, len(sol.Stimulated), floats.Min(act), floats.Max(act), stat.Mean(apd, nil), floats.Min(apd), floats.Max(apd),
		stat.Mean(apd50, nil), floats.Max(rec), cv, rho, floats.Min(data), floats.Max(data), stat.PopStdDev(data, nil))
}

// TestSimulateHalvingDtConverges: halving the time step changes the
// activation times by under 2% of the activation span (max over nodes).
func TestSimulateHalvingDtConverges(t *testing.T) {
	h, lap := testHeart()
	act := mustDefaultRun(t)
	a1 := ActivationTimes(act, 0.5)
	cfg := DefaultConfig()
	cfg.Heart = h
	cfg.Dt /= 2
	half, err := Simulate(lap, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a2 := ActivationTimes(half, 0.5)
	var maxDiff, maxRelLate float64
	span := floats.Max(a2)
	for i := range a1 {
		d := math.Abs(a1[i] - a2[i])
		maxDiff = max(maxDiff, d)
		if a2[i] > span/2 {
			maxRelLate = max(maxRelLate, d/a2[i])
		}
	}
	t.Logf("steps %.5g and %.5g: max |Δ activation| %.4f of span %.2f (%.3f%%); per-node relative over the late half %.3f%%",
		act.Step, half.Step, maxDiff, span, 100*maxDiff/span, 100*maxRelLate)
	if maxDiff/span >= 0.02 {
		t.Fatalf("halving dt changed activation times by %.3f%% of the span, want < 2%%", 100*maxDiff/span)
	}
}

// TestResidualOfSimulation applies the residuals of Eq. 6–7 to the
// simulator's own output, with u_t, v_t by the 4th-order temporal stencil
// (Eq. 17–18) on a fine frame grid and Δu by the same operator. Forward
// Euler solves Eq. 1–2 up to O(h), so the residual must be small relative
// to its terms, and halve when the step halves.
func TestResidualOfSimulation(t *testing.T) {
	h, lap := testHeart()
	rel := func(dt float64) float64 {
		cfg := DefaultConfig()
		cfg.Heart = h
		cfg.Dt, cfg.Tend, cfg.Frames = dt, 20, 1001 // τ = 0.02: 4 or 8 steps per frame
		sol, err := Simulate(lap, cfg)
		if err != nil {
			t.Fatal(err)
		}
		n, T := sol.U.Dims()
		ut, vt, lapu := mat.NewDense(n, T, nil), mat.NewDense(n, T, nil), mat.NewDense(n, T, nil)
		temporal.Apply(ut, sol.U, sol.Time[1])
		temporal.Apply(vt, sol.V, sol.Time[1])
		lap.MulDense(lapu, sol.U)
		// Skip the stimulus window (the residual does not model I(t)) and
		// the two boundary frames at each end.
		f0 := int(math.Ceil(cfg.Stim.Duration/sol.Time[1])) + 2
		var rr, terms float64
		ru, rv := make([]float64, n), make([]float64, n)
		col := func(m *mat.Dense, f int) []float64 { return mat.Col(nil, f, m) }
		for f := f0; f < T-2; f++ {
			u, v, utf, vtf, lf := col(sol.U, f), col(sol.V, f), col(ut, f), col(vt, f), col(lapu, f)
			ResidualU(cfg.Params, ru, u, v, utf, lf)
			ResidualV(cfg.Params, rv, u, v, vtf)
			for i := 0; i < n; i++ {
				rr += ru[i]*ru[i] + rv[i]*rv[i]
				react := cfg.Params.reactionU(u[i], v[i])
				terms += utf[i]*utf[i] + math.Pow(cfg.Params.D*lf[i], 2) + react*react + vtf[i]*vtf[i]
			}
		}
		return math.Sqrt(rr / terms)
	}
	r1, r2 := rel(0.005), rel(0.0025)
	t.Logf("relative residual ‖(r_u, r_v)‖ / ‖terms‖: %.3g at step 0.005, %.3g at 0.0025 (ratio %.2f)", r1, r2, r1/r2)
	if r1 > 0.05 {
		t.Errorf("relative residual %.3g at step 0.005, want < 0.05", r1)
	}
	if r := r1 / r2; r < 1.6 || r > 2.4 {
		t.Errorf("residual ratio %.2f on halving the step, want ≈ 2 (first order)", r)
	}
}

// TestUnstableStepRefused: a step above the stability limit gets one clear
// error naming dt and the limit; a step just below it runs.
func TestUnstableStepRefused(t *testing.T) {
	h, lap := testHeart()
	lim := StepLimits(lap, DefaultParams())
	t.Logf("limits: %+v", lim)
	for _, tc := range []struct {
		dt     float64
		wantOK bool
	}{{0.005, true}, {0.99 * lim.Combined, true}, {1.01 * lim.Combined, false}, {0.5, false}, {0, false}, {math.NaN(), false}} {
		cfg := DefaultConfig()
		cfg.Heart, cfg.Dt, cfg.Tend, cfg.Frames = h, tc.dt, 2, 3
		_, err := Simulate(lap, cfg)
		if (err == nil) != tc.wantOK {
			t.Errorf("dt %g: error %v, want ok=%v", tc.dt, err, tc.wantOK)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "dt = ") {
			t.Errorf("dt %g: error %q does not name dt", tc.dt, err)
		}
		if !tc.wantOK && tc.dt > 0 && (!strings.Contains(err.Error(), "limit") || !errors.Is(err, ErrUnstableStep)) {
			t.Errorf("dt %g: error %q does not name the limit or wrap ErrUnstableStep", tc.dt, err)
		}
	}
}

// TestDiffusionLimitIsReal: the refused steps are really unstable. Euler on
// u_t = D L u from the top eigenvector of L grows for a step 5% above
// 2/(D ρ(L)) (ρ by power iteration), and the Gershgorin bound Simulate uses
// is within a factor 2 of ρ (1.45 measured on the icosphere), so the check
// does not refuse steps far inside the stable range.
func TestDiffusionLimitIsReal(t *testing.T) {
	_, lap := testHeart()
	p := DefaultParams()
	n := lap.Rows
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i] = math.Sin(float64(7 * i)) // deterministic, not an eigenvector
	}
	var rho float64
	for it := 0; it < 500; it++ {
		lap.MulVec(y, x)
		rho = floats.Norm(y, 2) / floats.Norm(x, 2)
		floats.ScaleTo(x, 1/floats.Norm(y, 2), y)
	}
	lim := StepLimits(lap, p)
	ratio := lim.SpectralRadius / rho
	t.Logf("ρ(L) ≈ %.4g (power iteration), Gershgorin %.4g (ratio %.3f)", rho, lim.SpectralRadius, ratio)
	if ratio < 1 || ratio > 2 {
		t.Fatalf("Gershgorin bound / ρ(L) = %.3f, want in [1, 2]", ratio)
	}
	grow := func(dt float64) float64 {
		u, un := append([]float64(nil), x...), make([]float64, n)
		for s := 0; s < 200; s++ {
			lap.MulVec(un, u)
			floats.AddScaledTo(un, u, dt*p.D, un)
			u, un = un, u
		}
		return floats.Norm(u, 2) / floats.Norm(x, 2)
	}
	stable := 2 / (p.D * rho)
	if g := grow(1.05 * stable); g < 10 {
		t.Errorf("step 5%% above the diffusion limit: growth %g over 200 steps, want > 10 (unstable)", g)
	}
	if g := grow(lim.Diffusion); g > 1 {
		t.Errorf("step at the Gershgorin diffusion limit: growth %g, want ≤ 1", g)
	}
}

func TestPacing(t *testing.T) {
	h, lap := testHeart()
	n := len(h.Nodes)
	tests := []struct {
		name     string
		pace     string
		wantSite int    // −1: do not check
		wantErr  string // substring; "" = no error
	}{
		{"apex default", "apex", -1, ""},
		{"node", "17", 17, ""},
		{"point", "0,0,45", -1, ""},
		{"apex is node 0 of the default heart", "apex", 0, ""},
		{"node out of range", "1094", 0, "pacing node 1094 out of range [0, 1094)"},
		{"negative node", "-1", 0, "out of range"},
		{"garbage", "base", 0, "want apex, a node index or x,y,z"},
		{"point in metres far from a heart in mm", "1000,1000,1000", 0, "outside the heart's bounding box"},
		{"point in the cavity", "0,0,0", -1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pc, err := ParsePacing(tc.pace)
			if err == nil {
				cfg := DefaultConfig()
				cfg.Heart, cfg.Stim.Pacing, cfg.Tend, cfg.Frames = h, pc, 1, 5
				var sol *Solution
				if sol, err = Simulate(lap, cfg); err == nil && tc.wantSite >= 0 && sol.Site != tc.wantSite {
					t.Fatalf("site %d, want %d", sol.Site, tc.wantSite)
				}
			}
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	// A point is paced at its nearest node.
	site, err := Pacing{Kind: PacePoint, Point: [3]float64{h.Nodes[99][0] * 1.01, h.Nodes[99][1] * 1.01, h.Nodes[99][2] * 1.01}}.Site(h, n)
	if err != nil || site != 99 {
		t.Fatalf("point next to node 99 paced at %d (%v), want 99", site, err)
	}
	// Explicit stimulus nodes are range-checked too.
	cfg := DefaultConfig()
	cfg.Heart, cfg.Stim.Nodes = h, []int{0, n}
	if _, err := Simulate(lap, cfg); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("stimulus node %d: error %v, want out of range", n, err)
	}
}

// TestSimulateTiming: the default 661-frame simulation well under the 20 s
// budget (2 cores; numpy takes ≈ 5 s).
// BenchmarkSimulateDefault times the default 661-frame simulation on the
// default heart (issue target: under 20 s on 2 cores).
func BenchmarkSimulateDefault(b *testing.B) {
	h, lap := testHeart()
	cfg := DefaultConfig()
	cfg.Heart = h
	for b.Loop() {
		if _, err := Simulate(lap, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// spearman returns the Spearman rank correlation of x and y (average ranks
// for ties).
func spearman(x, y []float64) float64 {
	return stat.Correlation(ranks(x), ranks(y), nil)
}

func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j) / 2
		}
		i = j + 1
	}
	return r
}

// TestSimulateBadConfig: each malformed configuration gets an error that
// names the offending setting.
func TestSimulateBadConfig(t *testing.T) {
	h, lap := testHeart()
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"negative D", func(c *Config) { c.Params.D = -1 }, "parameter D = -1"},
		{"NaN k", func(c *Config) { c.Params.K = math.NaN() }, "parameter k = NaN"},
		{"one frame", func(c *Config) { c.Frames = 1 }, "want Frames >= 2"},
		{"no time span", func(c *Config) { c.Tend = 0 }, "Tend > 0"},
		{"short U0", func(c *Config) { c.U0 = make([]float64, 3) }, "initial state U0 has length 3, want 1094"},
		{"wrong heart", func(c *Config) { c.Heart = geometry.Icosphere(1, 10) }, "heart has 42 nodes, Laplacian is 1094x1094"},
		{"apex without heart", func(c *Config) { c.Heart = nil }, "apex needs the heart mesh"},
		{"radius without heart", func(c *Config) {
			c.Heart, c.Stim.Pacing = nil, Pacing{Kind: PaceNode, Node: 3}
		}, "radius 6 mm needs the heart mesh"},
	}
	for _, tc := range tests {
		cfg := DefaultConfig()
		cfg.Heart, cfg.Tend, cfg.Frames = h, 1, 5
		tc.edit(&cfg)
		if _, err := Simulate(lap, cfg); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}
