package pinn

import (
	"context"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/eandarn/eandarn/solver/inverse"
)

// TestConfigs checks the registered names, the paper's architectures and
// the refusals of bad settings.
func TestConfigs(t *testing.T) {
	want := map[string]struct {
		layers, width, blocks int
		lap, time             Deriv
		boundary              bool
	}{
		"epdl-ad":  {10, 10, 0, AD, AD, true},
		"epdl-dnd": {10, 10, 0, ND, AD, false},
		"epdl-nd":  {10, 10, 0, ND, ND, false},
		"eandarn":  {10, 15, 3, ND, AD, false},
	}
	for _, name := range Names {
		cfg, err := DefaultConfig(name)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		if cfg.Layers != w.layers || cfg.Width != w.width || cfg.Blocks != w.blocks || cfg.Laplacian != w.lap ||
			cfg.TimeDeriv != w.time || cfg.Boundary != w.boundary || cfg.Lambda != 0.1 {
			t.Errorf("%s: %+v", name, cfg)
		}
		if _, err := New(name, cfg, DefaultRun()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := DefaultConfig("eand-arn"); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("unknown name: %v", err)
	}
	base, _ := DefaultConfig("eandarn")
	for _, c := range []struct {
		what   string
		change func(*Config)
	}{
		{"other name", func(c *Config) { c.Name = "epdl-nd" }},
		{"AD laplacian with ND time", func(c *Config) { c.Laplacian, c.TimeDeriv = AD, ND }},
		{"zero batch", func(c *Config) { c.BatchFrames = 0 }},
		{"negative lr", func(c *Config) { c.LR = -1 }},
		{"negative eps delta", func(c *Config) { c.EpsDelta = -0.1 }},
		{"unknown operator", func(c *Config) { c.Operator = "cotan" }},
		{"negative lb inputs", func(c *Config) { c.LBInputs = -1 }},
		{"too many lb inputs", func(c *Config) { c.LBInputs = maxLBInputs + 1 }},
		{"lb inputs with the AD Laplacian", func(c *Config) { c.Laplacian, c.TimeDeriv, c.LBInputs = AD, AD, 4 }},
		{"physics refine below -1", func(c *Config) { c.PhysicsRefine = -2 }},
		{"physics refine too deep", func(c *Config) { c.PhysicsRefine = maxPhysicsRefine + 1 }},
	} {
		cfg := base
		c.change(&cfg)
		if _, err := New("eandarn", cfg, DefaultRun()); err == nil {
			t.Errorf("%s: accepted", c.what)
		}
	}
}

// TestSolveRefusesBadProblems: shape mismatches, too few frames and a
// non-uniform time axis are errors, not panics.
func TestSolveRefusesBadProblems(t *testing.T) {
	cfg, _ := DefaultConfig("epdl-nd")
	cfg.Epochs = 1
	for _, c := range []struct {
		what   string
		change func(p *inverse.Problem, cfg *Config)
		want   string
	}{
		{"short time axis", func(p *inverse.Problem, _ *Config) { p.Time = p.Time[:5] }, "want R m x n"},
		{"four frames", func(p *inverse.Problem, _ *Config) {
			p.Time, p.BSPM = p.Time[:4], mat.DenseCopyOf(p.BSPM.Slice(0, 12, 0, 4))
		}, "at least 5"},
		{"uneven time", func(p *inverse.Problem, _ *Config) { p.Time[3] += 0.01 }, "not uniform"},
		{"no heart", func(p *inverse.Problem, _ *Config) { p.Heart = nil }, "lacks"},
		{"more lb inputs than nodes", func(p *inverse.Problem, cfg *Config) { cfg.LBInputs = len(p.Heart.Nodes) }, "non-constant eigenfunctions"},
	} {
		p, cfg := tinyProblem(1, 12), cfg
		c.change(p, &cfg)
		_, err := (&Method{Config: cfg, Run: DefaultRun()}).Solve(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.what, err, c.want)
		}
	}
}
