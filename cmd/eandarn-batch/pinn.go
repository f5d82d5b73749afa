package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eandarn/eandarn/cmd/internal/cli"
	"github.com/eandarn/eandarn/cmd/internal/gpu"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/pinn"
)

// pinnOptions is what the PINN flags set: the method's configuration
// (hashed into checkpoints) and its run settings.
type pinnOptions struct {
	pinn.Config
	pinn.Run
	// Budget is -time-budget: the whole job's wall-clock budget from its
	// start (pinn.Run.Deadline = start + Budget); 0: none.
	Budget time.Duration
}

// budgetEpochs is -epochs under -time-budget when -epochs is not given:
// no cap in practice, so the budget alone sets the epochs.
const budgetEpochs = 1_000_000

// pinnFlag is a PINN setting on the command line. Its default depends on
// the method (pinn.DefaultConfig), so it is applied only when given; -h
// shows each method's default.
type pinnFlag struct {
	name, usage string
	field       func(*pinnOptions) any // pointer to the pinn.Config or pinn.Run field it sets
	value       string                 // as given on the command line
	set         bool
}

// pinnFlags returns fresh PINN flags (one set per parse, so concurrent
// sweep tasks never share them).
func pinnFlags() []*pinnFlag {
	return []*pinnFlag{
		{name: "epochs", usage: "training epochs (passes over all frames)", field: func(c *pinnOptions) any { return &c.Epochs }},
		{name: "lr", usage: "Adam learning rate at epoch 0", field: func(c *pinnOptions) any { return &c.LR }},
		{name: "lr-final", usage: "learning rate at the last epoch of the horizon (exponential decay)", field: func(c *pinnOptions) any { return &c.LRFinal }},
		{name: "lr-horizon", usage: "learning-rate decay horizon in epochs (lr reaches -lr-final at epoch H−1, then stays); 0 = -epochs. A run a time budget stopped early is reproduced by -epochs K -lr-horizon N (values epochs, lr_horizon)", field: func(c *pinnOptions) any { return &c.LRHorizon }},
		{name: "time-curriculum", usage: "fraction F of the lr horizon over which the frames batches are drawn from grow from the first 10% of the recording to all of it (causal training; 0: all frames from the start, the paper's and the EP-DL variants')", field: func(c *pinnOptions) any { return &c.TimeCurriculum }},
		{name: "time-budget", usage: "wall-clock budget of the whole job, e.g. 9m30s (0 = none): training stops at an epoch boundary in time to evaluate and write the result and checkpoint; a budget present from the start plans the lr horizon after epoch 0; -epochs is then a cap (default none)", field: func(c *pinnOptions) any { return &c.Budget }},
		{name: "ensemble", usage: "train K networks (member k: seed pinn.MemberSeed(-seed, k)) and write their mean and reconstruction/u_std", field: func(c *pinnOptions) any { return &c.Ensemble }},
		{name: "ensemble-reduce", usage: "an ensemble's reconstruction: mean (of the members), lowest-objective (the member with the lowest L_D + λ·L_EP at its last epoch) or near-lowest (the mean of the members whose L_D + λ·L_EP over their last 20 epochs is within 4 standard errors of the lowest); u_std is over all members either way", field: func(c *pinnOptions) any { return &c.EnsembleReduce }},
		{name: "batch-frames", usage: "frames per mini-batch", field: func(c *pinnOptions) any { return &c.BatchFrames }},
		{name: "collocation", usage: "collocation points N_c per mini-batch (0: every node x frame of the batch)", field: func(c *pinnOptions) any { return &c.Collocation }},
		{name: "ep-lambda", usage: "λ of Eq. 4, the weight of the EP loss: L = L_D + λ L_EP", field: func(c *pinnOptions) any { return &c.Lambda }},
		{name: "layers", usage: "dense layers, counting those inside residual blocks (paper Table I)", field: func(c *pinnOptions) any { return &c.Layers }},
		{name: "width", usage: "neurons per layer", field: func(c *pinnOptions) any { return &c.Width }},
		{name: "blocks", usage: "adaptive residual blocks (Eq. 11); 0 = plain FNN", field: func(c *pinnOptions) any { return &c.Blocks }},
		{name: "time-deriv", usage: "how u_t, v_t are computed: nd (the Eq. 17–18 stencil over frames; the paper's EAND-ARN) or ad (the network's derivative along t, from the same pass as u, v)", field: func(c *pinnOptions) any { return &c.TimeDeriv }},
		{name: "laplacian", usage: "the ND Laplacian's discretization: eq15 (the paper's Eq. 15) or cotangent (the consistent Laplace–Beltrami operator)", field: func(c *pinnOptions) any { return &c.Operator }},
		{name: "lb-inputs", usage: "extra network inputs: the first K Laplace–Beltrami eigenfunctions of the heart mesh (0: the paper's [x, y, z, t])", field: func(c *pinnOptions) any { return &c.LBInputs }},
		{name: "physics-refine", usage: "subdivisions of the heart mesh on which the residuals are evaluated (L_D stays on the heart's nodes); -1: automatic, until the mean edge is at most 1.5 upstroke widths (10.4 mm)", field: func(c *pinnOptions) any { return &c.PhysicsRefine }},
		{name: "boundary", usage: "add r_b = n·∇u (Eq. 8) to the EP loss", field: func(c *pinnOptions) any { return &c.Boundary }},
		{name: "precision", usage: "arithmetic of the network passes and of the data products with R: float64 or float32 (float32: 8 AVX2 lanes instead of 4; the losses, residuals and Adam stay float64)", field: func(c *pinnOptions) any { return &c.Precision }},
		{name: "eps-delta", usage: "guard of the pole of ε at u = −μ2: ε evaluated at max(u, −μ2 + δ); 0 = the paper's raw ε", field: func(c *pinnOptions) any { return &c.EpsDelta }},
		{name: "bad-init-ratio", usage: "step-0 λ·L_EP/L_D above which the run is flagged bad_init", field: func(c *pinnOptions) any { return &c.BadInitRatio }},
		{name: "max-retries", usage: "non-finite losses tolerated (roll back, halve lr) before failing", field: func(c *pinnOptions) any { return &c.MaxRetries }},
		{name: "monitor-every", usage: "record RE against truth (monitoring only) every this many epochs; 0 = never", field: func(c *pinnOptions) any { return &c.MonitorEvery }},
		{name: "checkpoint", usage: "checkpoint file, written atomically every -checkpoint-every steps and on SIGTERM/SIGINT; empty = none", field: func(c *pinnOptions) any { return &c.Checkpoint }},
		{name: "checkpoint-every", usage: "checkpoint cadence in steps (0: only on SIGTERM/SIGINT)", field: func(c *pinnOptions) any { return &c.CheckpointEvery }},
	}
}

// String is the flag's default as -h shows it: the common default of the
// PINN methods, or each method's when they differ.
func (f *pinnFlag) String() string {
	if f == nil || f.field == nil {
		return ""
	}
	if f.set {
		return f.value
	}
	return pinnDefaults()[f.name]
}

// pinnDefaults holds String's text of each PINN flag's default, computed
// once: the flag package asks for it at every declaration, and a sweep
// declares the flags once per task.
var pinnDefaults = sync.OnceValue(func() map[string]string {
	texts := map[string]string{}
	for _, f := range pinnFlags() {
		defs := make([]string, len(pinn.Names))
		for i, name := range pinn.Names {
			c, _ := pinn.DefaultConfig(name)
			defs[i] = fieldString(f.field(&pinnOptions{Config: c, Run: pinn.DefaultRun()}))
		}
		if slices.Min(defs) == slices.Max(defs) {
			texts[f.name] = defs[0]
			continue
		}
		for i, name := range pinn.Names {
			defs[i] = name + " " + defs[i]
		}
		texts[f.name] = strings.Join(defs, ", ")
	}
	return texts
})

// Set checks that s parses as the field's type and records it.
func (f *pinnFlag) Set(s string) error {
	var c pinnOptions
	if err := setField(f.field(&c), s); err != nil {
		return err
	}
	f.value, f.set = s, true
	return nil
}

// TypeName names the argument type in -h.
func (f *pinnFlag) TypeName() string {
	var c pinnOptions
	switch f.field(&c).(type) {
	case *int:
		return "int"
	case *float64:
		return "float"
	case *string, *pinn.Deriv:
		return "string"
	case *time.Duration:
		return "duration"
	}
	return "" // a bool flag takes no argument
}

// IsBoolFlag lets a bool setting be given as -boundary alone.
func (f *pinnFlag) IsBoolFlag() bool {
	var c pinnOptions
	_, ok := f.field(&c).(*bool)
	return ok
}

func fieldString(p any) string {
	switch p := p.(type) {
	case *int:
		return strconv.Itoa(*p)
	case *float64:
		return strconv.FormatFloat(*p, 'g', -1, 64)
	case *bool:
		return strconv.FormatBool(*p)
	case *string:
		if *p == "" {
			return `""`
		}
		return *p
	case *time.Duration:
		return p.String()
	case *pinn.Deriv:
		return string(*p)
	}
	panic(fmt.Sprintf("pinn flag of type %T", p))
}

func setField(p any, s string) error {
	var err error
	switch p := p.(type) {
	case *int:
		*p, err = strconv.Atoi(s)
	case *float64:
		*p, err = strconv.ParseFloat(s, 64)
	case *bool:
		*p, err = strconv.ParseBool(s)
	case *string:
		*p = s
	case *time.Duration:
		*p, err = time.ParseDuration(s)
	case *pinn.Deriv:
		*p = pinn.Deriv(s)
	default:
		panic(fmt.Sprintf("pinn flag of type %T", p))
	}
	return err
}

// addPinnFlags declares the PINN flags and -resume on fs.
func addPinnFlags(fs *flag.FlagSet, c *config) {
	c.pinn = pinnFlags()
	for _, f := range c.pinn {
		fs.Var(f, f.name, "PINN: "+f.usage)
	}
	fs.BoolVar(&c.Resume, "resume", false, "PINN: continue from -checkpoint when that file exists (a requeued Slurm task reruns the same command)")
}

// pinnSettings returns the PINN flags given on the command line, for the
// result file's config record.
func pinnSettings(fs []*pinnFlag) map[string]string {
	m := make(map[string]string)
	for _, f := range fs {
		if f.set {
			m[f.name] = f.value
		}
	}
	return m
}

// fitBatch lowers the mini-batch of a PINN method to the frames of a
// recording shorter than the default batch (T = 5 is a valid run file; the
// default batch is 8 frames), as if -batch-frames T had been given, so that
// a valid file with default settings trains on all its frames instead of
// being refused; an explicit -batch-frames is left to the method's check.
// It reports whether it changed c.
func fitBatch(c *config, frames int) bool {
	if !slices.Contains(pinn.Names, c.Method) || slices.Contains(c.given, "batch-frames") {
		return false
	}
	cfg, err := pinnConfig(c)
	if err != nil || cfg.BatchFrames <= frames {
		return false
	}
	for _, f := range c.pinn {
		if f.name == "batch-frames" {
			f.value, f.set = strconv.Itoa(frames), true
		}
	}
	c.Pinn = pinnSettings(c.pinn)
	return true
}

// pinnConfig is the PINN configuration of c: the method's defaults, then
// the flags given.
func pinnConfig(c *config) (pinn.Config, error) {
	s, err := pinnOptionsOf(c)
	return s.Config, err
}

// pinnOptionsOf is the PINN configuration and run settings of c: the
// method's defaults, then the flags given.
func pinnOptionsOf(c *config) (pinnOptions, error) {
	cfg, err := pinn.DefaultConfig(c.Method)
	s := pinnOptions{Config: cfg, Run: pinn.DefaultRun()}
	if err != nil {
		return s, err
	}
	for _, f := range c.pinn {
		if f.set {
			if err := setField(f.field(&s), f.value); err != nil {
				return s, fmt.Errorf("-%s %q: %w", f.name, f.value, err)
			}
		}
	}
	return s, nil
}

// resolveDevice picks the backend of a PINN job from -device: auto, cpu and
// cuda as gpu.Resolve decides (a usable card in the CUDA build and float32
// arithmetic, else the reason), any other registered backend by its name.
func resolveDevice(device, precision string) (gpu.Choice, error) {
	if slices.Contains(gpu.Devices, device) {
		return gpu.Resolve(device, kernels.Registered("cuda"), precision == "float64")
	}
	return gpu.Choice{Device: device, Why: "-device " + device}, nil
}

// pinnMethod builds a PINN method: its configuration and run settings
// (pinnOptionsOf; config.validate checked them and the network's size), the
// seed, the logger, the device and the resume decision.
func pinnMethod(c *config, log *slog.Logger) (inverse.Method, error) {
	s, err := pinnOptionsOf(c)
	if err != nil {
		return nil, err
	}
	s.Seed = c.Seed
	s.Logger = log
	dev, err := resolveDevice(c.Device, s.Precision)
	if err != nil {
		return nil, err
	}
	s.Device = dev.Device
	if err := budgetAndEnsemble(c, &s); err != nil {
		return nil, err
	}
	if c.Resume {
		if s.Checkpoint == "" {
			return nil, fmt.Errorf("-resume needs -checkpoint PATH")
		}
		if _, err := os.Stat(s.Checkpoint); err == nil || s.Ensemble >= 2 {
			// An ensemble's members resume from their own files
			// (pinn.MemberPath), each when it exists.
			s.Resume = s.Checkpoint
		}
	}
	m, err := pinn.New(c.Method, s.Config, s.Run)
	if err != nil {
		return nil, err
	}
	um, err := pinnUnits(m, log)
	if err != nil {
		return nil, err
	}
	c.device = dev
	log.Info("device", "device", dev.Device, "card", dev.Card, "why", dev.Why)
	return um, nil
}

// checkRunFlags checks -time-budget and -ensemble (config.validate, so a
// sweep refuses them before its first task).
func checkRunFlags(s pinnOptions) error {
	if s.Budget < 0 {
		return fmt.Errorf("-time-budget %v: want a duration ≥ 0 (0: none)", s.Budget)
	}
	if s.Ensemble < 1 || s.Ensemble > maxEnsemble {
		return fmt.Errorf("-ensemble %d: want 1 to %d networks", s.Ensemble, maxEnsemble)
	}
	return nil
}

// maxEnsemble bounds -ensemble: members train one after the other, so a
// mistyped count (-ensemble 1000000) would otherwise run for years.
const maxEnsemble = 1000

// budgetAndEnsemble applies the time budget: the deadline counts from the
// job's start, and without -epochs the budget alone sets the epochs
// (budgetEpochs).
func budgetAndEnsemble(c *config, s *pinnOptions) error {
	if err := checkRunFlags(*s); err != nil {
		return err
	}
	if s.Budget > 0 {
		s.Deadline = c.start.Add(s.Budget)
		if !slices.Contains(c.given, "epochs") {
			s.Epochs = budgetEpochs
		}
	}
	return nil
}

// checkNetworkMemory refuses a network whose parameters, with the copies
// training keeps of them, would not fit the memory budget (-max-memory),
// before anything is allocated: -width 100000000 would ask for 10^17
// parameters. The bound is Layers·(max(Width, 4+LBInputs)+5)·(Width+1)
// parameters (each of the dense layers has at most that many weights and
// biases: 4+LBInputs or Width inputs, Width or 2 outputs), 8 bytes each, 10 copies (weights, gradient,
// Adam's two moments, the rollback snapshot of the three, the checkpoint
// being encoded).
func checkNetworkMemory(cfg pinn.Config) error {
	w := max(cfg.Width, 4+cfg.LBInputs) + 5
	per, err := inputs.Bytes(max(w, 0), max(cfg.Width+1, 0))
	if err == nil {
		per, err = inputs.Bytes(int(per), max(cfg.Layers, 0))
	}
	if err == nil {
		per, err = inputs.Bytes(int(per), 8*10)
	}
	what := fmt.Sprintf("network of -layers %d -width %d (parameters and their training copies)", cfg.Layers, cfg.Width)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	var t inputs.Tally
	return t.AddBytes(what, per)
}

// checkpointFiles are the checkpoint files a job writes, as outputs for
// cli.CheckFiles: -checkpoint P itself, or, with -ensemble K ≥ 2, the
// members' files P.member0 … P.member<K−1> (pinn.MemberPath), which are
// what such a job writes (P is never written). Checking P alone let a
// member's checkpoint replace the input (-in x.member1 -checkpoint x) or
// the result (-out x.member1), and the next write of either replace the
// other, with exit status 0. K is the validated -ensemble (the method was
// built before the files are checked).
func checkpointFiles(c *config) []cli.File {
	p := c.Pinn["checkpoint"]
	k, err := strconv.Atoi(c.Pinn["ensemble"])
	if p == "" || err != nil || k < 2 {
		return []cli.File{{Flag: "-checkpoint", Path: p}}
	}
	files := make([]cli.File, k)
	for i := range files {
		files[i] = cli.File{Flag: fmt.Sprintf("ensemble member %d's checkpoint", i), Path: pinn.MemberPath(p, i)}
	}
	return files
}
