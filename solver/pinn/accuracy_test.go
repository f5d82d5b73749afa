package pinn

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eandarn/eandarn/solver/ap"
	"github.com/eandarn/eandarn/solver/inverse"
	"github.com/eandarn/eandarn/solver/mesh"
	"github.com/eandarn/eandarn/solver/metrics"
	"github.com/eandarn/eandarn/solver/reg"
	"github.com/eandarn/eandarn/solver/synth"
)

// The default dataset (DESIGN §3, synth.Default), built once.
var clean struct {
	once sync.Once
	p    *inverse.Problem
	err  error
}

func cleanDataset(tb testing.TB) *inverse.Problem {
	tb.Helper()
	clean.once.Do(func() { clean.p, clean.err = synth.Default() })
	if clean.err != nil {
		tb.Fatalf("default dataset: %v", clean.err)
	}
	return clean.p
}

// noisy returns the default dataset with N(0, σ²) noise added to the BSPM
// from the given seed, by inverse.AddNoise: the data eandarn-batch -noise σ
// -seed seed solves.
func noisy(tb testing.TB, sigma float64, seed uint64) *inverse.Problem {
	p := *cleanDataset(tb)
	p.BSPM = inverse.AddNoise(p.BSPM, sigma, seed)
	return &p
}

type score struct{ re, cc, mse float64 }

func scoreOf(r *inverse.Result, p *inverse.Problem) score {
	return score{metrics.RE(r.U, p.TruthU), metrics.CC(r.U, p.TruthU), metrics.MSE(r.U, p.TruthU)}
}

func meanStd(xs []float64) (float64, float64) {
	var m, s float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	if len(xs) > 1 {
		s /= float64(len(xs) - 1)
	}
	return m, math.Sqrt(s)
}

func summary(ss []score) string {
	var re, cc, mse []float64
	for _, s := range ss {
		re, cc, mse = append(re, s.re), append(cc, s.cc), append(mse, s.mse)
	}
	a, b := meanStd(re)
	c, d := meanStd(cc)
	e, f := meanStd(mse)
	return fmt.Sprintf("RE %.4f ± %.4f  CC %.4f ± %.4f  MSE %.5f ± %.5f", a, b, c, d, e, f)
}

// solveScored trains one network with cfg and the default run settings on
// p and returns the result, its score against the truth and the wall time.
func solveScored(t *testing.T, cfg Config, p *inverse.Problem) (*inverse.Result, score, time.Duration) {
	t.Helper()
	start := time.Now()
	r, err := (&Method{Config: cfg, Run: DefaultRun()}).Solve(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return r, scoreOf(r, p), time.Since(start).Round(time.Second)
}

func accuracyEnabled(t *testing.T) {
	if os.Getenv("EANDARN_ACCURACY") != "1" {
		t.Skip("accuracy runs take minutes: set EANDARN_ACCURACY=1 (make accuracy)")
	}
}

// accuracySeeds is the number of seeds (1…n) of the multi-seed accuracy
// runs: EANDARN_ACCURACY_SEEDS, or 3.
func accuracySeeds() uint64 {
	if s, err := strconv.Atoi(os.Getenv("EANDARN_ACCURACY_SEEDS")); err == nil && s > 0 {
		return uint64(s)
	}
	return 3
}

// TestAccuracyEANDARN trains eandarn with its default settings on the
// default dataset, 3 seeds (noise and network), at σ = 0.01 and σ = 0.1:
// issue 14's targets, mean RE ≤ 0.030 with std ≤ 0.004 at σ = 0.01 and
// mean RE ≤ 0.045 at σ = 0.1; every run with CC ≥ 0.99 and a lower RE than
// STRE and Tikhonov-2 (GCV) on the same noisy data.
func TestAccuracyEANDARN(t *testing.T) {
	accuracyEnabled(t)
	for _, c := range []struct {
		sigma, maxRE, maxStd, minCC float64
	}{{0.01, 0.030, 0.004, 0.99}, {0.1, 0.045, math.Inf(1), 0.99}} {
		var ours, stre, tik []score
		for seed := uint64(1); seed <= 3; seed++ {
			p := noisy(t, c.sigma, seed)
			cfg, _ := DefaultConfig("eandarn")
			cfg.Seed = seed
			r, s, took := solveScored(t, cfg, p)
			ours = append(ours, s)
			t.Logf("eandarn σ=%g seed %d: RE %.4f CC %.4f MSE %.5f ratio0 %.3g in %v", c.sigma, seed, s.re, s.cc, s.mse, r.Values["ratio0"], took)
			if s.cc < c.minCC {
				t.Errorf("eandarn σ=%g seed %d: CC %.4f, want ≥ %g", c.sigma, seed, s.cc, c.minCC)
			}
			lap := mesh.Laplacian(p.Heart)
			rs, err := reg.SolveSTRE(context.Background(), p.R, lap, p.BSPM, reg.Options{})
			if err != nil {
				t.Fatal(err)
			}
			gamma, err := reg.Operator(2, p.Heart)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := reg.SolveTikhonov(context.Background(), p.R, gamma, p.BSPM, reg.Options{})
			if err != nil {
				t.Fatal(err)
			}
			stre, tik = append(stre, scoreOf(rs, p)), append(tik, scoreOf(rt, p))
			if s.re >= stre[len(stre)-1].re || s.re >= tik[len(tik)-1].re {
				t.Errorf("σ=%g seed %d: eandarn RE %.4f not below STRE %.4f and Tikhonov-2 %.4f", c.sigma, seed, s.re, stre[len(stre)-1].re, tik[len(tik)-1].re)
			}
		}
		t.Logf("σ=%g eandarn    %s", c.sigma, summary(ours))
		res := make([]float64, len(ours))
		for k, s := range ours {
			res[k] = s.re
		}
		if m, sd := meanStd(res); m > c.maxRE || sd > c.maxStd {
			t.Errorf("eandarn σ=%g: RE %.4f ± %.4f over 3 seeds, want mean ≤ %g, std ≤ %g", c.sigma, m, sd, c.maxRE, c.maxStd)
		}
		t.Logf("σ=%g stre       %s", c.sigma, summary(stre))
		t.Logf("σ=%g tikhonov2  %s", c.sigma, summary(tik))
	}
}

// TestAccuracyEnsemble trains eandarn as an ensemble of 3 (-ensemble 3)
// with its default settings on the default dataset at σ = 0.01 for seeds
// 1…3 (or EANDARN_ACCURACY_SEEDS; noise and networks, as eandarn-batch
// -seed s): issue 14's ensemble targets on this suite, over the seeds as
// the realistic suite (cmd/eandarn-batch) reads them: the mean over seeds
// of the Spearman correlation of the per-node spread with the per-node
// error of the mean ≥ 0.5, and the mean's RE, averaged over seeds, no
// worse than the median over seeds of the best member's RE.
func TestAccuracyEnsemble(t *testing.T) {
	accuracyEnabled(t)
	var res, rhos, bests []float64
	for seed := uint64(1); seed <= accuracySeeds(); seed++ {
		p := noisy(t, 0.01, seed)
		cfg, _ := DefaultConfig("eandarn")
		cfg.Seed = seed
		run := DefaultRun()
		run.Ensemble = 3
		start := time.Now()
		r, err := (&Method{Config: cfg, Run: run}).Solve(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		re, members := metrics.RE(r.U, p.TruthU), slices.Sorted(slices.Values(r.Series["member_re"]))
		rho := metrics.SpreadSkill(r.UStd, r.U, p.TruthU)
		t.Logf("eandarn -ensemble 3 σ=0.01 seed %d: RE %.4f, members %.4f, Spearman %.2f, near-lowest RE %.4f (%g kept) in %v", seed, re, members, rho,
			r.Values["ensemble_near_lowest_re"], r.Values["ensemble_near_lowest"], time.Since(start).Round(time.Second))
		res, rhos, bests = append(res, re), append(rhos, rho), append(bests, members[0])
	}
	re, _ := meanStd(res)
	rho, _ := meanStd(rhos)
	slices.Sort(bests)
	best := (bests[(len(bests)-1)/2] + bests[len(bests)/2]) / 2
	t.Logf("over %d seeds: RE %.4f, median best member %.4f, Spearman %.2f", len(res), re, best, rho)
	if rho < 0.5 {
		t.Errorf("Spearman of spread against error %.2f over %d seeds, want ≥ 0.5", rho, len(rhos))
	}
	if re > best {
		t.Errorf("ensemble RE %.4f over %d seeds above the median of its best members' %.4f", re, len(res), best)
	}
}

// TestAccuracyVariants records the EP-DL variants' RE/CC/MSE (mean ± std
// over 3 seeds, or EANDARN_ACCURACY_SEEDS) at σ = 0.01 with default
// settings, and eandarn's with the paper's configuration (variantConfig) at
// σ = 0.01 and 0.1 (eandarn's defaults are TestAccuracyEANDARN's);
// EANDARN_ACCURACY_VARIANTS (comma-separated names, eandarn-paper for the
// latter) restricts the variants. It asserts nothing beyond finishing (the
// paper's ordering is reported, not required).
func TestAccuracyVariants(t *testing.T) {
	accuracyEnabled(t)
	names := []string{"epdl-ad", "epdl-dnd", "epdl-nd", "eandarn-paper"}
	if v := os.Getenv("EANDARN_ACCURACY_VARIANTS"); v != "" {
		names = strings.Split(v, ",")
	}
	for _, name := range names {
		sigmas := []float64{0.01}
		if name == "eandarn-paper" {
			sigmas = append(sigmas, 0.1)
		}
		for _, sigma := range sigmas {
			var ss []score
			for seed := uint64(1); seed <= accuracySeeds(); seed++ {
				p := noisy(t, sigma, seed)
				cfg, err := variantConfig(name)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Seed = seed
				r, s, took := solveScored(t, cfg, p)
				ss = append(ss, s)
				t.Logf("%s σ=%g seed %d: RE %.4f CC %.4f MSE %.5f ratio0 %.3g bad_init %v in %v", name, sigma, seed, s.re, s.cc, s.mse, r.Values["ratio0"], r.Values["bad_init"], took)
			}
			t.Logf("%-13s σ=%g %s", name, sigma, summary(ss))
		}
	}
}

// variantConfig is DefaultConfig(name), or for "eandarn-paper" eandarn as
// the paper configures it (README, EAND-ARN: -time-deriv nd -lb-inputs 0
// -physics-refine 0 -time-curriculum 0 -epochs 120), with the guarded ε of
// the defaults.
func variantConfig(name string) (Config, error) {
	if name != "eandarn-paper" {
		return DefaultConfig(name)
	}
	c, err := DefaultConfig("eandarn")
	c.TimeDeriv, c.LBInputs, c.PhysicsRefine, c.TimeCurriculum, c.Epochs = ND, 0, 0, 0, 120
	return c, err
}

// TestBadInitRates measures, on the default dataset at σ = 0.01, how often
// the initial loss ratio λ·L_EP/L_D exceeds 10 over 20 network seeds, for
// NN5 (FNN 10x15), NN6 (ARN) in the paper's configuration (variantConfig: ND
// losses, no eigenfunction inputs, no physics refinement) and the EP-DL_AD
// FNN 10x10,
// with the paper's raw ε and with the guarded ε (the analogue of the
// paper's Table II, which counts 83% for NN5 and 20% for NN6). It asserts
// nothing: the numbers go to the log and the README.
func TestBadInitRates(t *testing.T) {
	accuracyEnabled(t)
	p := noisy(t, 0.01, 1)
	for _, c := range []struct {
		label, name string
		blocks      int
		width       int
		time        Deriv
	}{{"NN5 nd", "eandarn-paper", 0, 15, ND}, {"NN6 nd", "eandarn-paper", 3, 15, ND}, {"FNN10x10 ad", "epdl-ad", 0, 10, AD}} {
		for _, eps := range []float64{0, ap.SuggestedEpsDelta} {
			var bad int
			var ratios []float64
			for seed := uint64(1); seed <= 20; seed++ {
				cfg, err := variantConfig(c.name)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Blocks, cfg.Width, cfg.EpsDelta, cfg.Seed, cfg.TimeDeriv = c.blocks, c.width, eps, seed, c.time
				o := setupT(t, &Method{Config: cfg}, p)
				r, err := o.initRatio(cfg.BatchFrames)
				if err != nil {
					t.Fatal(err)
				}
				ratios = append(ratios, r)
				if r > cfg.BadInitRatio || math.IsNaN(r) {
					bad++
				}
			}
			t.Logf("%-12s EpsDelta %.2g: bad init %2d/20  ratio0 %.3g", c.label, eps, bad, ratios)
		}
	}
}
