package pinn

import (
	"context"
	"encoding/gob"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
)

// smallMethod is a quick training setup on tinyProblem: it draws
// collocation subsets, so the RNG state matters for resuming.
func smallMethod(t *testing.T, name, dir string) *Method {
	t.Helper()
	cfg, err := DefaultConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.BatchFrames, cfg.Collocation = 3, 4, 60
	run := DefaultRun()
	run.Checkpoint = filepath.Join(dir, "ckpt.gob")
	run.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Method{Config: cfg, Run: run}
}

func finalParams(t *testing.T, path string) []float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st state
	if err := gob.NewDecoder(f).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Params
}

// nanOnce returns an inject hook that makes the loss of the given step NaN
// the first time it is reached.
func nanOnce(step int) func(int, float64) float64 {
	fired := false
	return func(s int, loss float64) float64 {
		if s == step && !fired {
			fired = true
			return math.NaN()
		}
		return loss
	}
}

// TestResumeBitIdentical interrupts training with SIGTERM (turned into
// context cancellation as cmd/eandarn-batch does), resumes from the
// checkpoint and requires the same final weights, reconstruction and loss
// history, bit for bit, as an uninterrupted run. Both runs also meet a NaN
// loss after the interruption point, so the rollback snapshot must survive
// the checkpoint too.
func TestResumeBitIdentical(t *testing.T) {
	for _, tc := range []struct {
		name       string
		curriculum float64 // Config.TimeCurriculum: the interruption falls inside its growing window
	}{{"eandarn", 0}, {"eandarn", 1}, {"epdl-ad", 0}} {
		name := tc.name
		smallMethod := func(t *testing.T, name, dir string) *Method {
			m := smallMethod(t, name, dir)
			m.Config.TimeCurriculum = tc.curriculum
			return m
		}
		p := tinyProblem(11, 24)
		dirA, dirB := t.TempDir(), t.TempDir()

		a := smallMethod(t, name, dirA)
		a.hooks.inject = nanOnce(10)
		ra, err := a.Solve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}

		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		b := smallMethod(t, name, dirB)
		b.hooks.afterStep = func(step int) {
			if step == 8 { // mid-epoch: 6 batches per epoch
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
				<-ctx.Done()
			}
		}
		_, err = b.Solve(ctx, p)
		stop()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("%s: interrupted run: got %v, want ErrInterrupted", name, err)
		}
		if s, err := loadState(b.Run.Checkpoint, checkpointHash(t, b, p), len(finalParams(t, b.Run.Checkpoint))); err != nil || s.Step != 8 || s.Epoch != 1 {
			t.Fatalf("%s: checkpoint after SIGTERM: %v, err %v; want step 8 of epoch 1", name, s, err)
		}
		c := smallMethod(t, name, dirB)
		c.Run.Resume = c.Run.Checkpoint
		c.hooks.inject = nanOnce(10)
		rc, err := c.Solve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if pa, pc := finalParams(t, a.Run.Checkpoint), finalParams(t, c.Run.Checkpoint); !reflect.DeepEqual(pa, pc) {
			t.Errorf("%s: resumed weights differ from the uninterrupted run", name)
		}
		if !reflect.DeepEqual(ra.U.RawMatrix().Data, rc.U.RawMatrix().Data) {
			t.Errorf("%s: resumed U differs", name)
		}
		for _, k := range []string{"loss_data", "loss_ep", "re_monitor"} {
			if !reflect.DeepEqual(ra.Series[k], rc.Series[k]) {
				t.Errorf("%s: series %s: %v resumed, %v uninterrupted", name, k, rc.Series[k], ra.Series[k])
			}
		}
		if ra.Values["steps"] != 18 || rc.Values["steps"] != 18 || ra.Values["retries"] != 1 || rc.Values["retries"] != 1 {
			t.Errorf("%s: steps %v and %v, retries %v and %v, want 18 and 1", name, ra.Values["steps"], rc.Values["steps"], ra.Values["retries"], rc.Values["retries"])
		}
	}
}

// TestResumeRefusesOtherConfig: a checkpoint is refused by a run with
// other settings (Config) or other data, and accepted by a run that changes
// only run settings (Run: checkpoint path, workers, monitoring).
func TestResumeRefusesOtherConfig(t *testing.T) {
	dir := t.TempDir()
	p := tinyProblem(11, 24)
	m := smallMethod(t, "epdl-nd", dir)
	m.Config.Epochs = 1
	if _, err := m.Solve(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	other := tinyProblem(12, 24)
	// The same nodes joined differently: another Laplacian.
	remeshed := tinyProblem(11, 24)
	remeshed.Heart = flipEdge(t, remeshed.Heart)
	for _, c := range []struct {
		what   string
		change func(*Config)
		p      *inverse.Problem
	}{
		{"lambda", func(c *Config) { c.Lambda = 0.3 }, p},
		{"seed", func(c *Config) { c.Seed = 2 }, p},
		{"data", func(c *Config) {}, other},
		{"heart triangles", func(c *Config) {}, remeshed},
	} {
		m2 := &Method{Config: m.Config, Run: m.Run}
		m2.Run.Checkpoint = filepath.Join(t.TempDir(), "x.gob")
		m2.Run.Resume = m.Run.Checkpoint
		c.change(&m2.Config)
		_, err := m2.Solve(context.Background(), c.p)
		if !errors.Is(err, ErrConfigMismatch) || !strings.Contains(err.Error(), "config hash") {
			t.Errorf("other %s: got %v, want a config-hash refusal", c.what, err)
		}
	}
	// The same configuration resumes (and has nothing left to do), with
	// other run settings too.
	m3 := &Method{Config: m.Config, Run: m.Run}
	m3.Run.Resume = m.Run.Checkpoint
	m3.Run.Checkpoint = filepath.Join(t.TempDir(), "y.gob")
	m3.Run.Workers, m3.Run.MonitorEvery = 1, 0
	if _, err := m3.Solve(context.Background(), p); err != nil {
		t.Errorf("same config, other run settings: %v", err)
	}
}

// TestNonFiniteLoss: one NaN loss rolls back to the start of the epoch and
// halves the learning rate, and training then finishes; a NaN in the data
// makes every loss NaN and training gives up with ErrNonFinite.
func TestNonFiniteLoss(t *testing.T) {
	p := tinyProblem(11, 24)
	m := smallMethod(t, "eandarn", t.TempDir())
	m.hooks.inject = nanOnce(9)
	r, err := m.Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Values["retries"] != 1 || r.Values["lr_scale"] != 0.5 || r.Values["steps"] != 18 {
		t.Errorf("after one NaN: retries %v lr_scale %v steps %v, want 1, 0.5, 18", r.Values["retries"], r.Values["lr_scale"], r.Values["steps"])
	}

	bad := tinyProblem(11, 24)
	bad.BSPM.Set(3, 5, math.NaN())
	m = smallMethod(t, "eandarn", t.TempDir())
	m.Config.BatchFrames = 24 // every step sees the NaN
	_, err = m.Solve(context.Background(), bad)
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN data: got %v, want ErrNonFinite", err)
	}
}

// flipEdge returns a copy of m with the edge shared by triangle 0 and its
// neighbour across triangle 0's first edge replaced by the other diagonal
// of their quadrilateral: the same nodes, other triangles.
func flipEdge(t *testing.T, m *mesh.Mesh) *mesh.Mesh {
	t.Helper()
	out := &mesh.Mesh{Nodes: m.Nodes, Tris: slices.Clone(m.Tris)}
	a := out.Tris[0]
	for j := 1; j < len(out.Tris); j++ {
		b := out.Tris[j]
		for k := range 3 {
			if b[k] == a[1] && b[(k+1)%3] == a[0] {
				c := b[(k+2)%3]
				out.Tris[0], out.Tris[j] = [3]int{a[0], c, a[2]}, [3]int{c, a[1], a[2]}
				return out
			}
		}
	}
	t.Fatal("no neighbour across the first edge of triangle 0")
	return nil
}

// TestDataScale: data far off the model's normalized scale (R and the BSPM
// both 1e30 times larger, which overflowed float32's data gradient and
// ended in ErrNonFinite, exit status 1; or a BSPM 1e4 times too large
// for R) are refused before training as an input error, in either
// precision; a common factor of 10 (a realistic transfer gain) trains.
func TestDataScale(t *testing.T) {
	for _, c := range []struct {
		name      string
		r, y      float64 // factors on R and the BSPM
		precision string
		refused   bool
	}{
		{"as is", 1, 1, "float32", false},
		{"R and BSPM × 10", 10, 10, "float32", false},
		{"R and BSPM × 1e30", 1e30, 1e30, "float32", true},
		{"R and BSPM × 1e30, float64", 1e30, 1e30, "float64", true},
		{"BSPM × 1e4", 1, 1e4, "float32", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := tinyProblem(11, 24)
			p.R.Scale(c.r, p.R)
			p.BSPM.Scale(c.y, p.BSPM)
			m := smallMethod(t, "eandarn", t.TempDir())
			m.Config.Precision = c.precision
			r, err := m.Solve(context.Background(), p)
			switch {
			case c.refused && !(errors.Is(err, ErrDataScale) && errors.Is(err, inverse.ErrInput)):
				t.Errorf("got %v, want ErrDataScale as an input error", err)
			case !c.refused && err != nil:
				t.Errorf("refused: %v", err)
			case !c.refused && !(r.Values["ratio0"] >= minInitRatio):
				t.Errorf("ratio0 %g trained", r.Values["ratio0"])
			}
		})
	}
}
