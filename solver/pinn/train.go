package pinn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"

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

// adamConfig holds Adam's hyperparameters (Kingma & Ba 2015 and PyTorch
// defaults: the paper does not give them); LR is set per step.
var adamConfig = kernels.AdamConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

// trainer runs Adam over mini-batches of frames.
type trainer struct {
	cfg    *Config
	run    *Run
	obj    *objective
	params []float64 // live network weights (the Net's Params)
	hash   string
	log    *slog.Logger

	st   *state
	rng  *rand.Rand
	pcg  *rand.PCG
	good *state // last good state, restored on a non-finite loss
	grad []float64
	adam *kernels.CPU // the parameters are host slices, wrapped without copies

	hooks
}

// hooks let tests act inside training: afterStep runs after each optimizer
// step with the step count; inject may replace a step's loss.
type hooks struct {
	afterStep func(step int)
	inject    func(step int, loss float64) float64
}

func newTrainer(cfg *Config, run *Run, obj *objective, params []float64, hash string, log *slog.Logger) *trainer {
	tr := &trainer{cfg: cfg, run: run, obj: obj, params: params, hash: hash, log: log, adam: kernels.NewCPU()}
	tr.pcg = rand.NewPCG(cfg.Seed, cfg.Seed^0x5851f42d4c957f2d)
	tr.rng = rand.New(tr.pcg)
	np := len(params)
	tr.grad = make([]float64, np)
	tr.st = &state{Version: checkpointVersion, Hash: hash, Params: params,
		M: make([]float64, np), V: make([]float64, np), LRScale: 1}
	return tr
}

// sync copies the live RNG state into st (Params is shared with the net).
func (tr *trainer) sync() {
	b, err := tr.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG marshaling cannot fail
	}
	tr.st.RNG = b
}

// restore makes s the live state: weights into the net, RNG from s.RNG.
func (tr *trainer) restore(s *state) error {
	copy(tr.params, s.Params)
	s.Params = tr.params
	tr.st = s
	if err := tr.pcg.UnmarshalBinary(s.RNG); err != nil {
		return fmt.Errorf("restore rng: %w", err)
	}
	return nil
}

func (tr *trainer) checkpoint() error {
	if tr.run.Checkpoint == "" {
		return nil
	}
	tr.sync()
	tr.st.Good = tr.good
	defer func() { tr.st.Good = nil }()
	return saveState(tr.run.Checkpoint, tr.st)
}

// train trains until Config.Epochs are done, the context is cancelled
// (checkpoint, ErrInterrupted) or the loss stays non-finite (ErrNonFinite).
//
// An epoch is ⌈T/B⌉ Adam steps on L = L_D + λ L_EP, each on a batch of B
// frames (see frames) in an order drawn from the seeded PCG, with N_c
// collocation points drawn from the batch's nodes × frames.
func (tr *trainer) train(ctx context.Context) error {
	cfg, run := tr.cfg, tr.run
	T, B := tr.obj.grid.T, cfg.BatchFrames
	nsteps := (T + B - 1) / B
	if run.Resume != "" {
		s, err := loadState(run.Resume, tr.hash, len(tr.params))
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
	}
	tr.sync()
	if tr.good == nil {
		tr.good = tr.st.clone()
	}
epochs:
	for tr.st.Epoch < cfg.Epochs {
		st := tr.st
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
				if cerr := tr.checkpoint(); cerr != nil {
					return fmt.Errorf("%w at step %d; %w", ErrInterrupted, st.Step, cerr)
				}
				return fmt.Errorf("%w at step %d (epoch %d): %w", ErrInterrupted, st.Step, st.Epoch, context.Cause(ctx))
			}
			frames := tr.frames(st.Order, st.Pos)
			idx := tr.obj.draw(tr.rng, len(frames), cfg.Collocation)
			clear(tr.grad)
			ld, lep, err := tr.obj.eval(frames, idx, tr.grad)
			if err != nil {
				return fmt.Errorf("step %d: %w", st.Step, err)
			}
			loss := ld + cfg.Lambda*lep
			if tr.inject != nil {
				loss = tr.inject(st.Step, loss)
			}
			if !finite(loss) || !finite(tr.grad...) {
				if err := tr.rollback(loss); err != nil {
					return err
				}
				continue epochs
			}
			st.AdamT++
			ac := adamConfig
			ac.LR = cfg.lr(st.Epoch) * st.LRScale
			if err := tr.adam.Adam(&kernels.HostBuffer{Data: tr.params}, &kernels.HostBuffer{Data: tr.grad},
				&kernels.HostBuffer{Data: st.M}, &kernels.HostBuffer{Data: st.V}, len(tr.params), st.AdamT, ac); err != nil {
				return fmt.Errorf("step %d: %w", st.Step, err)
			}
			st.EpLD += ld
			st.EpLEP += lep
			st.EpN++
			st.Pos++
			st.Step++
			tr.report(ctx, ac.LR)
			if run.CheckpointEvery > 0 && st.Step%run.CheckpointEvery == 0 {
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
	}
	return tr.checkpoint()
}

// frames returns the batch frames of step pos of an epoch: with
// RandomFrames, frames Order[pos·B … pos·B+B−1] of the epoch's permutation
// of all frames, sorted; otherwise the contiguous block Order[pos] of B
// frames.
func (tr *trainer) frames(order []int, pos int) []int {
	T, B := tr.obj.grid.T, tr.cfg.BatchFrames
	if tr.cfg.RandomFrames {
		f := slices.Clone(order[pos*B : min(T, pos*B+B)])
		slices.Sort(f)
		return f
	}
	return span(order[pos]*B, min(T, order[pos]*B+B))
}

// rollback restores the last good state (taken at the start of the epoch),
// halves the learning rate and counts the retry; after MaxRetries it gives
// up with ErrNonFinite.
func (tr *trainer) rollback(loss float64) error {
	st := tr.st
	retries, scale := st.Retries+1, st.LRScale/2
	tr.log.Warn("non-finite loss: rolling back to the start of the epoch and halving the learning rate",
		"step", st.Step, "epoch", st.Epoch, "loss", loss, "retry", retries, "lr_scale", scale)
	if retries > tr.cfg.MaxRetries {
		return fmt.Errorf("%w at step %d (epoch %d) after %d rollbacks with halved learning rates", ErrNonFinite, st.Step, st.Epoch, tr.cfg.MaxRetries)
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
