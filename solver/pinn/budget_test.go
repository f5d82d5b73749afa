package pinn

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eandarn/eandarn/solver/inverse"
)

// stepClock is a clock for the time budget that moves only when a step is
// taken (afterStep), by perStep, plus jumps a test adds: epoch durations
// are then exact and the same on every machine.
type stepClock struct {
	t       time.Time
	perStep time.Duration
}

func (c *stepClock) now() time.Time { return c.t }

// budgeted returns smallMethod with at most 50 epochs, a deadline of
// budget on a stepClock of 1 s per step (6 steps per epoch on
// tinyProblem(11, 24)), and change applied to the clock after each step.
func budgeted(t *testing.T, dir string, budget time.Duration, change func(c *stepClock, step int)) *Method {
	m := smallMethod(t, "eandarn", dir)
	m.Config.Epochs = 50
	c := &stepClock{t: time.Unix(1e9, 0), perStep: time.Second}
	m.Run.Deadline = c.t.Add(budget)
	m.hooks.now = c.now
	m.hooks.afterStep = func(step int) {
		c.t = c.t.Add(c.perStep)
		if change != nil {
			change(c, step)
		}
	}
	return m
}

// plain returns smallMethod with the given epochs and horizon, no budget.
func plain(t *testing.T, dir string, epochs, horizon int) *Method {
	m := smallMethod(t, "eandarn", dir)
	m.Config.Epochs, m.Config.LRHorizon = epochs, horizon
	return m
}

func sameRun(t *testing.T, what string, a, b *inverse.Result) {
	t.Helper()
	if !reflect.DeepEqual(a.U.RawMatrix().Data, b.U.RawMatrix().Data) {
		t.Errorf("%s: reconstructions differ", what)
	}
	for _, k := range []string{"loss_data", "loss_ep", "re_monitor"} {
		if !reflect.DeepEqual(a.Series[k], b.Series[k]) {
			t.Errorf("%s: series %s differ: %v and %v", what, k, a.Series[k], b.Series[k])
		}
	}
	for _, k := range []string{"steps", "epochs", "lr_horizon"} {
		if a.Values[k] != b.Values[k] {
			t.Errorf("%s: %s %v and %v", what, k, a.Values[k], b.Values[k])
		}
	}
}

// TestTimeBudget: a budget of 60 s with epochs of 6 s plans the horizon
// after epoch 0 as N = 1 + ⌊(60 − 6 − 6)/6⌋ = 9 epochs and trains exactly
// them (the last ends at 54 s, leaving one epoch's time for the final
// evaluation); a machine that slows down after the plan is stopped before
// an epoch that no longer fits; a clock jump inside an epoch rolls that
// epoch back and stops. Each ends with a checkpoint and records epochs K
// and horizon N, and the run with Epochs = K, LRHorizon = N and no budget
// reproduces it bit for bit; resuming the stopped run's checkpoint
// without a budget finishes the plan exactly as the -epochs N run.
func TestTimeBudget(t *testing.T) {
	p := tinyProblem(11, 24)
	solve := func(m *Method) *inverse.Result {
		t.Helper()
		r, err := m.Solve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	full := solve(plain(t, t.TempDir(), 9, 0))
	for _, c := range []struct {
		name          string
		change        func(c *stepClock, step int)
		epochs, ended int
	}{
		{"plan kept", nil, 9, 1},
		{"slower after epoch 3", func(c *stepClock, step int) {
			if step == 18 {
				c.perStep = 2 * time.Second
			}
		}, 5, 1}, // epochs of 12 s from 18 s: epoch 3 ends at 30, epoch 4 at 42, and 42 + 12 + 12 > 60
		{"jump inside epoch 3", func(c *stepClock, step int) {
			if step == 20 {
				c.t = c.t.Add(40 * time.Second) // 60 s at step 20: the reserve of one epoch no longer fits
			}
		}, 3, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			m := budgeted(t, dir, 60*time.Second, c.change)
			r := solve(m)
			if r.Values["epochs"] != float64(c.epochs) || r.Values["lr_horizon"] != 9 || r.Values["budget_ended"] != float64(c.ended) {
				t.Fatalf("epochs %v, lr_horizon %v, budget_ended %v; want %d, 9, %d", r.Values["epochs"], r.Values["lr_horizon"], r.Values["budget_ended"], c.epochs, c.ended)
			}
			horizon := 9
			if c.epochs == 9 {
				horizon = 0 // -epochs 9 alone
			}
			sameRun(t, "budgeted against -epochs K -lr-horizon 9", r, solve(plain(t, t.TempDir(), c.epochs, horizon)))
			s, err := loadState(m.Run.Checkpoint, checkpointHash(t, m, p), len(finalParams(t, m.Run.Checkpoint)))
			if err != nil || s.Epoch != c.epochs || s.Horizon != 9 || s.Pos != 0 {
				t.Fatalf("checkpoint at the stop: epoch %d, horizon %d, position %d (err %v); want %d, 9, 0", s.Epoch, s.Horizon, s.Pos, err, c.epochs)
			}
			resumed := smallMethod(t, "eandarn", dir)
			resumed.Config.Epochs = 50 // the budgeted run's configuration, its plan from the checkpoint
			resumed.Run.Resume = m.Run.Checkpoint
			sameRun(t, "resumed without a budget against -epochs 9", solve(resumed), full)
		})
	}

	// A budget that a capped run does not need changes nothing.
	m := budgeted(t, t.TempDir(), time.Hour, nil)
	m.Config.Epochs = 3
	r := solve(m)
	if r.Values["budget_ended"] != 0 || r.Values["lr_horizon"] != 3 {
		t.Errorf("capped run: budget_ended %v, lr_horizon %v; want 0 and 3", r.Values["budget_ended"], r.Values["lr_horizon"])
	}
	sameRun(t, "budget larger than the run", r, solve(plain(t, t.TempDir(), 3, 0)))

	// A budget spent inside epoch 0 leaves an untrained network: refused as
	// an input error, and no checkpoint is written.
	m = budgeted(t, t.TempDir(), 3*time.Second, nil)
	m.Run.Checkpoint = filepath.Join(t.TempDir(), "short.ckpt")
	if r, err := m.Solve(context.Background(), p); !errors.Is(err, ErrBudgetTooShort) || !errors.Is(err, inverse.ErrInput) {
		t.Errorf("budget spent in epoch 0: result %v, error %v; want ErrBudgetTooShort, an input error", r != nil, err)
	}
	if _, err := os.Stat(m.Run.Checkpoint); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("budget spent in epoch 0 wrote a checkpoint (stat: %v)", err)
	}
}

// TestLRHorizon: the learning rate decays from LR to LRFinal over the
// horizon and stays at LRFinal after it; epoch 0 has LR whatever the
// horizon.
func TestLRHorizon(t *testing.T) {
	c := Config{LR: 1e-2, LRFinal: 1e-3}
	for _, x := range []struct {
		epoch, horizon int
		want           float64
	}{
		{0, 0, 1e-2}, {0, 1, 1e-2}, {0, 100, 1e-2}, {5, 1, 1e-2},
		{99, 100, 1e-3}, {150, 100, 1e-3}, {2, 3, 1e-3}, {1, 3, 1e-2 * 0.31622776601683794},
	} {
		if got := c.lr(x.epoch, x.horizon); math.Abs(got-x.want) > 1e-15*x.want {
			t.Errorf("lr(epoch %d, horizon %d) = %v, want %v", x.epoch, x.horizon, got, x.want)
		}
	}
}
