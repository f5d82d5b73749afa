package pinn

import (
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/eandarn/eandarn/io/atomicfile"
	"github.com/eandarn/eandarn/io/inputs"
	"github.com/eandarn/eandarn/solver/inverse"
)

// checkpointVersion changes whenever the state layout or the meaning of its
// hash changes (2: the hash covers Config only, the run settings moved to Run).
const checkpointVersion = 2

// state is everything training needs to continue exactly where it stopped:
// a run restored from a state ends bit-identical to one that never stopped.
type state struct {
	Version int
	Hash    string // Config.hash of the run that wrote it

	Params []float64 // network weights, the network's flat order
	M, V   []float64 // Adam first and second moments
	AdamT  int       // Adam step count (bias correction)

	Epoch   int   // current epoch
	Pos     int   // next batch index within Order
	Order   []int // this epoch's batch order (block indices)
	Step    int   // optimizer steps taken
	LRScale float64
	Retries int    // non-finite losses met so far
	RNG     []byte // PCG state after drawing Order and the collocation points so far

	// Horizon is the learning-rate horizon a time budget planned after
	// epoch 0 (0: none planned; the run then has Config.Epochs epochs and
	// Config's horizon). A checkpoint written before this field existed
	// decodes with 0, which is what it meant.
	Horizon int

	// History, so a resumed run returns the same Result.
	LossData, LossEP, REMonitor []float64
	Alpha                       [][]float64 // per epoch, the ARN block α values
	EpLD, EpLEP                 float64     // running sums of the current epoch
	EpN                         int
	Ratio0                      float64
	HaveRatio0                  bool

	// Good is the rollback snapshot (the start of the epoch) at the time
	// of the checkpoint, so a resumed run rolls back exactly as an
	// uninterrupted one would; nil inside a snapshot.
	Good *state
}

// clone returns a deep copy (the in-memory rollback snapshot).
func (s *state) clone() *state {
	c := *s
	c.Good = nil
	c.Params = append([]float64(nil), s.Params...)
	c.M = append([]float64(nil), s.M...)
	c.V = append([]float64(nil), s.V...)
	c.Order = append([]int(nil), s.Order...)
	c.RNG = append([]byte(nil), s.RNG...)
	c.LossData = append([]float64(nil), s.LossData...)
	c.LossEP = append([]float64(nil), s.LossEP...)
	c.REMonitor = append([]float64(nil), s.REMonitor...)
	c.Alpha = make([][]float64, len(s.Alpha))
	for i, a := range s.Alpha {
		c.Alpha[i] = append([]float64(nil), a...)
	}
	return &c
}

// saveState writes s to path atomically (io/atomicfile: a temporary file
// in the same folder, synced, renamed over path, the folder synced), so a
// crash never leaves a torn checkpoint.
func saveState(path string, s *state) error {
	err := atomicfile.WriteFile(path, func(tmp string) error {
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		return errors.Join(gob.NewEncoder(f).Encode(s), f.Close())
	})
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// ErrConfigMismatch is returned (wrapped) when a resume file was written by
// another configuration or for other data.
var ErrConfigMismatch = errors.New("checkpoint from another configuration")

// loadState reads a checkpoint and checks that it belongs to the run with
// the given hash and network size. Every error is the checkpoint's fault
// (inverse.ErrInput): unreadable, not a checkpoint, another run's.
func loadState(path, hash string, nparams int) (*state, error) {
	f, err := inputs.Open(path)
	if err != nil {
		return nil, inverse.InputError(fmt.Errorf("resume %s: %w", path, err))
	}
	defer f.Close()
	var s state
	if err := gob.NewDecoder(f).Decode(&s); err != nil {
		return nil, inverse.InputError(fmt.Errorf("resume %s: not a checkpoint of this program (truncated or damaged?): %w", path, err))
	}
	switch {
	case s.Version != checkpointVersion:
		err = fmt.Errorf("resume %s: checkpoint version %d, want %d", path, s.Version, checkpointVersion)
	case s.Hash != hash:
		err = fmt.Errorf("resume %s: config hash %.12s…, this run %.12s… (settings or data differ): %w", path, s.Hash, hash, ErrConfigMismatch)
	case len(s.Params) != nparams || len(s.M) != nparams || len(s.V) != nparams:
		err = fmt.Errorf("resume %s: %d parameters, want %d", path, len(s.Params), nparams)
	}
	return &s, inverse.InputError(err)
}

// check refuses a state that this configuration cannot continue from: a
// crafted or damaged checkpoint whose hash matches but whose position,
// order, history or counters are out of range (an out-of-range batch index
// would panic; a position past the end would silently skip an epoch). T
// frames, nsteps steps per epoch, blocks ARN blocks; good says s is a
// rollback snapshot (taken at the start of an epoch, without its own).
func (s *state) check(cfg *Config, T, nsteps, blocks int, good bool) error {
	orderLen := nsteps
	if cfg.RandomFrames {
		orderLen = T
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint state: "+format, args...)
	}
	switch {
	case s.Epoch < 0 || s.Epoch > cfg.Epochs:
		return bad("epoch %d outside [0, %d]", s.Epoch, cfg.Epochs)
	case s.Horizon < 0 || s.Horizon > cfg.Epochs || (s.Horizon > 0 && s.Epoch > s.Horizon):
		return bad("planned horizon %d at epoch %d: want 0 or in [epoch, %d]", s.Horizon, s.Epoch, cfg.Epochs)
	case s.Pos < 0 || s.Pos > nsteps:
		return bad("batch position %d outside [0, %d]", s.Pos, nsteps)
	case s.Order == nil && s.Pos != 0:
		return bad("batch position %d without a batch order", s.Pos)
	case s.Order != nil && len(s.Order) != orderLen:
		return bad("batch order of %d entries, want %d", len(s.Order), orderLen)
	case s.Step < 0 || s.AdamT < 0 || s.EpN < 0 || s.Retries < 0 || s.Retries > cfg.MaxRetries:
		return bad("negative counters or %d retries (at most %d)", s.Retries, cfg.MaxRetries)
	case !(s.LRScale > 0) || s.LRScale > 1:
		return bad("learning-rate scale %g outside (0, 1]", s.LRScale)
	case len(s.LossData) != s.Epoch || len(s.LossEP) != s.Epoch || len(s.Alpha) != s.Epoch || len(s.REMonitor) > s.Epoch:
		return bad("history of %d/%d/%d/%d epochs at epoch %d", len(s.LossData), len(s.LossEP), len(s.Alpha), len(s.REMonitor), s.Epoch)
	case good && s.Good != nil:
		return bad("nested rollback snapshot")
	}
	seen := make([]bool, orderLen)
	for i, k := range s.Order {
		if k < 0 || k >= orderLen || seen[k] {
			return bad("batch order entry %d at [%d] is not part of a permutation of %d", k, i, orderLen)
		}
		seen[k] = true
	}
	for e, a := range s.Alpha {
		if len(a) != blocks {
			return bad("%d ARN α values at epoch %d, want %d", len(a), e, blocks)
		}
	}
	if err := new(rand.PCG).UnmarshalBinary(s.RNG); err != nil {
		return bad("random generator state: %v", err)
	}
	// Numbers a run never records: a rollback keeps non-finite losses out
	// of the history, Adam's second moments are squares and the losses
	// sums of squares. A damaged checkpoint holding them went on to write
	// its NaN loss, NaN ARN α or infinite ratio0 into the result, with
	// exit status 0 (and an infinite ratio0 counted as a bad
	// initialization), or trained from NaN weights after a rollback.
	for _, v := range []struct {
		name   string
		x      []float64
		nonneg bool
	}{
		{"network weights", s.Params, false}, {"Adam first moments", s.M, false}, {"Adam second moments", s.V, true},
		{"data-loss history", s.LossData, true}, {"EP-loss history", s.LossEP, true},
		{"RE-monitor history", s.REMonitor, true}, // +Inf where the truth is zero
		{"epoch loss sums", []float64{s.EpLD, s.EpLEP}, true},
	} {
		want := "finite values"
		if v.nonneg {
			want += " ≥ 0"
		}
		for i, x := range v.x {
			if math.IsNaN(x) || (v.nonneg && x < 0) || (math.IsInf(x, 0) && v.name != "RE-monitor history") {
				return bad("%s: want %s, got %v at [%d]", v.name, want, x, i)
			}
		}
	}
	for e, a := range s.Alpha {
		for i, x := range a {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return bad("ARN α at epoch %d: want finite values, got %v at [%d]", e, x, i)
			}
		}
	}
	if s.HaveRatio0 && !(s.Ratio0 >= 0 && !math.IsInf(s.Ratio0, 0)) {
		return bad("initial loss ratio %v: want a finite value ≥ 0", s.Ratio0)
	}
	if s.Good != nil {
		if err := s.Good.check(cfg, T, nsteps, blocks, true); err != nil {
			return fmt.Errorf("rollback snapshot: %w", err)
		}
		if n := len(s.Params); len(s.Good.Params) != n || len(s.Good.M) != n || len(s.Good.V) != n {
			return bad("rollback snapshot with %d parameters, want %d", len(s.Good.Params), n)
		}
	}
	return nil
}
