package pinn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/eandarn/eandarn/kernels"
	"github.com/eandarn/eandarn/solver/inverse"
)

// ErrInterrupted is returned (wrapped) when training stopped because its
// context was cancelled; the checkpoint, when configured, was written
// first, so a run with Run.Resume continues where this one stopped.
var ErrInterrupted = errors.New("training interrupted")

// ErrNonFinite is returned (wrapped) when the loss stayed non-finite after
// Config.MaxRetries rollbacks with halved learning rates.
var ErrNonFinite = errors.New("non-finite loss")

// ErrDataScale is returned (an input error) when the data term outweighs
// the physics term at the initial weights by more than 1/minInitRatio:
// the data are then on another scale than the model's normalized u (a
// BSPM in µV in a file that says normalized, an R with a gain of 1e30),
// the physics would be ignored, and in float32 the data gradient
// overflows.
var ErrDataScale = errors.New("the data are far off the model's scale")

// minInitRatio is the smallest λ·L_EP/L_D at the initial weights that is
// trained. Files on the model's scale start near 5e-3 (eandarn on the
// default dataset and on the ECGSim ventricles) or 6 (the EP-DL variants
// there), the raw ε's bad initializations above 10; a BSPM 1000 times too
// large divides the ratio by 1e6.
const minInitRatio = 1e-9

// ErrBudgetTooShort is returned (an input error) when the time budget
// (Run.Deadline) ends training before its first epoch is done: an
// untrained network is no reconstruction, so nothing is written.
var ErrBudgetTooShort = errors.New("the time budget ended before the first epoch finished; give a longer budget")

// adamConfig holds Adam's hyperparameters (Kingma & Ba 2015 and PyTorch
// defaults: the paper does not give them); LR is set per step.
var adamConfig = kernels.AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

// trainer runs Adam over mini-batches of frames. The weights and Adam's
// moments live on the objective's backend; st holds their host copies,
// brought up to date (pull) for checkpoints, the epoch's rollback snapshot
// and the result.
type trainer struct {
	cfg  *Config
	run  *Run
	obj  *objective
	hash string
	log  *slog.Logger

	st      *state
	rng     *rand.Rand
	pcg     *rand.PCG
	good    *state // last good state, restored on a non-finite loss
	frameB  []int  // the step's batch frames (reused)
	pending []issued
	stage   string // the progress stage, "training NAME"
	budget  budget

	hooks
}

// budget is the wall-clock side of Run.Deadline in one invocation of
// train: how long epochs take here, and whether the budget ended training.
type budget struct {
	last, longest time.Duration // the last and the longest epoch of this invocation
	ended         bool          // training stopped for the deadline before its epochs were done
}

// issued is a step whose losses have not been read back yet.
type issued struct{ step, epoch int }

// hooks let tests act inside training: afterStep runs after each optimizer
// step with the step count; inject may replace a step's loss.
type hooks struct {
	afterStep func(step int)
	inject    func(step int, loss float64) float64
	now       func() time.Time // the clock of the time budget (time.Now when nil)
}

// clock returns the time now, by the hook when set.
func (h hooks) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

func newTrainer(cfg *Config, run *Run, obj *objective, hash string, log *slog.Logger) *trainer {
	tr := &trainer{cfg: cfg, run: run, obj: obj, hash: hash, log: log, stage: "training " + cfg.Name}
	tr.pcg = rand.NewPCG(cfg.Seed, cfg.Seed^0x5851f42d4c957f2d)
	tr.rng = rand.New(tr.pcg)
	np := obj.net.NumParams()
	tr.st = &state{Version: checkpointVersion, Hash: hash, Params: obj.net.Params,
		M: make([]float64, np), V: make([]float64, np), LRScale: 1}
	tr.frameB = make([]int, 0, cfg.BatchFrames)
	tr.pending = make([]issued, 0, max(obj.be.SyncEvery(), 1))
	return tr
}

// sync copies the live RNG state into st.
func (tr *trainer) sync() {
	b, err := tr.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG marshaling cannot fail
	}
	tr.st.RNG = b
}

// pull copies the resident weights and moments into st (st.Params is the
// network's host Params).
func (tr *trainer) pull() error {
	if err := tr.obj.pull(tr.st.Params, tr.st.M, tr.st.V); err != nil {
		return fmt.Errorf("read weights from the backend: %w", err)
	}
	return nil
}

// restore makes s the live state: its weights and moments onto the
// backend and into the network's host Params, the RNG from s.RNG.
func (tr *trainer) restore(s *state) error {
	params := tr.obj.net.Params
	copy(params, s.Params)
	s.Params = params
	tr.st = s
	if err := tr.obj.push(s.Params, s.M, s.V); err != nil {
		return fmt.Errorf("restore weights on the backend: %w", err)
	}
	if err := tr.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("restore rng: %w", err)
	}
	return nil
}

func (tr *trainer) checkpoint() error {
	if tr.run.Checkpoint == "" {
		return nil
	}
	if err := tr.pull(); err != nil {
		return err
	}
	tr.sync()
	tr.st.Good = tr.good
	defer func() { tr.st.Good = nil }()
	return saveState(tr.run.Checkpoint, tr.st)
}

// train trains until its epochs are done (Config.Epochs, or the horizon a
// time budget planned), the time budget is spent (Run.Deadline), the
// context is cancelled (checkpoint, ErrInterrupted) or the loss stays
// non-finite (ErrNonFinite). It ends with a checkpoint.
//
// The time budget. Training stops at an epoch boundary: before an epoch
// when the last epoch's duration and the longest one (the reserve for the
// final evaluation, which costs less than an epoch) no longer fit before
// the deadline, or, when an epoch ran so long that the reserve no longer
// fits, within it, rolling back to its start (the rollback snapshot), so
// a budgeted run is always a whole number of epochs of one learning-rate
// schedule. A run that has the deadline from epoch 0 and no LRHorizon
// plans its horizon after epoch 0 (whose learning rate LR does not depend
// on the horizon): N = 1 + ⌊(deadline − now − d₀)/d₀⌋ epochs of d₀, the
// duration of epoch 0, at most Config.Epochs; from then on it is exactly
// the run with Epochs = N, and one the budget stops at epoch K < N (a
// slower machine) is the run with Epochs = K and LRHorizon = N. The plan
// is kept in the checkpoint: resuming (with a new budget) continues the
// same schedule.
//
// An epoch is ⌈T/B⌉ Adam steps on L = L_D + λ L_EP, each on a batch of B
// frames (see frames) in an order drawn from the seeded PCG, with N_c
// collocation points drawn from the batch's nodes × frames. A step runs on
// the backend without reading anything back; the losses of the steps
// issued since the last read come back (flush) every SyncEvery steps of the
// backend, at the end of an epoch and before a checkpoint, and a
// non-finite one rolls back to the start of the epoch, discarding the
// steps issued after it.
func (tr *trainer) train(ctx context.Context) error {
	cfg, run := tr.cfg, tr.run
	T, B := tr.obj.T, cfg.BatchFrames
	nsteps := (T + B - 1) / B
	if run.Resume != "" {
		s, err := loadState(run.Resume, tr.hash, len(tr.st.Params))
		if err != nil {
			return err
		}
		if err := s.check(cfg, T, nsteps, tr.obj.net.Config.Blocks, false); err != nil {
			return inverse.InputError(fmt.Errorf("resume %s: %w", run.Resume, err))
		}
		good := s.Good
		s.Good = nil
		if err := tr.restore(s); err != nil {
			return fmt.Errorf("resume %s: %w", run.Resume, err)
		}
		tr.good = good
		tr.log.Info("resumed", "path", run.Resume, "epoch", s.Epoch, "step", s.Step)
	}
	if !tr.st.HaveRatio0 {
		r, err := tr.obj.initRatio(B)
		if err != nil {
			return fmt.Errorf("initial loss ratio: %w", err)
		}
		tr.st.Ratio0, tr.st.HaveRatio0 = r, true
		tr.log.Info("initial loss ratio", "ratio0", r, "bad_init", r > cfg.BadInitRatio)
		if r < minInitRatio { // NaN (non-finite data or a pole) is left to the training's own checks
			return inverse.InputError(fmt.Errorf("%w: λ·L_EP/L_D = %.3g at the initial weights (below %g): "+
				"the BSPM and R are not on the scale of normalized potentials (u from 0 to 1); check the run file's units "+
				"(mV or uV with potential=transmembrane get the units link) and R's scale", ErrDataScale, r, minInitRatio))
		}
	}
	if f := cfg.TimeCurriculum; f > 0 {
		attrs := []any{"frames_at_epoch_0", cfg.window(0, tr.horizon(), T), "of", T, "fraction_of_lr_horizon", f}
		if run.Deadline.IsZero() || tr.st.Horizon > 0 { // a budget's horizon is planned after epoch 0
			attrs = append(attrs, "all_frames_from_epoch", int(math.Ceil(f*float64(tr.horizon()))))
		}
		tr.log.Info("time curriculum: batches drawn from the first frames, a window that grows to all of them", attrs...)
	}
	tr.sync()
	if tr.good == nil {
		tr.good = tr.st.clone()
	}
	K := cap(tr.pending)
	trainStart := tr.clock()
epochs:
	for tr.st.Epoch < tr.epochs() {
		st := tr.st
		if tr.outOfTime(tr.budget.last + tr.budget.longest) {
			tr.stopForBudget("before the epoch")
			break
		}
		begin, whole := tr.clock(), st.Pos == 0
		if st.Order == nil {
			if cfg.RandomFrames {
				st.Order = tr.rng.Perm(T)
			} else {
				st.Order = tr.rng.Perm(nsteps)
			}
		}
		for tr.st.Pos < nsteps {
			st = tr.st
			if err := ctx.Err(); err != nil {
				if _, err := tr.flush(); err != nil {
					return err
				}
				if cerr := tr.checkpoint(); cerr != nil {
					return fmt.Errorf("%w at step %d; %w", ErrInterrupted, tr.st.Step, cerr)
				}
				return fmt.Errorf("%w at step %d (epoch %d): %w", ErrInterrupted, tr.st.Step, tr.st.Epoch, context.Cause(ctx))
			}
			if tr.outOfTime(tr.budget.longest) {
				tr.pending = tr.pending[:0]
				if err := tr.restore(tr.good.clone()); err != nil {
					return err
				}
				tr.stopForBudget("within the epoch, rolled back to its start")
				break epochs
			}
			if err := tr.step(); err != nil {
				return err
			}
			due := run.CheckpointEvery > 0 && st.Step%run.CheckpointEvery == 0
			if len(tr.pending) == K || st.Pos == nsteps || due {
				rolledBack, err := tr.flush()
				if err != nil {
					return err
				}
				if rolledBack {
					continue epochs
				}
				tr.report(ctx, tr.lr(st.Epoch)*st.LRScale)
			}
			if due {
				if err := tr.checkpoint(); err != nil {
					return err
				}
			}
			if tr.afterStep != nil {
				tr.afterStep(st.Step)
			}
		}
		if err := tr.endEpoch(); err != nil {
			return err
		}
		if whole {
			tr.timeEpoch(tr.clock().Sub(begin))
		}
	}
	if tr.budget.ended && tr.st.Epoch == 0 {
		// An untrained network is no reconstruction: a budget this short
		// is the operator's mistake (a Slurm limit meant in minutes, say),
		// so it is refused, not written with exit status 0.
		left := tr.run.Deadline.Sub(trainStart).Round(time.Millisecond)
		if left <= 0 {
			return inverse.InputError(fmt.Errorf("%w: it was spent %v before training began (by loading and setup)", ErrBudgetTooShort, -left))
		}
		return inverse.InputError(fmt.Errorf("%w: %v were left when training began", ErrBudgetTooShort, left))
	}
	return tr.checkpoint()
}

// epochs is the number of epochs the run trains: the planned horizon, or
// Config.Epochs.
func (tr *trainer) epochs() int {
	if tr.st.Horizon > 0 {
		return tr.st.Horizon
	}
	return tr.cfg.Epochs
}

// lr is the learning rate of an epoch before any non-finite halving, on the
// planned horizon or the configured one.
func (tr *trainer) lr(epoch int) float64 { return tr.cfg.lr(epoch, tr.horizon()) }

// outOfTime reports whether a deadline is set and now + need is past it.
func (tr *trainer) outOfTime(need time.Duration) bool {
	d := tr.run.Deadline
	return !d.IsZero() && tr.clock().Add(need).After(d)
}

// stopForBudget records that the deadline ended training and logs where.
func (tr *trainer) stopForBudget(where string) {
	tr.budget.ended = true
	tr.log.Info("time budget spent: training stopped", "where", where, "epochs", tr.st.Epoch, "of", tr.epochs(), "lr_horizon", tr.horizon(), "step", tr.st.Step)
}

// horizon is the decay horizon in force.
func (tr *trainer) horizon() int {
	if tr.st.Horizon > 0 {
		return tr.st.Horizon
	}
	return tr.cfg.horizon()
}

// timeEpoch records the duration d of the epoch just finished (a whole
// epoch, not the rest of a resumed one) and, after
// epoch 0 of a budgeted run without a horizon of its own, plans the horizon
// (see train).
func (tr *trainer) timeEpoch(d time.Duration) {
	b := &tr.budget
	b.last, b.longest = d, max(b.longest, d)
	if tr.run.Deadline.IsZero() || tr.st.Epoch != 1 || tr.st.Horizon != 0 || tr.cfg.LRHorizon != 0 || d <= 0 {
		return
	}
	left := tr.run.Deadline.Sub(tr.clock()) - d
	n := 1 + max(int64(left/d), 0)
	tr.st.Horizon = int(min(n, int64(tr.cfg.Epochs)))
	tr.good.Horizon = tr.st.Horizon
	tr.log.Info("time budget: planned the learning-rate horizon", "epochs", tr.st.Horizon, "epoch_seconds", d.Seconds(), "deadline", tr.run.Deadline.Format(time.RFC3339))
}

// step issues the optimizer step at the current position of the epoch:
// the batch and its collocation points, the loss and gradient (eval) and
// Adam, all on the backend; its losses are read later (flush).
func (tr *trainer) step() error {
	st := tr.st
	frames := tr.frames(st.Order, st.Pos)
	idx := tr.obj.draw(tr.rng, len(frames), tr.cfg.Collocation)
	if err := tr.obj.eval(frames, idx, len(tr.pending)); err != nil {
		return fmt.Errorf("step %d: %w", st.Step, err)
	}
	st.AdamT++
	if err := tr.obj.adam(st.AdamT, tr.lr(st.Epoch)*st.LRScale); err != nil {
		return fmt.Errorf("step %d: %w", st.Step, err)
	}
	tr.pending = append(tr.pending, issued{st.Step, st.Epoch})
	st.Pos++
	st.Step++
	return nil
}

// flush reads back the losses of the pending steps and adds them, in step
// order, to the epoch's sums. A non-finite loss or gradient rolls back
// (rollback) and reports true; the steps issued after it are discarded.
func (tr *trainer) flush() (rolledBack bool, err error) {
	if len(tr.pending) == 0 {
		return false, nil
	}
	rec, err := tr.obj.readRecord(len(tr.pending))
	if err != nil {
		return false, fmt.Errorf("read losses: %w", err)
	}
	st := tr.st
	for k, p := range tr.pending {
		ld, lep, gradOK := rec[3*k], rec[3*k+1], rec[3*k+2] == 1
		loss := ld + tr.cfg.Lambda*lep
		if tr.inject != nil {
			loss = tr.inject(p.step, loss)
		}
		if !finite(loss) || !gradOK {
			tr.pending = tr.pending[:0]
			return true, tr.rollback(loss, p)
		}
		st.EpLD += ld
		st.EpLEP += lep
		st.EpN++
	}
	tr.pending = tr.pending[:0]
	return false, nil
}

// frames returns the batch frames of step pos of an epoch: with
// RandomFrames, frames Order[pos·B … pos·B+B−1] of the epoch's permutation
// of all frames, sorted; otherwise the contiguous block Order[pos] of B
// frames. Under Config.TimeCurriculum the permutation's frame k stands for
// frame ⌊k·T_e/T⌋ of the epoch's window (block k for block ⌊k·N_e/N⌋ of
// the N_e = ⌈T_e/B⌉ blocks in it): every frame of the window is drawn
// ⌊T/T_e⌋ or ⌈T/T_e⌉ times an epoch, and a frame drawn twice for one batch
// is taken once.
func (tr *trainer) frames(order []int, pos int) []int {
	T, B := tr.obj.T, tr.cfg.BatchFrames
	w := tr.cfg.window(tr.st.Epoch, tr.horizon(), T)
	if tr.cfg.RandomFrames {
		f := tr.frameB[:0]
		for _, k := range order[pos*B : min(T, pos*B+B)] {
			f = append(f, k*w/T)
		}
		slices.Sort(f)
		return slices.Compact(f)
	}
	nsteps, blocks := (T+B-1)/B, (w+B-1)/B
	k := order[pos] * blocks / nsteps
	return span(tr.frameB, k*B, min(T, k*B+B))
}

// rollback restores the last good state (taken at the start of the epoch),
// halves the learning rate and counts the retry; after MaxRetries it gives
// up with ErrNonFinite.
func (tr *trainer) rollback(loss float64, at issued) error {
	st := tr.st
	retries, scale := st.Retries+1, st.LRScale/2
	tr.log.Warn("non-finite loss: rolling back to the start of the epoch and halving the learning rate",
		"step", at.step, "epoch", at.epoch, "loss", loss, "retry", retries, "lr_scale", scale)
	if retries > tr.cfg.MaxRetries {
		return fmt.Errorf("%w at step %d (epoch %d) after %d rollbacks with halved learning rates", ErrNonFinite, at.step, at.epoch, tr.cfg.MaxRetries)
	}
	if err := tr.restore(tr.good.clone()); err != nil {
		return err
	}
	tr.st.Retries, tr.st.LRScale = retries, scale
	return nil
}

// endEpoch records the epoch's mean losses, the monitoring RE and the ARN α
// values, and takes the new rollback snapshot.
func (tr *trainer) endEpoch() error {
	st := tr.st
	if err := tr.pull(); err != nil {
		return err
	}
	n := float64(max(st.EpN, 1))
	st.LossData = append(st.LossData, st.EpLD/n)
	st.LossEP = append(st.LossEP, st.EpLEP/n)
	st.Alpha = append(st.Alpha, tr.obj.net.Alphas())
	attrs := []any{"epoch", st.Epoch, "loss_data", st.EpLD / n, "loss_ep", st.EpLEP / n}
	if me := tr.run.MonitorEvery; me > 0 && tr.obj.truth != nil && (st.Epoch+1)%me == 0 {
		re, err := tr.obj.monitorRE()
		if err != nil {
			return fmt.Errorf("epoch %d: monitor: %w", st.Epoch, err)
		}
		st.REMonitor = append(st.REMonitor, re)
		attrs = append(attrs, "re_monitor", re)
	}
	tr.log.Debug("epoch", attrs...)
	st.EpLD, st.EpLEP, st.EpN = 0, 0, 0
	st.Epoch++
	st.Pos = 0
	st.Order = nil
	tr.sync()
	tr.good = st.clone()
	return nil
}
