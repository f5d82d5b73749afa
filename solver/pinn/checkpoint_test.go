package pinn

import (
	"context"
	"encoding/gob"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eandarn/eandarn/solver/inverse"
)

// TestResumeRefusesCraftedState: a checkpoint whose hash matches the run
// but whose state is out of range (edited by hand, or damaged in a way gob
// still decodes) is refused as bad input before training continues,
// instead of panicking or silently skipping steps; the state as written
// resumes.
func TestResumeRefusesCraftedState(t *testing.T) {
	dir := t.TempDir()
	p := tinyProblem(11, 24)
	m := smallMethod(t, "eandarn", dir)
	m.Config.Epochs = 2
	ctx, cancel := context.WithCancel(context.Background())
	m.hooks.afterStep = func(step int) {
		if step == 8 { // in the second epoch: 24 frames / 4 per batch = 6 steps per epoch
			cancel()
		}
	}
	if _, err := m.Solve(ctx, p); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupting: %v", err)
	}
	read := func() *state {
		f, err := os.Open(m.Run.Checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var s state
		if err := gob.NewDecoder(f).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return &s
	}
	orig := read()
	if orig.Epoch != 1 || orig.Pos != 2 || orig.Good == nil {
		t.Fatalf("checkpoint at epoch %d position %d (rollback snapshot %v), want epoch 1 position 2", orig.Epoch, orig.Pos, orig.Good != nil)
	}
	for _, c := range []struct {
		name string
		edit func(s *state)
		want string
	}{
		{"order index out of range", func(s *state) { s.Order[0] = 1 << 20 }, "permutation"},
		{"order index repeated", func(s *state) { s.Order[1] = s.Order[0] }, "permutation"},
		{"short order", func(s *state) { s.Order = s.Order[:3] }, "batch order of 3 entries"},
		{"position past the end", func(s *state) { s.Pos = 7 }, "batch position 7 outside [0, 6]"},
		{"negative position", func(s *state) { s.Pos = -1 }, "batch position -1"},
		{"epoch past the end", func(s *state) { s.Epoch = 9 }, "epoch 9 outside [0, 2]"},
		{"history too short", func(s *state) { s.LossData = nil }, "history"},
		{"α values of another network", func(s *state) { s.Alpha[0] = s.Alpha[0][:1] }, "ARN α values"},
		{"learning-rate scale", func(s *state) { s.LRScale = 0 }, "learning-rate scale"},
		{"retries", func(s *state) { s.Retries = 99 }, "retries"},
		{"random generator", func(s *state) { s.RNG = []byte("nope") }, "random generator"},
		{"rollback snapshot", func(s *state) { s.Good.Pos = 99 }, "rollback snapshot"},
	} {
		s := read()
		c.edit(s)
		path := filepath.Join(dir, "crafted.gob")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(gob.NewEncoder(f).Encode(s), f.Close()); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		m2 := &Method{Config: m.Config, Run: m.Run}
		m2.Run.Resume, m2.Run.Checkpoint = path, path
		_, err = m2.Solve(context.Background(), p)
		if !errors.Is(err, inverse.ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an input error mentioning %q", c.name, err, c.want)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("%s: the refused checkpoint was rewritten", c.name)
		}
	}
	m3 := &Method{Config: m.Config, Run: m.Run}
	m3.Run.Resume = m.Run.Checkpoint
	if _, err := m3.Solve(context.Background(), p); err != nil {
		t.Errorf("the checkpoint as written: %v", err)
	}
}
