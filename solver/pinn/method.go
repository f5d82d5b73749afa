package pinn

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/nn"
)

// Method is a PINN inverse method (EP-DL_AD, EP-DL_ΔND, EP-DL_ND or
// EAND-ARN) with its configuration; it implements inverse.Method.
type Method struct {
	Config Config // the settings that change the numbers (hashed into checkpoints)
	Run    Run    // how this run executes
	hooks  hooks
}

// New returns the method of a registered name with cfg, which is usually
// DefaultConfig(name) with some fields changed, and the run settings run
// (usually DefaultRun() with some fields changed). cfg.Name must be name.
func New(name string, cfg Config, run Run) (inverse.Method, error) {
	if _, err := DefaultConfig(name); err != nil {
		return nil, err
	}
	if cfg.Name != name {
		return nil, fmt.Errorf("pinn: config for %q given to method %q", cfg.Name, name)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := run.validate(); err != nil {
		return nil, err
	}
	return &Method{Config: cfg, Run: run}, nil
}

// setup builds the network and the objective of a problem.
func (m *Method) setup(p *inverse.Problem) (*objective, error) {
	cfg := &m.Config
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if p.Heart == nil || p.R == nil || p.BSPM == nil {
		return nil, fmt.Errorf("pinn: problem lacks heart mesh, R or BSPM")
	}
	n, T := len(p.Heart.Nodes), len(p.Time)
	rm, rn := p.R.Dims()
	bm, bt := p.BSPM.Dims()
	switch {
	case rn != n || bm != rm || bt != T:
		return nil, fmt.Errorf("pinn: R %dx%d, BSPM %dx%d, %d heart nodes, %d times: want R m x n, BSPM m x T", rm, rn, bm, bt, n, T)
	case T < 5:
		return nil, fmt.Errorf("pinn: %d frames: the Eq. 17–18 stencil needs at least 5", T)
	case cfg.BatchFrames > T:
		return nil, inverse.InputError(fmt.Errorf("pinn: batch frames %d exceed the %d frames of the recording", cfg.BatchFrames, T))
	}
	// The time derivative takes every step to be the first. A run file's
	// times are uniform to 1e-6 of the step plus their storage rounding
	// (runfile.UniformTol), and times stored as float32, as MATLAB's
	// single or h5py's float32 write them, are off by up to 2 float32
	// units of the largest time: 2.4e-4 of a 0.1 step near 1000, an error
	// the derivative does not notice. The tolerance accepts that rounding
	// (it failed every PINN run on such a valid file with exit status 1);
	// coarser times are the data's defect, not an internal failure.
	tau := p.Time[1] - p.Time[0]
	largest := math.Max(math.Abs(p.Time[0]), math.Abs(p.Time[T-1]))
	tol := 1e-6*math.Abs(tau) + 2*0x1p-24*largest
	for f := 1; f < T; f++ {
		if d := p.Time[f] - p.Time[f-1]; !(d > 0) || math.Abs(d-tau) > tol {
			return nil, inverse.InputError(fmt.Errorf("pinn: time axis not uniform and increasing to within %.3g (the rounding of float32 times) at frame %d: step %g, first step %g; store the times in float64", tol, f, d, tau))
		}
	}
	pm, err := newPhysicsMesh(cfg, p.Heart)
	if err != nil {
		return nil, fmt.Errorf("pinn: %w", err)
	}
	// Inputs [x, y, z, φ1 … φK, t]: x, y, z and t scaled from their box to
	// [−1, 1] (the midpoints lie in the heart's box); each φ divided by its
	// largest |φ| with its zero kept (its nodal set stays at 0): centring
	// φ on its box instead put ECGSim's 16-function run at RE 0.58, not
	// 0.39 (lvfw, σ 0.05, 160 epochs: README, How EAND-ARN's defaults were chosen).
	F := len(pm.feat)
	lo, hi := make([]float64, F+1), make([]float64, F+1)
	for j, f := range pm.feat {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for _, x := range f {
			lo[j], hi[j] = math.Min(lo[j], x), math.Max(hi[j], x)
		}
		if j >= 3 {
			a := math.Max(-lo[j], hi[j])
			lo[j], hi[j] = -a, a
		}
	}
	lo[F], hi[F] = p.Time[0], p.Time[T-1]
	net, err := nn.New(nn.Config{Layers: cfg.Layers, Width: cfg.Width, Blocks: cfg.Blocks}, nn.BoxNormalizer(lo, hi), cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("pinn: %w", err)
	}
	be, err := kernels.Open(m.Run.device(), kernels.Options{Workers: m.Run.Workers})
	if err != nil {
		return nil, fmt.Errorf("pinn: %w", err)
	}
	o, err := newObjective(cfg, be, net, p, pm, tau)
	if err != nil {
		be.Close()
		return nil, fmt.Errorf("pinn: backend %s: %w", be.Name(), err)
	}
	return o, nil
}

// Solve trains the network on p (L = L_D + λ L_EP, Eq. 4) and returns its
// prediction on the whole grid. Result.Values holds "ratio0" (λ·L_EP/L_D
// at the initial weights over all frames), "bad_init" (1 when ratio0 > BadInitRatio), "steps",
// "epochs" (trained), "lr_horizon" (the decay horizon they followed),
// "budget_ended" (with Run.Deadline: 1 when the time budget, not
// Config.Epochs, ended training), "retries", "lr_scale", "physics_levels"
// and "physics_nodes" (the subdivisions of the physics mesh and its node
// count) and "alpha_<b>" (final ARN α per block);
// Result.Series holds "loss_data", "loss_ep" (epoch means), "re_monitor"
// (RE against truth every MonitorEvery epochs, monitoring only) and
// "alpha_<b>" per epoch. A cancelled context yields an error wrapping
// ErrInterrupted after the checkpoint is written.
//
// With Run.Ensemble K ≥ 2 it trains K members (see ensemble) and returns
// their mean with Result.UStd.
func (m *Method) Solve(ctx context.Context, p *inverse.Problem) (*inverse.Result, error) {
	o, err := m.setup(p)
	if err != nil {
		return nil, err
	}
	defer o.close()
	log := m.Run.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("method", m.Config.Name, "device", o.be.Name())
	log.Info("physics mesh", "levels", o.pm.levels, "nodes", o.n, "heart_nodes", o.nh,
		"mean_edge_mm", o.pm.mesh.MeanEdgeLength(), "lb_inputs", m.Config.LBInputs)
	if m.Run.Ensemble >= 2 {
		return m.ensemble(ctx, p, o, log)
	}
	return m.train(ctx, p, o, &m.Config, &m.Run, "training "+m.Config.Name, log)
}

// train trains one network on the objective o (its weights as o holds
// them) with cfg and run and returns its result. stage names the training
// in progress reports: each ensemble member is a stage of its own, so a
// progress view that has shown one member done goes on with the next.
func (m *Method) train(ctx context.Context, p *inverse.Problem, o *objective, cfg *Config, run *Run, stage string, log *slog.Logger) (*inverse.Result, error) {
	tr := newTrainer(cfg, run, o, cfg.hash(p, o.pm.lb()), log)
	tr.hooks, tr.stage = m.hooks, stage
	if err := tr.train(ctx); err != nil {
		return nil, fmt.Errorf("pinn %s: %w", cfg.Name, err)
	}
	r, err := tr.result()
	if err != nil {
		return nil, fmt.Errorf("pinn %s: %w", cfg.Name, err)
	}
	return r, nil
}

// result assembles the Result of a finished training; Config records the
// method's configuration and the device it ran on.
func (tr *trainer) result() (*inverse.Result, error) {
	st, cfg := tr.st, tr.cfg
	if err := tr.pull(); err != nil {
		return nil, err
	}
	U, V, err := tr.obj.predict()
	if err != nil {
		return nil, fmt.Errorf("predict: %w", err)
	}
	r := &inverse.Result{
		U: U, V: V,
		Values: map[string]float64{
			"ratio0":     st.Ratio0,
			"bad_init":   0,
			"steps":      float64(st.Step),
			"epochs":     float64(st.Epoch),
			"lr_horizon": float64(tr.horizon()),
			"retries":    float64(st.Retries),
			"lr_scale":   st.LRScale,
			"lambda":     cfg.Lambda,
			// The physics mesh actually used (PhysicsRefine −1 resolved).
			"physics_levels": float64(tr.obj.pm.levels),
			"physics_nodes":  float64(tr.obj.n),
		},
		Series: map[string][]float64{
			"loss_data": st.LossData,
			"loss_ep":   st.LossEP,
		},
		Config: cfg.asMap(),
	}
	r.Config["device"] = tr.obj.be.Name()
	if !tr.run.Deadline.IsZero() {
		r.Values["budget_ended"] = 0
		if tr.budget.ended || st.Epoch < cfg.Epochs {
			r.Values["budget_ended"] = 1
		}
	}
	if st.Ratio0 > cfg.BadInitRatio || math.IsNaN(st.Ratio0) {
		r.Values["bad_init"] = 1
	}
	if st.REMonitor != nil {
		r.Series["re_monitor"] = st.REMonitor
	}
	for b, a := range tr.obj.net.Alphas() {
		key := "alpha_" + strconv.Itoa(b)
		r.Values[key] = a
		s := make([]float64, len(st.Alpha))
		for e := range st.Alpha {
			s[e] = st.Alpha[e][b]
		}
		r.Series[key] = s
	}
	return r, nil
}
