package pinn

import (
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkpointVersion changes whenever the state layout changes.
const checkpointVersion = 1

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

// saveState writes s to path atomically: a temporary file in the same
// folder, synced, then renamed over path, so a crash never leaves a torn
// checkpoint.
func saveState(path string, s *state) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	tmp := f.Name()
	err = gob.NewEncoder(f).Encode(s)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// ErrConfigMismatch is returned (wrapped) when a resume file was written by
// another configuration or for other data.
var ErrConfigMismatch = errors.New("checkpoint from another configuration")

// loadState reads a checkpoint and checks that it belongs to the run with
// the given hash and network size.
func loadState(path, hash string, nparams int) (*state, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", path, err)
	}
	defer f.Close()
	var s state
	if err := gob.NewDecoder(f).Decode(&s); err != nil {
		return nil, fmt.Errorf("resume %s: decode: %w", path, err)
	}
	switch {
	case s.Version != checkpointVersion:
		return nil, fmt.Errorf("resume %s: checkpoint version %d, want %d", path, s.Version, checkpointVersion)
	case s.Hash != hash:
		return nil, fmt.Errorf("resume %s: config hash %.12s…, this run %.12s… (settings or data differ): %w", path, s.Hash, hash, ErrConfigMismatch)
	case len(s.Params) != nparams || len(s.M) != nparams || len(s.V) != nparams:
		return nil, fmt.Errorf("resume %s: %d parameters, want %d", path, len(s.Params), nparams)
	}
	return &s, nil
}
