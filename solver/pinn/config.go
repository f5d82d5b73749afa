package pinn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/nn"
)

// Deriv says how a physics-loss derivative is computed.
type Deriv string

const (
	// ND is numerical differentiation on the grid: the Eq. 15 mesh
	// Laplacian for Δu, the Eq. 17–18 stencil over frames for u_t and v_t.
	ND Deriv = "nd"
	// AD differentiates the network with respect to its inputs (Taylor
	// jets through the layers).
	AD Deriv = "ad"
)

// Config holds every setting of a PINN method. DefaultConfig(name) fills it
// for the four registered methods; the paper gives the architecture and λ
// but not the optimizer settings, batch size, collocation count or epochs:
// those defaults were chosen by measurement (see DefaultConfig).
type Config struct {
	Name string // method name: epdl-ad, epdl-dnd, epdl-nd or eandarn

	// Network (paper Table I): Layers dense tanh layers of Width neurons
	// counting the layers inside residual blocks; Blocks adaptive residual
	// blocks (Eq. 11), 0 for a plain FNN.
	Layers, Width, Blocks int

	Laplacian Deriv // how Δu is computed
	TimeDeriv Deriv // how u_t, v_t are computed
	// Operator is the ND Laplacian's discretization: "eq15" (the paper's
	// Eq. 15, mesh.Laplacian) or "cotangent" (the consistent
	// Laplace–Beltrami operator, mesh.LaplaceBeltrami). Unused with an AD
	// Laplacian.
	Operator string

	// LBInputs adds the first LBInputs non-constant Laplace–Beltrami
	// eigenfunctions of the heart mesh (mesh.Eigenfunctions) as network
	// inputs after x, y, z: [x, y, z, φ1 … φK, t]. They let the network tell
	// apart points that are close in space but far apart along the surface
	// (the two sides of a ventricular wall). Each enters divided by its
	// largest |φ| (so in [−1, 1], its zero kept). 0 is the paper's
	// [x, y, z, t].
	LBInputs int
	// PhysicsRefine is the number of midpoint subdivisions (mesh.Subdivide)
	// of the heart mesh on which the residuals are evaluated: the network is
	// evaluated at every node of the subdivided copy, L_D reads the heart's
	// own nodes (the first ones), and the ND Laplacian is that of the copy,
	// so the wave is resolved where the heart mesh is too coarse for it. −1
	// chooses the levels from the mesh (AutoRefine).
	PhysicsRefine int

	Lambda float64 // weight of L_EP in L = L_D + λ L_EP (Eq. 4)

	// Boundary adds r_b = n·∇u (Eq. 8) to L_EP. The default heart is
	// closed, so for ND there is no boundary; AD variants apply it at the
	// collocation nodes along the vertex normals as the reference did.
	Boundary bool
	// NormalStep is the step h (mm) of the ND central difference
	// n·∇u ≈ (û(x+hn) − û(x−hn))/2h used when Boundary is on with ND.
	NormalStep float64

	// EpsDelta guards the pole of ε(u,v) = e0 + μ1 v/(u+μ2) at u = −μ2
	// (DESIGN §2): ε is evaluated at max(u, −μ2 + EpsDelta)
	// (ap.Params.EpsDelta); 0 keeps the paper's raw ε, needed to reproduce
	// the bad-initialization rates of Table II.
	EpsDelta float64

	Epochs      int // passes over all frames
	BatchFrames int // frames per mini-batch
	// RandomFrames draws each mini-batch's frames at random from a
	// permutation of all frames; false uses contiguous blocks of frames.
	// With an ND time derivative a random batch costs more (each frame
	// brings its own stencil frames: up to 5B evaluated frames instead of
	// B+4).
	RandomFrames bool
	// Collocation is N_c per mini-batch: the number of (node, frame)
	// points drawn without replacement from the batch's frames × heart
	// nodes where the residuals are evaluated; 0 means all of them.
	Collocation int

	// Precision is the arithmetic of the network passes and of the data
	// products with R, "float64" or "float32" (kernels.NetOptions.Compute):
	// float32 halves their cost (8 AVX2 lanes instead of 4); the losses,
	// the residuals and Adam stay float64 on a backend that has float64
	// (the CPU).
	Precision string

	LR      float64 // Adam learning rate at epoch 0
	LRFinal float64 // learning rate reached at the last epoch of the horizon (exponential decay per epoch)
	Seed    uint64  // network initialization, batch order, collocation draws

	// LRHorizon is the decay horizon H in epochs: the learning rate reaches
	// LRFinal at epoch H−1 and stays there; 0 means Epochs. A run that a
	// time budget stopped before its planned horizon is reproduced by
	// -epochs K -lr-horizon N (the result's values epochs and lr_horizon).
	LRHorizon int `json:",omitempty"` // omitted at 0, so the hashes of runs without it stay those of earlier versions

	// TimeCurriculum is the fraction F of the learning-rate horizon H over
	// which the frames that batches are drawn from grow from the first
	// tenth of the recording to all of it (causal training): epoch e draws
	// from frames [0, T_e), T_e = ⌈T·(w0 + (1−w0)·e/(F·H))⌉, w0 = 0.1, at
	// least BatchFrames, and from all T frames once e ≥ F·H. Where R barely
	// sees a part of the heart, only the residuals carry the wave there; with
	// frames drawn from the whole beat at once the network leaves most of
	// those nodes at rest (the resting solution satisfies the residuals
	// locally) before the wave has reached them in the frames it has
	// learnt. 0 draws from all frames from the start, as the paper does (and
	// the EP-DL variants' defaults); EAND-ARN's default is 1/3.
	TimeCurriculum float64 `json:",omitempty"` // omitted at 0, so the hashes of runs without it stay those of earlier versions

	BadInitRatio float64 // initial λ·L_EP/L_D above which the run is flagged "bad_init"

	MaxRetries int // non-finite losses tolerated (each: roll back, halve lr) before giving up
}

// Run holds the settings of one execution that leave the numbers of a run
// unchanged: where and when checkpoints are written, resuming, monitoring,
// logging, goroutines and the compute backend. They are not part of the
// checkpoint hash (Config is), so a requeued task may resume with another
// checkpoint path, worker count or device.
type Run struct {
	// Checkpoint is the checkpoint file path ("" disables checkpoints);
	// CheckpointEvery the step cadence (0: only on cancellation).
	Checkpoint      string
	CheckpointEvery int
	// Resume continues from this checkpoint file when non-empty.
	Resume string

	// MonitorEvery records RE against truth (monitoring only) every this
	// many epochs when the problem carries truth; 0 disables it.
	MonitorEvery int

	// Logger receives rollbacks and progress; nil means slog.Default().
	Logger *slog.Logger

	// Workers is the number of goroutines of the compute backend; 0 means
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int

	// Device names the compute backend every step runs on
	// (kernels.Open; "" means "cpu"). A checkpoint may be resumed on
	// another device; the run then continues in that device's arithmetic.
	Device string

	// Deadline, when not zero, is when the whole job must be done (a time
	// budget): training stops at an epoch boundary early enough for the
	// final evaluation, and a run that has the deadline from its first
	// epoch plans its learning-rate horizon from the measured epoch time
	// (see trainer.train). The numbers of the epochs trained do not depend
	// on it: the result records the epochs and the horizon that reproduce
	// them without a budget.
	Deadline time.Time

	// Ensemble is the number of networks trained (0 or 1: one). Member k
	// trains with seed MemberSeed(Config.Seed, k) on the same objective
	// (the uploaded data and buffers are shared; members train one after
	// the other), each with its own checkpoint (MemberPath) and an equal
	// share of the time left to the deadline; the result is their mean (or
	// one member, by EnsembleReduce), with the per-node, per-frame sample
	// std over all members (Result.UStd).
	Ensemble int

	// EnsembleReduce is what an ensemble's reconstruction is: ReduceMean
	// ("" too), the members' mean; ReduceLowestObjective, the member
	// with the lowest training objective at its last epoch (LowestObjective);
	// or ReduceNearLowest, the mean of the members whose objective over
	// their last epochs is indistinguishable from the lowest (NearLowest).
	// Either way UStd is the std over all members.
	EnsembleReduce string
}

// The reductions of an ensemble (Run.EnsembleReduce).
const (
	ReduceMean            = "mean"
	ReduceLowestObjective = "lowest-objective"
	ReduceNearLowest      = "near-lowest"
)

// DefaultRun returns the run settings of a plain run: no checkpoints,
// RE monitoring every epoch, all cores of the CPU backend, one network, no
// time budget.
func DefaultRun() Run { return Run{MonitorEvery: 1, Device: "cpu", Ensemble: 1} }

// device returns the backend name of the run.
func (r *Run) device() string {
	if r.Device == "" {
		return "cpu"
	}
	return r.Device
}

// Names lists the registered method names.
var Names = []string{"epdl-ad", "epdl-dnd", "epdl-nd", "eandarn"}

// DefaultConfig returns the default configuration of a registered method.
//
//	epdl-ad   FNN 10x10, AD Laplacian and time derivative, r_b on
//	epdl-dnd  FNN 10x10, ND Laplacian (Eq. 15), AD time derivative
//	epdl-nd   FNN 10x10, ND Laplacian and time derivative (Eq. 17–18)
//	eandarn   ARN NN6 (10 layers x 15, 3 blocks), ND Laplacian (Eq. 15), AD time derivative,
//	          16 Laplace–Beltrami eigenfunction inputs, physics mesh refined
//	          automatically, a time curriculum over the first third of the
//	          epochs, 300 epochs (the paper: TimeDeriv ND, LBInputs 0,
//	          PhysicsRefine 0, TimeCurriculum 0, 120 epochs; README "How
//	          EAND-ARN's defaults were chosen")
//
// EAND-ARN's time derivative differs from the paper's (Eq. 17–18, ND;
// TimeDeriv ND reproduces it): with the ND Laplacian the window pass
// carries the Taylor channel along t, so a step evaluates the network on
// the 8 batch frames with one extra channel instead of on up to 40 frames
// (each batch frame's 5-frame stencil). The loss is the same to 7 digits
// (the trained network is smooth at the frame spacing τ = 0.085: after 5
// epochs on the default dataset the two runs' losses and RE agree to 1e-7)
// and an epoch costs 1.7 times less CPU (default dataset, 1.13 against 1.97
// CPU-s per epoch under load, 2026-12-02).
//
// λ = 0.1 (paper Table III). The paper gives no optimizer settings; these
// were chosen by measurement on the default dataset (σ = 0.01): Adam, lr
// 1e-2 decaying exponentially to 1e-3 at the last epoch, 120 epochs (300 for
// eandarn) of
// mini-batches of 8 frames drawn at random (DESIGN §2: the reference found
// 8-frame batches and lr 1e-2 best). Random frames matter: contiguous
// 8-frame blocks reached RE 0.26 after 40 epochs, random frames 0.088
// (eandarn, seed 1), because consecutive steps on neighbouring frames
// pull the whole network towards one time window at a time.
//
// The network passes and the data products run in float32 by default
// (Precision; the losses, residuals and Adam stay float64): with float32
// passes the eandarn epoch took 246 ms instead of 438 ms (make bench-epoch,
// 2026-11-26), and the accuracy over 3 seeds was that of float64 within the
// seed spread (README, Accuracy). The gradient checks and the PyTorch
// float64 cross-check set "float64".
//
// ε is guarded by default (EpsDelta = ap.SuggestedEpsDelta: u clamped at
// −0.2 inside ε only). Measured over 20 seeds at the initial weights on the
// default dataset, the raw ε gives λ·L_EP/L_D > 10 for 13/20 NN5, 5/20 NN6
// and 12/20 EP-DL_AD networks (ratios up to 1e7: the pole), the guarded ε
// for 1/20, 0/20 and 1/20; the guard leaves physical solutions (u ≥ −0.05)
// and every well-initialized run unchanged.
func DefaultConfig(name string) (Config, error) {
	c := Config{
		Name:         name,
		Layers:       10,
		Width:        10,
		Lambda:       0.1,
		NormalStep:   0.5,
		EpsDelta:     ap.SuggestedEpsDelta,
		Operator:     "eq15",
		Precision:    "float32",
		Epochs:       120,
		BatchFrames:  8,
		RandomFrames: true,
		LR:           1e-2,
		LRFinal:      1e-3,
		Seed:         1,
		BadInitRatio: 10,
		MaxRetries:   4,
	}
	switch name {
	case "epdl-ad":
		c.Laplacian, c.TimeDeriv, c.Boundary = AD, AD, true
		c.Collocation = 1024
	case "epdl-dnd":
		c.Laplacian, c.TimeDeriv = ND, AD
	case "epdl-nd":
		c.Laplacian, c.TimeDeriv = ND, ND
	case "eandarn":
		c.Laplacian, c.TimeDeriv = ND, AD
		c.Width, c.Blocks = 15, 3
		c.LBInputs, c.PhysicsRefine, c.Epochs = 16, -1, 300
		c.TimeCurriculum = 1.0 / 3
	default:
		return Config{}, fmt.Errorf("pinn: unknown method %q (want one of %v)", name, Names)
	}
	return c, nil
}

// maxLBInputs bounds Config.LBInputs: beyond a few dozen eigenfunctions
// the inputs resolve finer detail than a network of width 15 can use (the
// CUDA backend takes at most 32 inputs, 28 eigenfunctions).
const maxLBInputs = 64

// maxPhysicsRefine bounds Config.PhysicsRefine: 3 subdivisions make 64
// times the heart's triangles.
const maxPhysicsRefine = 3

// validate checks the settings that would otherwise fail deep in training.
func (c *Config) validate() error {
	switch {
	case c.Laplacian != ND && c.Laplacian != AD:
		return fmt.Errorf("pinn: laplacian %q: want nd or ad", c.Laplacian)
	case c.TimeDeriv != ND && c.TimeDeriv != AD:
		return fmt.Errorf("pinn: time derivative %q: want nd or ad", c.TimeDeriv)
	case c.Laplacian == AD && c.TimeDeriv == ND:
		return fmt.Errorf("pinn: AD Laplacian with ND time derivative is not a paper variant")
	case c.Operator != "eq15" && c.Operator != "cotangent":
		return fmt.Errorf("pinn: laplacian operator %q: want eq15 or cotangent", c.Operator)
	case c.LBInputs < 0 || c.LBInputs > maxLBInputs:
		return fmt.Errorf("pinn: lb inputs %d: want 0 … %d", c.LBInputs, maxLBInputs)
	case c.LBInputs > 0 && c.Laplacian == AD:
		return fmt.Errorf("pinn: lb inputs need the ND Laplacian: the AD Laplacian differentiates the network in x, y, z, and the eigenfunction inputs depend on the surface position")
	case c.PhysicsRefine < -1 || c.PhysicsRefine > maxPhysicsRefine:
		return fmt.Errorf("pinn: physics refine %d: want −1 (automatic) or 0 … %d subdivisions", c.PhysicsRefine, maxPhysicsRefine)
	case c.Epochs < 0 || c.BatchFrames < 1 || c.Collocation < 0 || c.LRHorizon < 0:
		return fmt.Errorf("pinn: epochs %d, batch frames %d, collocation %d, lr horizon %d: want ≥0, ≥1, ≥0, ≥0", c.Epochs, c.BatchFrames, c.Collocation, c.LRHorizon)
	case !(c.LR > 0) || !(c.LRFinal > 0) || math.IsInf(c.LR+c.LRFinal, 0):
		return fmt.Errorf("pinn: learning rates %g → %g: want finite values > 0", c.LR, c.LRFinal)
	case !(c.Lambda >= 0) || math.IsInf(c.Lambda, 0):
		return fmt.Errorf("pinn: lambda %g: want a finite value ≥ 0", c.Lambda)
	case !(c.EpsDelta >= 0) || math.IsInf(c.EpsDelta, 0):
		return fmt.Errorf("pinn: eps delta %g: want a finite value ≥ 0 (0: the paper's raw ε)", c.EpsDelta)
	case c.Boundary && c.Laplacian == ND && (!(c.NormalStep > 0) || math.IsInf(c.NormalStep, 0)):
		return fmt.Errorf("pinn: normal step %g: want a finite value > 0", c.NormalStep)
	case !(c.TimeCurriculum >= 0 && c.TimeCurriculum <= 1):
		return fmt.Errorf("pinn: time curriculum %g: want a fraction of the learning-rate horizon in [0, 1] (0: off)", c.TimeCurriculum)
	case !(c.BadInitRatio >= 0) || math.IsInf(c.BadInitRatio, 0):
		// Finite, as every setting: the configuration is recorded and
		// hashed as JSON, which has no Inf.
		return fmt.Errorf("pinn: bad-initialization ratio %g: want a finite value ≥ 0", c.BadInitRatio)
	case c.MaxRetries < 0:
		return fmt.Errorf("pinn: max retries %d: want ≥ 0", c.MaxRetries)
	}
	if err := (nn.Config{Layers: c.Layers, Width: c.Width, Blocks: c.Blocks}).Validate(); err != nil {
		return fmt.Errorf("pinn: %w", err)
	}
	if _, err := kernels.ParseFloat(c.Precision); err != nil {
		return fmt.Errorf("pinn: precision %q: want float64 or float32", c.Precision)
	}
	return nil
}

// validate checks the run settings.
func (r *Run) validate() error {
	if r.CheckpointEvery < 0 || r.MonitorEvery < 0 || r.Workers < 0 || r.Ensemble < 0 {
		return fmt.Errorf("pinn: checkpoint every %d, monitor every %d, workers %d, ensemble %d: want ≥ 0 each", r.CheckpointEvery, r.MonitorEvery, r.Workers, r.Ensemble)
	}
	if !kernels.Registered(r.device()) {
		return fmt.Errorf("pinn: device %q: want one of %v", r.Device, kernels.Names())
	}
	switch r.EnsembleReduce {
	case "", ReduceMean, ReduceLowestObjective, ReduceNearLowest:
	default:
		return fmt.Errorf("pinn: ensemble reduction %q: want %s, %s or %s", r.EnsembleReduce, ReduceMean, ReduceLowestObjective, ReduceNearLowest)
	}
	return nil
}

// lr returns the learning rate of an epoch before any non-finite halving,
// exponential decay over a horizon of H epochs:
// lr_e = LR · (LRFinal/LR)^(min(e, H−1)/(H−1)), LR when H ≤ 1. Epoch 0
// has LR whatever H is, which is what lets a time budget plan H after
// timing epoch 0.
func (c *Config) lr(epoch, horizon int) float64 {
	if horizon <= 1 {
		return c.LR
	}
	return c.LR * math.Pow(c.LRFinal/c.LR, float64(min(epoch, horizon-1))/float64(horizon-1))
}

// horizon is the decay horizon of a run without a planned one: LRHorizon,
// or Epochs when it is 0.
func (c *Config) horizon() int {
	if c.LRHorizon > 0 {
		return c.LRHorizon
	}
	return c.Epochs
}

// asMap returns the configuration as a generic map for Result.Config.
func (c Config) asMap() map[string]any {
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// hash identifies a run for checkpoints: every setting that changes the
// numbers (all of Config; Run is left out), plus the problem's shapes and
// the bits of its R, BSPM, time axis, heart nodes and heart triangles (the
// same nodes joined differently give another Laplacian), so a checkpoint is
// never resumed against other settings or data.
//
// lb holds the eigenfunction inputs (Config.LBInputs) at the physics mesh's
// nodes: their bits are hashed too, so a checkpoint is not resumed with
// inputs that a different eigensolver (another build, another LAPACK)
// computed differently.
func (c Config) hash(p *inverse.Problem, lb [][]float64) string {
	h := sha256.New()
	b, _ := json.Marshal(c)
	h.Write(b)
	var buf [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(v))
		h.Write(buf[:])
	}
	for _, f := range lb {
		for _, v := range f {
			put(v)
		}
	}
	for _, m := range []interface {
		Dims() (int, int)
		At(i, j int) float64
	}{p.R, p.BSPM} {
		r, cc := m.Dims()
		put(float64(r))
		put(float64(cc))
		for i := 0; i < r; i++ {
			for j := 0; j < cc; j++ {
				put(m.At(i, j))
			}
		}
	}
	for _, t := range p.Time {
		put(t)
	}
	for _, x := range p.Heart.Nodes {
		put(x[0])
		put(x[1])
		put(x[2])
	}
	put(float64(len(p.Heart.Tris)))
	for _, tri := range p.Heart.Tris {
		for _, v := range tri {
			put(float64(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// curriculumStart is w0 of Config.TimeCurriculum: the fraction of the
// frames the first epoch draws from.
const curriculumStart = 0.1

// window returns T_e of Config.TimeCurriculum: epoch e of a run with decay
// horizon H draws its batches from the first T_e of the T frames.
func (c *Config) window(epoch, horizon, T int) int {
	ec := c.TimeCurriculum * float64(horizon)
	if float64(epoch) >= ec {
		return T
	}
	w := int(math.Ceil(float64(T) * (curriculumStart + (1-curriculumStart)*float64(epoch)/ec)))
	return min(T, max(w, c.BatchFrames))
}
